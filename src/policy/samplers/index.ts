export * from './types.ts';
export * from './schedule.ts';
export * from './ddpm.ts';
export * from './ddim.ts';
export * from './flow.ts';
export * from './streaming.ts';
export * from './rti.ts';
export * from './truncated.ts';
