/**
 * Real-time-chunking style blending (RTC, arXiv 2506.07339, simplified to output-space
 * blending; no inpainting inside the policy).
 *
 * The schedule keeps a plan: the actions it will output for the coming ticks. A chunk
 * computed from the observation at tick s arrives when ticks up to now - 1 have already
 * run (d = now - s is the inference delay). Ticks before now are history and the chunk's
 * first d entries are skipped. For ticks now, now+1, ..., now+blendSteps-1 the new plan
 * is old + w_k * (new - old) with w ramping up to 1, after which the chunk alone is used.
 * "old" is the previous plan (itself possibly mid-blend), holding its last action past
 * its end. If the plan runs out before a new chunk arrives, the last action is held and
 * the tick counted as starved.
 *
 * No jump: per dimension, with A the old plan, B the new chunk and w the ramp,
 *   out(t+1) - out(t) = (1-w') dA + w' dB + (w' - w) (B(t) - A(t)),
 * so |out(t+1) - out(t)| <= max(|dA|, |dB|) + maxRampStep * max |B - A|,
 * where maxRampStep = max_k (w_k - w_{k-1}) with w_{-1} = 0 (1/blendSteps for 'linear').
 * Switching at once (blendSteps = 0) jumps by the full |B - A|.
 */
import type { ActionChunk } from '../policy/types.ts';
import { checkInt, ScheduleBase } from './base.ts';
import { ScheduleError } from './errors.ts';
import { BLEND_RAMPS, type BlendOptions, type BlendRamp } from './types.ts';

/**
 * Weight of the new chunk on the k-th tick of a blend, k = 0..steps-1; increasing, last = 1.
 * 'linear': (k+1)/steps. 'exponential': the complement of RTC's soft mask,
 * 1 - c (e^c - 1)/(e - 1) with c = 1 - (k+1)/steps: moves off the old plan faster at first.
 */
export function rampWeights(steps: number, ramp: BlendRamp = 'linear'): Float64Array {
  checkInt(steps, 0, 'blendSteps');
  const w = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    const x = (k + 1) / steps;
    const c = 1 - x;
    w[k] = ramp === 'linear' ? x : 1 - (c * Math.expm1(c)) / Math.expm1(1);
  }
  return w;
}

/** Largest per-tick increase of the ramp weight, counting from 0 before the blend (1 when steps = 0). */
export function maxRampStep(steps: number, ramp: BlendRamp = 'linear'): number {
  const w = rampWeights(steps, ramp);
  let max = steps === 0 ? 1 : 0;
  for (let k = 0; k < steps; k++) max = Math.max(max, w[k] - (k === 0 ? 0 : w[k - 1]));
  return max;
}

export class BlendSchedule extends ScheduleBase {
  readonly mode = 'blend' as const;
  private readonly weights: Float64Array;
  /** planned actions for ticks planStart .. planStart + planLen - 1, row-major [planLen x dim] */
  private plan: Float32Array | null = null;
  private planStart = 0;
  private planLen = 0;

  constructor(opts: Omit<BlendOptions, 'mode'>) {
    super(opts.actionsPerChunk);
    const ramp = opts.ramp ?? 'linear';
    if (!BLEND_RAMPS.includes(ramp)) throw new ScheduleError(`blend ramp '${String(ramp)}' is unknown: use one of ${BLEND_RAMPS.join(', ')}`);
    this.weights = rampWeights(checkInt(opts.blendSteps, 0, 'blendSteps'), ramp);
  }

  protected accept(chunk: ActionChunk, obsTick: number): void {
    const dim = chunk.dim;
    const old = this.plan;
    // first tick still to execute; before any tick, the chunk's own first tick
    const now = Number.isFinite(this.nextTick) ? this.nextTick : obsTick;
    const rampStart = Math.max(now, obsTick);
    const start = old === null ? rampStart : now;
    const end = obsTick + chunk.horizon;
    const len = end - start;
    const plan = new Float32Array(len * dim);
    for (let t = start; t < end; t++) {
      const out = (t - start) * dim;
      // old plan at t, holding its first/last action outside its span
      const oldRow = old === null ? -1 : Math.min(Math.max(t - this.planStart, 0), this.planLen - 1) * dim;
      if (t < obsTick) {
        plan.set(old!.subarray(oldRow, oldRow + dim), out);
        continue;
      }
      const newRow = (t - obsTick) * dim;
      const k = t - rampStart;
      const w = old === null || k >= this.weights.length ? 1 : this.weights[k];
      for (let j = 0; j < dim; j++) {
        const b = chunk.actions[newRow + j];
        plan[out + j] = w === 1 ? b : old![oldRow + j] + w * (b - old![oldRow + j]);
      }
    }
    this.plan = plan;
    this.planStart = start;
    this.planLen = len;
  }

  protected lookup(tick: number): Float32Array | null {
    const k = tick - this.planStart;
    if (this.plan === null || k < 0 || k >= this.planLen) return null;
    return this.plan.slice(k * this.dim, (k + 1) * this.dim);
  }

  protected clear(): void {
    this.plan = null;
    this.planLen = 0;
  }
}
