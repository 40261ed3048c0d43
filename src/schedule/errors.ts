import { ArmatureError } from '../errors.ts';

/** A chunk schedule or executor was configured or driven wrongly (bad option, tick going backwards, chunk shape). */
export class ScheduleError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('schedule.invalid', message, options);
  }
}
