/** Conversion between clock time (s) and integer control ticks. */
import { ScheduleError } from './errors.ts';

/** Tick k runs at time t0 + k / rateHz. */
export interface Timebase {
  /** time of tick 0, s (same clock as observation stamps) */
  readonly t0: number;
  /** control rate, Hz */
  readonly rateHz: number;
}

function checkTimebase(tb: Timebase): void {
  if (!Number.isFinite(tb.t0)) throw new ScheduleError(`timebase t0 ${tb.t0} is not finite: set it to the stamp of tick 0, s`);
  if (!(tb.rateHz > 0) || !Number.isFinite(tb.rateHz)) {
    throw new ScheduleError(`timebase rateHz ${tb.rateHz} must be a positive finite number: set it to the control rate, Hz`);
  }
}

/** Nearest tick to a stamp, s -> tick. */
export function stampToTick(stamp: number, tb: Timebase): number {
  checkTimebase(tb);
  return Math.round((stamp - tb.t0) * tb.rateHz);
}

/** Time a tick is meant to run at, tick -> s. */
export function tickToStamp(tick: number, tb: Timebase): number {
  checkTimebase(tb);
  return tb.t0 + tick / tb.rateHz;
}
