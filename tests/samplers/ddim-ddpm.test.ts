import { describe, expect, it } from 'vitest';
import { sampleDdim } from '../../src/policy/samplers/ddim.ts';
import { sampleDdpm } from '../../src/policy/samplers/ddpm.ts';
import { makeSchedule, type NoiseSchedule } from '../../src/policy/samplers/schedule.ts';
import { SamplerError, type Denoiser } from '../../src/policy/samplers/types.ts';
import { Rng } from '../../src/util/random.ts';
import { gaussianDenoiser, maxAbsDiff, moments, target } from './analytic.ts';

const H = 8;
const A = 3;

function schedule(beta: 'linear' | 'squaredcos_cap_v2', prediction: 'epsilon' | 'sample', T = 100, clip?: number): NoiseSchedule {
  return makeSchedule({ type: 'ddpm', num_train_timesteps: T, beta_schedule: beta, beta_start: 1e-4, beta_end: 0.02, prediction, clip_sample: clip });
}

/** a0 rows: a smooth trajectory, within [-0.8, 0.8] */
const a0 = new Float32Array(H * A);
for (let i = 0; i < H; i++) a0.set(target(i, A), i * A);
const pointMass = (s: NoiseSchedule, calls?: { t: number[][] }) =>
  gaussianDenoiser({ schedule: s, actionDim: A, mean: (i) => a0.subarray(i * A, (i + 1) * A), calls });

describe('DDIM', () => {
  for (const beta of ['linear', 'squaredcos_cap_v2'] as const) {
    for (const prediction of ['epsilon', 'sample'] as const) {
      it(`returns the point mass a0 for any k (${beta}, ${prediction})`, async () => {
        const s = schedule(beta, prediction);
        for (const k of [1, 2, 3, 7, 10, 50, 100]) {
          const calls = { t: [] as number[][] };
          const r = await sampleDdim({ denoiser: pointMass(s, calls), schedule: s, steps: k, rng: new Rng(k), horizon: H, actionDim: A });
          expect(r.nfe).toBe(k);
          expect(calls.t.length).toBe(k);
          expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-4);
          // every position gets the same timestep; the last call is at t = 0
          expect(calls.t[k - 1]).toEqual(new Array(H).fill(0));
          expect(new Set(calls.t[0]).size).toBe(1);
        }
      });
    }
  }

  it('with clip_sample still reaches a0 inside the clip range', async () => {
    const s = schedule('squaredcos_cap_v2', 'epsilon', 100, 1);
    const r = await sampleDdim({ denoiser: pointMass(s), schedule: s, steps: 10, rng: new Rng(3), horizon: H, actionDim: A });
    expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-4);
  });

  it('with eta = 1 over all T steps equals DDPM for the same noise (same generative process)', async () => {
    const s = schedule('linear', 'epsilon');
    const den = gaussianDenoiser({ schedule: s, actionDim: A, mean: (i) => a0.subarray(i * A, (i + 1) * A), std: 0.4 });
    const ddim = await sampleDdim({ denoiser: den, schedule: s, steps: 100, eta: 1, rng: new Rng(11), horizon: H, actionDim: A });
    const ddpm = await sampleDdpm({ denoiser: den, schedule: s, rng: new Rng(11), horizon: H, actionDim: A });
    expect(maxAbsDiff(ddim.actions, ddpm.actions)).toBeLessThan(1e-4);
    // and differs from deterministic DDIM
    const det = await sampleDdim({ denoiser: den, schedule: s, steps: 100, rng: new Rng(11), horizon: H, actionDim: A });
    expect(maxAbsDiff(det.actions, ddpm.actions)).toBeGreaterThan(1e-2);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const s = schedule('squaredcos_cap_v2', 'epsilon');
    const den = gaussianDenoiser({ schedule: s, actionDim: A, mean: () => [0, 0, 0], std: 0.5 });
    const run = (seed: number, eta: number) => sampleDdim({ denoiser: den, schedule: s, steps: 10, eta, rng: new Rng(seed), horizon: H, actionDim: A });
    for (const eta of [0, 0.5]) {
      const a = await run(5, eta);
      const b = await run(5, eta);
      const c = await run(6, eta);
      expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
      expect(maxAbsDiff(a.actions, c.actions)).toBeGreaterThan(1e-3);
    }
  });

  it('rejects bad steps, eta without rng use, and bad model outputs', async () => {
    const s = schedule('linear', 'epsilon');
    const base = { schedule: s, rng: new Rng(1), horizon: H, actionDim: A };
    await expect(sampleDdim({ ...base, denoiser: pointMass(s), steps: 0 })).rejects.toThrow(SamplerError);
    await expect(sampleDdim({ ...base, denoiser: pointMass(s), steps: 101 })).rejects.toThrow(/1\.\.100/);
    const short: Denoiser = async () => new Float32Array(3);
    await expect(sampleDdim({ ...base, denoiser: short, steps: 5 })).rejects.toThrow(/length 3, expected .*24/);
    const nan: Denoiser = async (x) => new Float32Array(x.length).fill(Number.NaN);
    await expect(sampleDdim({ ...base, denoiser: nan, steps: 5 })).rejects.toThrow(/non-finite/);
  });
});

describe('DDPM', () => {
  it('returns the point mass a0 after all T steps with nfe = T', async () => {
    for (const prediction of ['epsilon', 'sample'] as const) {
      const s = schedule('squaredcos_cap_v2', prediction);
      const calls = { t: [] as number[][] };
      const r = await sampleDdpm({ denoiser: pointMass(s, calls), schedule: s, rng: new Rng(2), horizon: H, actionDim: A });
      expect(r.nfe).toBe(100);
      expect(calls.t[0][0]).toBe(99);
      expect(calls.t[99][0]).toBe(0);
      expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-3);
    }
  });

  it('samples the right Gaussian: mean and std of N(0.3, 0.5^2) data', async () => {
    const s = schedule('linear', 'epsilon');
    const Hb = 1024;
    const den = gaussianDenoiser({ schedule: s, actionDim: 2, mean: () => [0.3, 0.3], std: 0.5 });
    const r = await sampleDdpm({ denoiser: den, schedule: s, rng: new Rng(7), horizon: Hb, actionDim: 2 });
    const st = moments(r.actions);
    // 2048 samples: standard error of the mean ~0.011, of the std ~0.008
    expect(Math.abs(st.mean - 0.3)).toBeLessThan(0.04);
    expect(st.std).toBeGreaterThan(0.46);
    expect(st.std).toBeLessThan(0.54);
  });

  it('supports fewer inference steps with leading spacing', async () => {
    const s = schedule('linear', 'epsilon');
    const calls = { t: [] as number[][] };
    const r = await sampleDdpm({ denoiser: pointMass(s, calls), schedule: s, rng: new Rng(2), steps: 4, horizon: H, actionDim: A });
    expect(r.nfe).toBe(4);
    expect(calls.t.map((t) => t[0])).toEqual([75, 50, 25, 0]);
    expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-4);
  });

  it('is deterministic for a seed', async () => {
    const s = schedule('linear', 'epsilon');
    const den = gaussianDenoiser({ schedule: s, actionDim: A, mean: () => [0, 0, 0], std: 0.5 });
    const a = await sampleDdpm({ denoiser: den, schedule: s, rng: new Rng(9), horizon: H, actionDim: A });
    const b = await sampleDdpm({ denoiser: den, schedule: s, rng: new Rng(9), horizon: H, actionDim: A });
    expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
  });
});
