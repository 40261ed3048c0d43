/**
 * What every strategy shares: chunk validation, the monotonic tick guard, holding the
 * last action when chunks run out, and the starved-tick counter.
 */
import type { ActionChunk } from '../policy/types.ts';
import { ScheduleError } from './errors.ts';
import type { ChunkSchedule, ScheduleMode } from './types.ts';

/** Throws unless n is an integer >= min; `what` names the option. */
export function checkInt(n: number, min: number, what: string): number {
  if (!Number.isInteger(n) || n < min) throw new ScheduleError(`${what} is ${n}: it must be an integer >= ${min}`);
  return n;
}

export abstract class ScheduleBase implements ChunkSchedule {
  abstract readonly mode: ScheduleMode;
  /** action dimension, fixed by the first chunk of an episode (0 = none yet) */
  protected dim = 0;
  /** obsTick of the latest accepted chunk */
  protected latestObsTick = -Infinity;
  private lastTick = -Infinity;
  private held: Float32Array | null = null;
  private starved = 0;

  constructor(protected readonly actionsPerChunk: number) {
    checkInt(actionsPerChunk, 1, `${new.target.name} actionsPerChunk`);
  }

  get starvedTicks(): number {
    return this.starved;
  }

  /** first tick not yet passed to next() (-Infinity before any) */
  protected get nextTick(): number {
    return this.lastTick + 1;
  }

  onChunk(chunk: ActionChunk, obsTick: number): boolean {
    checkInt(obsTick, Number.MIN_SAFE_INTEGER, 'chunk obsTick');
    if (chunk.horizon < 1 || chunk.dim < 1 || chunk.actions.length !== chunk.horizon * chunk.dim) {
      throw new ScheduleError(
        `chunk for '${chunk.embodiment}' has ${chunk.actions.length} values for horizon ${chunk.horizon} x dim ${chunk.dim}: the policy must return horizon * dim actions`,
      );
    }
    if (this.dim !== 0 && chunk.dim !== this.dim) {
      throw new ScheduleError(
        `chunk for '${chunk.embodiment}' has action dim ${chunk.dim} but earlier chunks had ${this.dim}: one schedule serves one embodiment; call reset() when switching`,
      );
    }
    if (this.actionsPerChunk > chunk.horizon) {
      throw new ScheduleError(
        `${this.mode} actionsPerChunk ${this.actionsPerChunk} exceeds the chunk horizon ${chunk.horizon}: lower actionsPerChunk to at most ${chunk.horizon}`,
      );
    }
    if (obsTick < this.latestObsTick) return false;
    if (obsTick + chunk.horizon <= this.nextTick) return false;
    this.dim = chunk.dim;
    this.accept(chunk, obsTick);
    this.latestObsTick = obsTick;
    return true;
  }

  next(tick: number): Float32Array | null {
    checkInt(tick, Number.MIN_SAFE_INTEGER, 'tick');
    if (tick < this.lastTick) {
      throw new ScheduleError(`tick ${tick} is before the last executed tick ${this.lastTick}: ticks must not go backwards; call reset() to start a new episode`);
    }
    const a = this.lookup(tick);
    const repeat = tick === this.lastTick;
    this.lastTick = tick;
    if (a !== null) {
      this.held = a;
      return a.slice();
    }
    if (this.held === null) return null;
    if (!repeat) this.starved++;
    return this.held.slice();
  }

  covers(tick: number): boolean {
    return this.lookup(tick) !== null;
  }

  ticksUntilDue(tick: number): number {
    return Number.isFinite(this.latestObsTick) ? this.latestObsTick + this.actionsPerChunk - tick : 0;
  }

  reset(): void {
    this.dim = 0;
    this.latestObsTick = -Infinity;
    this.lastTick = -Infinity;
    this.held = null;
    this.starved = 0;
    this.clear();
  }

  /** store an accepted chunk (validated, not stale, not out of order) */
  protected abstract accept(chunk: ActionChunk, obsTick: number): void;
  /** the action for tick from the stored chunks, or null if none covers it; must not change what later lookups return */
  protected abstract lookup(tick: number): Float32Array | null;
  /** drop stored chunks */
  protected abstract clear(): void;
}
