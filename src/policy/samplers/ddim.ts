/**
 * DDIM sampling (Song et al. 2021) with diffusers' DDIMScheduler numerics: 'leading'
 * timestep spacing, steps_offset 0, set_alpha_to_one, eta = 0 (deterministic) by default.
 */
import type { Rng } from '../../util/random.ts';
import { alphaBarAt, ddimTimesteps, ddimUpdate, type NoiseSchedule } from './schedule.ts';
import { checkChunk, checkEta, checkFiniteResult, checkOutputLength, chunkSize, SamplerError, type ChunkShape, type Denoiser, type SampleResult } from './types.ts';

export interface DdimLoopOptions extends ChunkShape {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  /** sample at timesteps[0]; updated in place to the clean sample */
  x: Float32Array;
  /** descending integer timesteps to visit; each step goes to the next one, the last to clean */
  timesteps: readonly number[];
  /** 0 = deterministic DDIM, 1 = DDPM-like variance */
  eta?: number;
  /** needed when eta > 0 */
  rng?: Rng;
}

/**
 * Run DDIM updates over `timesteps` in place on `x`; returns the number of denoiser calls. `x`
 * may be the denoiser graph's own input buffer (the denoiser then skips copying it in).
 */
export async function runDdim(o: DdimLoopOptions): Promise<number> {
  const size = chunkSize(o, 'DDIM');
  checkChunk(o.x, size, 'DDIM x');
  const eta = checkEta(o.eta ?? 0, 'DDIM');
  if (eta > 0 && !o.rng) throw new SamplerError('DDIM with eta > 0 needs an rng for the variance noise');
  const tBuf = new Float32Array(o.horizon);
  const noise = eta > 0 ? new Float32Array(size) : undefined;
  const ts = o.timesteps;
  for (let s = 0; s < ts.length; s++) {
    if (s > 0 && ts[s] >= ts[s - 1]) throw new SamplerError(`DDIM timesteps must be strictly descending, got [${ts.join(', ')}]`);
    const t = ts[s];
    const prev = s + 1 < ts.length ? ts[s + 1] : -1;
    tBuf.fill(t);
    const out = checkOutputLength(await o.denoiser(o.x, tBuf), size, `denoiser at t=${t}`);
    if (noise) o.rng!.fillNormal(noise);
    ddimUpdate({ schedule: o.schedule, x: o.x, model: out, out: o.x, alphaBar: alphaBarAt(o.schedule, t), alphaBarPrev: alphaBarAt(o.schedule, prev), eta, noise });
  }
  checkFiniteResult(o.x, `DDIM over t=[${ts.join(', ')}]`);
  return ts.length;
}

export interface DdimOptions extends ChunkShape {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  /** denoising steps k, 1..T */
  steps: number;
  eta?: number;
  /** seeded source of the initial noise (and variance noise when eta > 0) */
  rng: Rng;
  /** reuse this buffer for the result (length H*A) */
  out?: Float32Array;
}

/** Sample a chunk from pure noise with k DDIM steps; nfe = k. */
export async function sampleDdim(o: DdimOptions): Promise<SampleResult> {
  const size = chunkSize(o, 'DDIM');
  const x = o.out ?? new Float32Array(size);
  checkChunk(x, size, 'DDIM out');
  o.rng.fillNormal(x);
  const nfe = await runDdim({ ...o, x, timesteps: ddimTimesteps(o.schedule.numTrainTimesteps, o.steps) });
  return { actions: x, nfe };
}
