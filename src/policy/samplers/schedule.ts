/**
 * DDPM noise schedules and the per-element update rules shared by the samplers,
 * matching diffusers' DDPMScheduler / DDIMScheduler numerics (computed in float64;
 * diffusers uses float32, so values agree to ~1e-7 relative).
 */
import type { NoiseScheduleSpec } from '../manifest.ts';
import { SamplerError } from './types.ts';

export interface NoiseSchedule {
  /** number of training timesteps T; valid timesteps are 0..T-1 */
  readonly numTrainTimesteps: number;
  readonly betas: Float64Array;
  /** 1 - beta */
  readonly alphas: Float64Array;
  /** cumulative product of alphas, alpha-bar_t */
  readonly alphasCumprod: Float64Array;
  /** what the denoiser predicts */
  readonly prediction: 'epsilon' | 'sample';
  /** clamp predicted clean samples to [-clipSample, clipSample]; undefined = no clipping */
  readonly clipSample: number | undefined;
}

/** Linear betas, as torch.linspace(start, end, T). */
export function linearBetas(numTrainTimesteps: number, betaStart: number, betaEnd: number): Float64Array {
  const T = numTrainTimesteps;
  const b = new Float64Array(T);
  for (let i = 0; i < T; i++) b[i] = T === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * i) / (T - 1);
  return b;
}

/** alpha-bar of the cosine schedule (Nichol & Dhariwal), continuous time s in [0, 1]. */
export function cosineAlphaBar(s: number): number {
  const c = Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2));
  return c * c;
}

/** squaredcos_cap_v2 betas, as diffusers' betas_for_alpha_bar(T, max_beta). */
export function squaredCosCapV2Betas(numTrainTimesteps: number, maxBeta = 0.999): Float64Array {
  const T = numTrainTimesteps;
  const b = new Float64Array(T);
  for (let i = 0; i < T; i++) b[i] = Math.min(1 - cosineAlphaBar((i + 1) / T) / cosineAlphaBar(i / T), maxBeta);
  return b;
}

/** Build a schedule from a manifest's `diffusion.schedule`. */
export function makeSchedule(spec: NoiseScheduleSpec): NoiseSchedule {
  const T = spec.num_train_timesteps;
  const betas = spec.beta_schedule === 'linear' ? linearBetas(T, spec.beta_start, spec.beta_end) : squaredCosCapV2Betas(T);
  const alphas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    if (!(betas[i] > 0 && betas[i] < 1)) {
      throw new SamplerError(`noise schedule: beta[${i}] = ${betas[i]} is outside (0, 1): check beta_start/beta_end in the manifest's diffusion.schedule`);
    }
    alphas[i] = 1 - betas[i];
    prod *= alphas[i];
    alphasCumprod[i] = prod;
  }
  return { numTrainTimesteps: T, betas, alphas, alphasCumprod, prediction: spec.prediction, clipSample: spec.clip_sample };
}

/** alpha-bar at integer timestep t; t < 0 means clean (1, diffusers' set_alpha_to_one / final 'one'). */
export function alphaBarAt(schedule: NoiseSchedule, t: number): number {
  if (t < 0) return 1;
  if (!Number.isInteger(t) || t >= schedule.numTrainTimesteps) {
    throw new SamplerError(`timestep ${t} is not an integer in [0, ${schedule.numTrainTimesteps})`);
  }
  return schedule.alphasCumprod[t];
}

/**
 * DDIM inference timesteps with 'leading' spacing and steps_offset 0, descending:
 * [(k-1)r, ..., r, 0] with r = floor(T / k), as diffusers' DDIMScheduler.set_timesteps(k).
 */
export function ddimTimesteps(numTrainTimesteps: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > numTrainTimesteps) {
    throw new SamplerError(`DDIM steps must be an integer in 1..${numTrainTimesteps} (num_train_timesteps), got ${steps}`);
  }
  const r = Math.floor(numTrainTimesteps / steps);
  const ts: number[] = [];
  for (let i = steps - 1; i >= 0; i--) ts.push(i * r);
  return ts;
}

/** q(x_t | x_0): out = sqrt(ab) x0 + sqrt(1 - ab) noise, over [start, end). */
export function addNoise(o: {
  x0: Float32Array;
  noise: Float32Array;
  alphaBar: number;
  out: Float32Array;
  start?: number;
  end?: number;
}): Float32Array {
  const { x0, noise, alphaBar, out } = o;
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  const end = o.end ?? out.length;
  for (let i = o.start ?? 0; i < end; i++) out[i] = a * x0[i] + s * noise[i];
  return out;
}

/** Inputs of one per-element update over x[start, end). */
export interface UpdateArgs {
  schedule: NoiseSchedule;
  /** current sample x_t */
  x: Float32Array;
  /** model output at (x_t, t) */
  model: Float32Array;
  /** destination of x_prev (may alias x) */
  out: Float32Array;
  /** alpha-bar at the current timestep */
  alphaBar: number;
  /** alpha-bar at the previous (less noisy) timestep; 1 = clean */
  alphaBarPrev: number;
  /** standard normal noise, read at the same indices (needed when the update is stochastic) */
  noise?: Float32Array;
  start?: number;
  end?: number;
}

/**
 * Predicted clean sample x0 for element i, written to scratch[0], and epsilon to scratch[1]
 * (a two-slot scratch instead of an object per element). Clips x0 as diffusers does, but keeps
 * the unclipped epsilon (use_clipped_model_output = False).
 */
function predict(schedule: NoiseSchedule, x: number, m: number, sqrtAb: number, sqrtOneMinusAb: number, scratch: Float64Array): void {
  let x0: number;
  let eps: number;
  if (schedule.prediction === 'epsilon') {
    eps = m;
    x0 = (x - sqrtOneMinusAb * m) / sqrtAb;
  } else {
    x0 = m;
    eps = (x - sqrtAb * m) / sqrtOneMinusAb;
  }
  const c = schedule.clipSample;
  if (c !== undefined) x0 = Math.min(c, Math.max(-c, x0));
  scratch[0] = x0;
  scratch[1] = eps;
}

const scratch = new Float64Array(2);

/**
 * DDIM update (diffusers DDIMScheduler.step): x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev - s^2) eps + s z,
 * s = eta sqrt((1 - ab_prev)/(1 - ab) (1 - ab/ab_prev)).
 */
export function ddimUpdate(a: UpdateArgs & { eta: number }): void {
  const { schedule, x, model, out, alphaBar: ab, alphaBarPrev: abPrev, eta, noise } = a;
  const sqrtAb = Math.sqrt(ab);
  const sqrtOneMinusAb = Math.sqrt(1 - ab);
  const std = eta > 0 ? eta * Math.sqrt(((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev)) : 0;
  const dirCoef = Math.sqrt(Math.max(0, 1 - abPrev - std * std));
  const x0Coef = Math.sqrt(abPrev);
  if (std > 0 && !noise) throw new SamplerError('ddimUpdate: eta > 0 needs a noise buffer');
  const end = a.end ?? out.length;
  for (let i = a.start ?? 0; i < end; i++) {
    predict(schedule, x[i], model[i], sqrtAb, sqrtOneMinusAb, scratch);
    let v = x0Coef * scratch[0] + dirCoef * scratch[1];
    if (std > 0) v += std * noise![i];
    out[i] = v;
  }
}

/**
 * DDIM updates row by row, each row of `actionDim` values from its own timestep `from[i]` to
 * `to[i]` (< 0: clean); rows with to[i] >= from[i] are left as they are. For buffers whose noise
 * level varies along the horizon (streaming, RTI warm starts with a fresh tail).
 */
export function ddimUpdateRows(a: {
  schedule: NoiseSchedule;
  x: Float32Array;
  model: Float32Array;
  actionDim: number;
  from: ArrayLike<number>;
  to: ArrayLike<number>;
  eta: number;
  noise?: Float32Array;
}): void {
  const A = a.actionDim;
  for (let i = 0; i < a.from.length; i++) {
    if (a.to[i]! >= a.from[i]!) continue;
    ddimUpdate({
      schedule: a.schedule,
      x: a.x,
      model: a.model,
      out: a.x,
      alphaBar: alphaBarAt(a.schedule, a.from[i]!),
      alphaBarPrev: alphaBarAt(a.schedule, a.to[i]!),
      eta: a.eta,
      noise: a.noise,
      start: i * A,
      end: (i + 1) * A,
    });
  }
}

/**
 * DDPM ancestral update (diffusers DDPMScheduler.step, variance_type 'fixed_small'):
 * posterior mean from x0 and x_t, plus sqrt(variance) z when ab_prev < 1.
 */
export function ddpmUpdate(a: UpdateArgs): void {
  const { schedule, x, model, out, alphaBar: ab, alphaBarPrev: abPrev, noise } = a;
  const sqrtAb = Math.sqrt(ab);
  const sqrtOneMinusAb = Math.sqrt(1 - ab);
  const betaProd = 1 - ab;
  const betaProdPrev = 1 - abPrev;
  const curAlpha = ab / abPrev;
  const curBeta = 1 - curAlpha;
  const x0Coef = (Math.sqrt(abPrev) * curBeta) / betaProd;
  const xCoef = (Math.sqrt(curAlpha) * betaProdPrev) / betaProd;
  // diffusers adds noise only for t > 0, i.e. while the previous level is not clean
  const std = abPrev < 1 ? Math.sqrt(Math.max(1e-20, (betaProdPrev / betaProd) * curBeta)) : 0;
  if (std > 0 && !noise) throw new SamplerError('ddpmUpdate: a stochastic step needs a noise buffer');
  const end = a.end ?? out.length;
  for (let i = a.start ?? 0; i < end; i++) {
    predict(schedule, x[i], model[i], sqrtAb, sqrtOneMinusAb, scratch);
    let v = x0Coef * scratch[0] + xCoef * x[i];
    if (std > 0) v += std * noise![i];
    out[i] = v;
  }
}
