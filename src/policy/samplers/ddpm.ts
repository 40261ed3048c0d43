/**
 * Ancestral DDPM sampling (Ho et al. 2020) with diffusers' DDPMScheduler numerics
 * (variance_type 'fixed_small'). By default it visits all T training timesteps.
 */
import type { Rng } from '../../util/random.ts';
import { alphaBarAt, ddimTimesteps, ddpmUpdate, type NoiseSchedule } from './schedule.ts';
import { checkChunk, checkFiniteResult, checkOutputLength, chunkSize, type ChunkShape, type Denoiser, type SampleResult } from './types.ts';

export interface DdpmOptions extends ChunkShape {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  /** seeded source of the initial and per-step noise */
  rng: Rng;
  /** inference steps n (leading spacing, as DDPMScheduler.set_timesteps(n)); default T */
  steps?: number;
  /** reuse this buffer for the result (length H*A) */
  out?: Float32Array;
}

/**
 * Sample a chunk from pure noise. Noise is drawn in this order: the initial x_T (H*A normals),
 * then H*A normals before every step whose previous level is not clean.
 */
export async function sampleDdpm(o: DdpmOptions): Promise<SampleResult> {
  const size = chunkSize(o, 'DDPM');
  const T = o.schedule.numTrainTimesteps;
  // DDPM and DDIM share the leading spacing: t_i = i * floor(T / n)
  const ts = ddimTimesteps(T, o.steps ?? T);
  const x = o.out ?? new Float32Array(size);
  checkChunk(x, size, 'DDPM out');
  o.rng.fillNormal(x);
  const noise = new Float32Array(size);
  const tBuf = new Float32Array(o.horizon);
  for (let s = 0; s < ts.length; s++) {
    const t = ts[s];
    const prev = s + 1 < ts.length ? ts[s + 1] : -1;
    tBuf.fill(t);
    const out = checkOutputLength(await o.denoiser(x, tBuf), size, `denoiser at t=${t}`);
    if (prev >= 0) o.rng.fillNormal(noise);
    ddpmUpdate({ schedule: o.schedule, x, model: out, out: x, alphaBar: alphaBarAt(o.schedule, t), alphaBarPrev: alphaBarAt(o.schedule, prev), noise });
  }
  checkFiniteResult(x, `DDPM over ${ts.length} steps`);
  return { actions: x, nfe: ts.length };
}
