import { BlendSchedule } from './blend.ts';
import { ScheduleError } from './errors.ts';
import { EnsembleSchedule } from './ensemble.ts';
import { ReplanSchedule } from './replan.ts';
import { SCHEDULE_MODES, type ChunkSchedule, type ScheduleOptions } from './types.ts';

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
