/**
 * Flow-matching sampling: explicit Euler integration of dx/dt = v(x, t) from t0 to 1
 * (t = 0 noise, t = 1 data), x_{t+dt} = x_t + dt v(x_t, t).
 */
import type { Rng } from '../../util/random.ts';
import { checkChunk, checkFiniteResult, checkOutputLength, chunkSize, SamplerError, type ChunkShape, type SampleResult, type VelocityField } from './types.ts';

export interface IntegrateOptions extends ChunkShape {
  velocity: VelocityField;
  /** state at t0; integrated in place to t = 1 */
  x: Float32Array;
  /** start time in [0, 1) */
  t0: number;
  /** Euler steps, dt = (1 - t0) / steps */
  steps: number;
}

/**
 * Euler-integrate `x` in place from t0 to 1; returns nfe (= steps). `x` may be the velocity
 * graph's own input buffer (the field then skips copying it in).
 */
export async function integrateFlow(o: IntegrateOptions): Promise<number> {
  const size = chunkSize(o, 'flow');
  checkChunk(o.x, size, 'flow x');
  if (!(o.t0 >= 0 && o.t0 < 1)) throw new SamplerError(`flow start time t0 must be in [0, 1), got ${o.t0}`);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new SamplerError(`flow steps must be a positive integer, got ${o.steps}`);
  const dt = (1 - o.t0) / o.steps;
  const x = o.x;
  for (let s = 0; s < o.steps; s++) {
    const t = o.t0 + s * dt;
    const v = checkOutputLength(await o.velocity(x, t), size, 'velocity field');
    for (let i = 0; i < size; i++) x[i] += dt * v[i];
  }
  checkFiniteResult(x, `flow integration from t=${o.t0}`);
  return o.steps;
}

/**
 * Fill x with the flow's source noise: standard normals times `scale` (1 = as trained; below 1
 * samples nearer the mode, as a temperature does). The draws are made whatever the scale, so a
 * seed gives the same stream at every scale.
 */
export function drawNoise(rng: Rng, x: Float32Array, scale = 1): Float32Array {
  checkNoiseScale(scale, 'flow');
  rng.fillNormal(x);
  if (scale !== 1) for (let i = 0; i < x.length; i++) x[i] *= scale;
  return x;
}

/** Reject a noise scale that is not a finite number >= 0; `who` names the sampler or package. */
export function checkNoiseScale(scale: number, who: string): number {
  if (!(scale >= 0 && Number.isFinite(scale))) throw new SamplerError(`${who}: noise scale must be a finite number >= 0 (1 = as trained), got ${scale}`);
  return scale;
}

/** x = (1 - t0) noise + t0 data: the flow-matching interpolant at t0, written into out. */
export function interpolate(noise: Float32Array, data: Float32Array, t0: number, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (1 - t0) * noise[i] + t0 * data[i];
  return out;
}

export interface FlowOptions extends ChunkShape {
  velocity: VelocityField;
  /** Euler steps from t0 to 1 */
  steps: number;
  /** seeded source of the initial noise (H*A normals, drawn first) */
  rng: Rng;
  /** warm start: start at t0 > 0 from (1 - t0) noise + t0 actions instead of pure noise at t = 0 */
  warmStart?: { actions: Float32Array; t0: number };
  /** reuse this buffer for the result (length H*A) */
  out?: Float32Array;
  /** scale of the source noise (default 1), see drawNoise */
  noiseScale?: number;
}

/** Sample a chunk by flow matching; nfe = steps. */
export async function sampleFlow(o: FlowOptions): Promise<SampleResult> {
  const size = chunkSize(o, 'flow');
  const x = o.out ?? new Float32Array(size);
  checkChunk(x, size, 'flow out');
  drawNoise(o.rng, x, o.noiseScale);
  let t0 = 0;
  if (o.warmStart) {
    checkChunk(o.warmStart.actions, size, 'flow warm-start actions');
    t0 = o.warmStart.t0;
    if (!(t0 >= 0 && t0 < 1)) throw new SamplerError(`flow warm-start t0 must be in [0, 1), got ${t0}`);
    interpolate(x, o.warmStart.actions, t0, x);
  }
  const nfe = await integrateFlow({ velocity: o.velocity, x, t0, steps: o.steps, horizon: o.horizon, actionDim: o.actionDim });
  return { actions: x, nfe };
}
