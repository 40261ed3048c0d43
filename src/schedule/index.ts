export * from './types.ts';
export * from './errors.ts';
export * from './timebase.ts';
export { ReplanSchedule } from './replan.ts';
export { EnsembleSchedule, ensembleWeights, ACT_ENSEMBLE_DECAY } from './ensemble.ts';
export { BlendSchedule, rampWeights, maxRampStep } from './blend.ts';
export { createSchedule, scheduleFor, type ScheduleOverrides } from './create.ts';
export { ChunkExecutor, type ChunkExecutorOptions, type StepResult, type ExecutorStats } from './executor.ts';
