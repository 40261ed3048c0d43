import { describe, expect, it } from 'vitest';
import { sampleDdim } from '../../src/policy/samplers/ddim.ts';
import { makeSchedule, type NoiseSchedule } from '../../src/policy/samplers/schedule.ts';
import { StreamingBuffer } from '../../src/policy/samplers/streaming.ts';
import { SamplerError } from '../../src/policy/samplers/types.ts';
import { Rng } from '../../src/util/random.ts';
import { gaussianDenoiser, maxAbsDiff, moments, target } from './analytic.ts';

const A = 3;
const sched = (beta: 'linear' | 'squaredcos_cap_v2' = 'squaredcos_cap_v2', prediction: 'epsilon' | 'sample' = 'epsilon'): NoiseSchedule =>
  makeSchedule({ type: 'ddpm', num_train_timesteps: 100, beta_schedule: beta, beta_start: 1e-4, beta_end: 0.02, prediction });

/** denoiser for control step n: position i targets the absolute trajectory row n + i */
const denoiserAt = (s: NoiseSchedule, n: number, std = 0, calls?: { t: number[][] }) =>
  gaussianDenoiser({ schedule: s, actionDim: A, mean: (i) => target(n + i, A), std, calls });

/** scalar K-step DDIM (eta 0) for N(mu, std^2) data from noise z, float64 reference */
function referenceDdim(s: NoiseSchedule, K: number, z: number, mu: number, std: number): number {
  const r = Math.floor(s.numTrainTimesteps / K);
  const s2 = std * std;
  let x = z;
  for (let l = K; l >= 1; l--) {
    const ab = s.alphasCumprod[(l - 1) * r];
    const abPrev = l >= 2 ? s.alphasCumprod[(l - 2) * r] : 1;
    const x0 = mu + ((Math.sqrt(ab) * s2) / (ab * s2 + 1 - ab)) * (x - Math.sqrt(ab) * mu);
    const eps = (x - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
    x = Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * eps;
  }
  return x;
}

describe('StreamingBuffer', () => {
  for (const [m, H, K] of [
    [1, 8, undefined],
    [2, 8, undefined],
    [2, 6, 7],
  ] as const) {
    it(`emits the time-varying point-mass target each step with nfe = ${m} (m=${m}, H=${H}, K=${K ?? 'mH'})`, async () => {
      const s = sched();
      for (const init of ['noise', 'sample'] as const) {
        const buf = new StreamingBuffer({ schedule: s, stepsPerAction: m, levels: K, horizon: H, actionDim: A, rng: new Rng(42) });
        const levels = K ?? m * H;
        if (init === 'noise') {
          const w = await buf.initFromNoise(denoiserAt(s, 0));
          expect(w.nfe).toBe(levels - m);
        } else {
          const first = await sampleDdim({ denoiser: denoiserAt(s, 0), schedule: s, steps: 10, rng: new Rng(1), horizon: H, actionDim: A });
          buf.initFromSample(first.actions);
        }
        expect(Array.from(buf.currentLevels())).toEqual(Array.from({ length: H }, (_, i) => Math.min(m * (i + 1), levels)));
        for (let n = 0; n < 3 * H; n++) {
          const step = await buf.step(denoiserAt(s, n));
          expect(step.nfe).toBe(m);
          expect(maxAbsDiff(step.action, target(n, A))).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('feeds the denoiser the staircase of per-position timesteps (m=2, H=4, K=8, r=12)', async () => {
    const s = sched();
    const calls = { t: [] as number[][] };
    const buf = new StreamingBuffer({ schedule: s, stepsPerAction: 2, horizon: 4, actionDim: A, rng: new Rng(1) });
    expect(buf.stride).toBe(12);
    const warm = await buf.initFromNoise(denoiserAt(s, 0, 0, calls));
    expect(warm.nfe).toBe(6);
    // warm-up: everyone starts at level 8 (t = 84) and drops together; position i stops at level 2(i + 1)
    expect(calls.t[0]).toEqual([84, 84, 84, 84]);
    expect(calls.t[2]).toEqual([60, 60, 60, 84]);
    expect(calls.t[5]).toEqual([24, 36, 60, 84]);
    calls.t.length = 0;
    await buf.step(denoiserAt(s, 0, 0, calls));
    expect(calls.t).toEqual([
      [12, 36, 60, 84],
      [0, 24, 48, 72],
    ]);
    expect(Array.from(buf.currentLevels())).toEqual([2, 4, 6, 8]);
  });

  it('capped levels hold noisy positions until they enter the staircase (m=2, H=4, K=5, r=20)', async () => {
    const s = sched();
    const calls = { t: [] as number[][] };
    const buf = new StreamingBuffer({ schedule: s, stepsPerAction: 2, levels: 5, horizon: 4, actionDim: A, rng: new Rng(1) });
    await buf.initFromNoise(denoiserAt(s, 0));
    expect(Array.from(buf.currentLevels())).toEqual([2, 4, 5, 5]);
    const before = buf.snapshot();
    await buf.step(denoiserAt(s, 0, 0, calls));
    expect(calls.t).toEqual([
      [20, 60, 80, 80],
      [0, 40, 80, 80],
    ]);
    // position 3 never moved during the step; after the shift it sits at position 2 unchanged
    expect(Array.from(buf.snapshot().subarray(2 * A, 3 * A))).toEqual(Array.from(before.subarray(3 * A, 4 * A)));
  });

  it('each emitted action equals a K-step DDIM of its own noise under Gaussian data (exact bookkeeping)', async () => {
    const s = sched('linear');
    const H = 5;
    const m = 2;
    const std = 0.5;
    const seed = 77;
    const buf = new StreamingBuffer({ schedule: s, stepsPerAction: m, horizon: H, actionDim: A, rng: new Rng(seed) });
    const K = buf.levels;
    // replay the documented noise order: H*A normals at init, then A per step for the appended row
    const replay = new Rng(seed);
    const z: Float32Array[] = [];
    const initNoise = replay.fillNormal(new Float32Array(H * A)) as Float32Array;
    for (let i = 0; i < H; i++) z.push(initNoise.slice(i * A, (i + 1) * A));
    await buf.initFromNoise(denoiserAt(s, 0, std));
    for (let n = 0; n < 12; n++) {
      const { action } = await buf.step(denoiserAt(s, n, std));
      z.push(replay.fillNormal(new Float32Array(A)) as Float32Array);
      const mu = target(n, A);
      for (let d = 0; d < A; d++) expect(action[d]).toBeCloseTo(referenceDdim(s, K, z[n][d], mu[d], std), 4);
    }
  });

  it('ancestral updates (eta 1) emit what a K-step DDIM with the same eta samples, under Gaussian data', async () => {
    const s = sched();
    const D = 4000; // independent dims as samples
    // zero mean: the grid's top level (t = 90 for K = 16) is not pure noise, which would bias a non-zero mean
    const std = 0.5;
    const denoiser = gaussianDenoiser({ schedule: s, actionDim: D, mean: () => new Float32Array(D), std });
    const emitted: number[][] = [];
    const stds: number[] = [];
    for (const eta of [0, 1]) {
      // a coarse grid under-disperses (more so with eta 1): the reference is the same grid's DDIM, not the data
      const ddim = moments((await sampleDdim({ denoiser, schedule: s, steps: 16, eta, rng: new Rng(3), horizon: 1, actionDim: D })).actions);
      stds.push(ddim.std);
      const buf = new StreamingBuffer({ schedule: s, stepsPerAction: 1, horizon: 16, actionDim: D, eta, rng: new Rng(9) });
      await buf.initFromNoise(denoiser);
      for (let n = 0; n < 8; n++) {
        const { action } = await buf.step(denoiser);
        if (n === 7) emitted.push(Array.from(action));
        const got = moments(action);
        // sampling error over 4000 draws: ~0.007 on the mean, ~0.005 on the std
        expect(Math.abs(got.mean)).toBeLessThan(0.03);
        expect(Math.abs(got.std - ddim.std)).toBeLessThan(0.02);
      }
    }
    expect(stds[0]! - stds[1]!).toBeGreaterThan(0.02);
    expect(Math.abs(stds[0]! - std)).toBeLessThan(0.06);
    // same seed, same initial noise: only the ancestral noise separates the two
    expect(maxAbsDiff(emitted[0]!, emitted[1]!)).toBeGreaterThan(0.1);
  });

  it('works with sample prediction', async () => {
    const s = sched('linear', 'sample');
    const buf = new StreamingBuffer({ schedule: s, stepsPerAction: 1, horizon: 6, actionDim: A, rng: new Rng(3) });
    await buf.initFromNoise(denoiserAt(s, 0));
    for (let n = 0; n < 8; n++) expect(maxAbsDiff((await buf.step(denoiserAt(s, n))).action, target(n, A))).toBeLessThan(1e-4);
  });

  it('is deterministic for a seed (eta > 0 too)', async () => {
    const s = sched();
    const run = async (seed: number) => {
      const buf = new StreamingBuffer({ schedule: s, stepsPerAction: 1, horizon: 4, actionDim: A, eta: 0.5, rng: new Rng(seed) });
      await buf.initFromNoise(denoiserAt(s, 0, 0.4));
      const out: number[] = [];
      for (let n = 0; n < 5; n++) out.push(...(await buf.step(denoiserAt(s, n, 0.4))).action);
      return out;
    };
    const a = await run(5);
    expect(a).toEqual(await run(5));
    expect(maxAbsDiff(a, await run(6))).toBeGreaterThan(1e-3);
  });

  it('validates levels and refuses to step before init', async () => {
    const s = sched();
    const base = { schedule: s, horizon: 4, actionDim: A, rng: new Rng(1) };
    expect(() => new StreamingBuffer({ ...base, stepsPerAction: 2, levels: 9 })).toThrow(/2\.\.8/);
    expect(() => new StreamingBuffer({ ...base, stepsPerAction: 2, levels: 1 })).toThrow(SamplerError);
    expect(() => new StreamingBuffer({ ...base, horizon: 64, stepsPerAction: 2 })).toThrow(/exceed num_train_timesteps/);
    const buf = new StreamingBuffer({ ...base, stepsPerAction: 1 });
    await expect(buf.step(denoiserAt(s, 0))).rejects.toThrow(/before initFromNoise/);
    buf.initFromSample(new Float32Array(4 * A));
    expect(buf.initialized).toBe(true);
    buf.reset();
    expect(buf.initialized).toBe(false);
  });
});
