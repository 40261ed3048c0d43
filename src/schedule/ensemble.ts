/**
 * ACT temporal ensembling (Zhao et al. 2023): every chunk that still covers the tick
 * votes, with weight w_i = exp(-m * i) where i = 0 is the OLDEST prediction, so older
 * predictions weigh more and the output changes smoothly. Gripper dims listed in
 * gripperDims take the newest chunk's value, so an open/close command is not averaged
 * into a half-open one.
 */
import type { ActionChunk } from '../policy/types.ts';
import { checkInt, ScheduleBase } from './base.ts';
import { ScheduleError } from './errors.ts';
import type { EnsembleOptions } from './types.ts';

/** ACT's default m */
export const ACT_ENSEMBLE_DECAY = 0.01;

/** Normalized weights for `count` predictions, oldest first: exp(-decay * i) / sum. */
export function ensembleWeights(count: number, decay: number): Float64Array {
  const w = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) sum += w[i] = Math.exp(-decay * i);
  for (let i = 0; i < count; i++) w[i] /= sum;
  return w;
}

interface Entry {
  readonly chunk: ActionChunk;
  readonly obsTick: number;
}

export class EnsembleSchedule extends ScheduleBase {
  readonly mode = 'ensemble' as const;
  private readonly decay: number;
  private readonly gripperDims: readonly number[];
  /** oldest first (accept() only takes chunks at least as new as the latest) */
  private entries: Entry[] = [];

  constructor(opts: Omit<EnsembleOptions, 'mode'> = {}) {
    super(opts.actionsPerChunk ?? 1);
    this.decay = opts.decay ?? ACT_ENSEMBLE_DECAY;
    if (!(this.decay >= 0) || !Number.isFinite(this.decay)) {
      throw new ScheduleError(`ensemble decay is ${this.decay}: it must be a finite number >= 0 (ACT uses 0.01)`);
    }
    this.gripperDims = (opts.gripperDims ?? []).map((d) => checkInt(d, 0, 'ensemble gripperDims entry'));
  }

  protected accept(chunk: ActionChunk, obsTick: number): void {
    for (const d of this.gripperDims) {
      if (d >= chunk.dim) throw new ScheduleError(`ensemble gripperDims entry ${d} is outside the action dim ${chunk.dim}: list indices < ${chunk.dim}`);
    }
    const now = this.nextTick;
    this.entries = this.entries.filter((e) => e.obsTick + e.chunk.horizon > now);
    this.entries.push({ chunk, obsTick });
  }

  protected lookup(tick: number): Float32Array | null {
    const live = this.entries.filter((e) => tick >= e.obsTick && tick < e.obsTick + e.chunk.horizon);
    if (live.length === 0) return null;
    const w = ensembleWeights(live.length, this.decay);
    const dim = this.dim;
    const acc = new Float64Array(dim);
    for (let i = 0; i < live.length; i++) {
      const { chunk, obsTick } = live[i];
      const row = (tick - obsTick) * dim;
      for (let j = 0; j < dim; j++) acc[j] += w[i] * chunk.actions[row + j];
    }
    const newest = live[live.length - 1];
    const newestRow = (tick - newest.obsTick) * dim;
    for (const d of this.gripperDims) acc[d] = newest.chunk.actions[newestRow + d];
    return Float32Array.from(acc);
  }

  protected clear(): void {
    this.entries = [];
  }
}
