import { BlendSchedule } from './blend.ts';
import { ScheduleError } from './errors.ts';
import { EnsembleSchedule } from './ensemble.ts';
import { ReplanSchedule } from './replan.ts';
import { SCHEDULE_MODES, type ChunkSchedule, type ScheduleChoice, type ScheduleMode, type ScheduleOptions } from './types.ts';
import type { PolicyMetadata } from '../policy/types.ts';

/** Build the strategy named by opts.mode. */
export function createSchedule(opts: ScheduleOptions): ChunkSchedule {
  switch (opts.mode) {
    case 'replan':
      return new ReplanSchedule(opts);
    case 'ensemble':
      return new EnsembleSchedule(opts);
    case 'blend':
      return new BlendSchedule(opts);
    default:
      throw new ScheduleError(`schedule mode '${String((opts as { mode: unknown }).mode)}' is unknown: use one of ${SCHEDULE_MODES.join(', ')}`);
  }
}

/** What a caller chooses over a policy's defaults; anything left out comes from the package. */
export interface ScheduleOverrides {
  mode?: ScheduleMode;
  /** actions per chunk (ensemble: ticks between chunks) */
  actionsPerChunk?: number;
  blendSteps?: number;
  ramp?: ScheduleChoice['ramp'];
  decay?: number;
}

/**
 * The schedule a policy runs with: the caller's overrides over the package's own choice (manifest
 * `schedule` and `execute_length`), else execute-then-replan. The package's blend steps / decay
 * apply only when the mode is the package's. Ensemble queries every tick (ACT) unless the package
 * chose ensemble, where execute_length is its query interval; its gripper dims take the newest
 * chunk's value, so an open/close command is not averaged into a half-open one.
 */
export function scheduleFor(meta: PolicyMetadata, embodiment: string, o: ScheduleOverrides = {}): ScheduleOptions {
  const horizon = meta.horizon;
  const mode = o.mode ?? meta.schedule?.mode ?? 'replan';
  const own = meta.schedule?.mode === mode ? meta.schedule : undefined;
  if ((o.blendSteps !== undefined || o.ramp !== undefined) && mode !== 'blend') throw new ScheduleError(`blend steps / ramp were given, but ${meta.name} runs schedule '${mode}': choose mode blend, or drop them`);
  if (o.decay !== undefined && mode !== 'ensemble') throw new ScheduleError(`an ensemble decay was given, but ${meta.name} runs schedule '${mode}': choose mode ensemble, or drop it`);
  const perChunk = (fallback: number) => Math.min(o.actionsPerChunk ?? fallback, horizon);
  const executeLength = meta.executeLength ?? horizon;
  switch (mode) {
    case 'ensemble':
      return { mode, actionsPerChunk: perChunk(own ? executeLength : 1), decay: o.decay ?? own?.decay, gripperDims: meta.embodiments[embodiment]?.gripper_dims ?? [] };
    case 'blend':
      return { mode, actionsPerChunk: perChunk(executeLength), blendSteps: o.blendSteps ?? own?.blendSteps ?? 0, ramp: o.ramp ?? own?.ramp };
    case 'replan':
      return { mode, actionsPerChunk: perChunk(executeLength) };
    default:
      throw new ScheduleError(`schedule mode '${String(mode)}' is unknown: use one of ${SCHEDULE_MODES.join(', ')}`);
  }
}
