/**
 * Analytic optimal models for tests: exact denoisers / velocity fields for point-mass,
 * Gaussian and two-point data distributions, so samplers can be checked against closed forms.
 */
import type { Denoiser, VelocityField } from '../../src/policy/samplers/types.ts';
import type { NoiseSchedule } from '../../src/policy/samplers/schedule.ts';

function alphaBarOfFloat(schedule: NoiseSchedule, t: number): number {
  const i = Math.round(t);
  if (Math.abs(t - i) > 1e-6 || i < 0 || i >= schedule.numTrainTimesteps) throw new Error(`non-grid timestep ${t}`);
  return schedule.alphasCumprod[i];
}

/**
 * Optimal denoiser for independent Gaussian data x0_j ~ N(mean_j, std^2) (std = 0: point mass),
 * per position i taking its own timestep t_i. Output per the schedule's prediction type.
 * `mean(i)` gives the [A] row of means for position i (may change between calls).
 */
export function gaussianDenoiser(o: {
  schedule: NoiseSchedule;
  actionDim: number;
  mean: (i: number) => ArrayLike<number>;
  std?: number;
  calls?: { t: number[][] };
}): Denoiser {
  const s2 = (o.std ?? 0) ** 2;
  return async (x, t) => {
    o.calls?.t.push(Array.from(t));
    const out = new Float32Array(x.length);
    const A = o.actionDim;
    for (let i = 0; i < t.length; i++) {
      const ab = alphaBarOfFloat(o.schedule, t[i]);
      const mu = o.mean(i);
      const k = Math.sqrt(ab) * s2 / (ab * s2 + 1 - ab); // E[x0|x] = mu + k (x - sqrt(ab) mu)
      for (let d = 0; d < A; d++) {
        const j = i * A + d;
        const x0 = mu[d] + k * (x[j] - Math.sqrt(ab) * mu[d]);
        out[j] = o.schedule.prediction === 'sample' ? x0 : (x[j] - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
      }
    }
    return out;
  };
}

/** Optimal epsilon denoiser for data in {+1 (prob w), -1 (prob 1 - w)} per element. */
export function twoPointDenoiser(o: { schedule: NoiseSchedule; actionDim: number; w: number }): Denoiser {
  return async (x, t) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < t.length; i++) {
      const ab = alphaBarOfFloat(o.schedule, t[i]);
      const sa = Math.sqrt(ab);
      for (let d = 0; d < o.actionDim; d++) {
        const j = i * o.actionDim + d;
        // log posterior odds of +1 vs -1
        const llr = Math.log(o.w / (1 - o.w)) + (2 * sa * x[j]) / (1 - ab);
        const x0 = Math.tanh(llr / 2);
        out[j] = (x[j] - sa * x0) / Math.sqrt(1 - ab);
      }
    }
    return out;
  };
}

/**
 * Exact flow-matching velocity for x1 ~ N(mean_j, std^2) with x_t = (1 - t) eps + t x1:
 * v = (E[x1 | x_t] - x_t) / (1 - t). std = 0 gives (a0 - x) / (1 - t).
 */
export function gaussianVelocity(o: { mean: ArrayLike<number>; std?: number; calls?: number[] }): VelocityField {
  const s2 = (o.std ?? 0) ** 2;
  return async (x, t) => {
    o.calls?.push(t);
    const out = new Float32Array(x.length);
    const k = (t * s2) / ((1 - t) ** 2 + t * t * s2);
    for (let j = 0; j < x.length; j++) {
      const mu = o.mean[j];
      const x1 = mu + k * (x[j] - t * mu);
      out[j] = (x1 - x[j]) / (1 - t);
    }
    return out;
  };
}

/** A smooth time-varying target trajectory: row tau of an A-dim action sequence. */
export function target(tau: number, A: number): Float32Array {
  const r = new Float32Array(A);
  for (let d = 0; d < A; d++) r[d] = Math.sin(0.3 * tau + d) * 0.8;
  return r;
}

/** Sample mean and (population) standard deviation of a set of draws. */
export function moments(x: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i]!;
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / x.length) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
