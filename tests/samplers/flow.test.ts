import { describe, expect, it } from 'vitest';
import { drawNoise, integrateFlow, sampleFlow } from '../../src/policy/samplers/flow.ts';
import { SamplerError } from '../../src/policy/samplers/types.ts';
import { Rng } from '../../src/util/random.ts';
import { gaussianVelocity, maxAbsDiff, target } from './analytic.ts';

const H = 6;
const A = 4;
const a0 = new Float32Array(H * A);
for (let i = 0; i < H; i++) a0.set(target(i, A), i * A);

describe('flow matching (Euler)', () => {
  it('returns the point mass a0 with the exact field v = (a0 - x)/(1 - t), any step count', async () => {
    for (const steps of [1, 2, 5, 10]) {
      const calls: number[] = [];
      const r = await sampleFlow({ velocity: gaussianVelocity({ mean: a0, calls }), steps, rng: new Rng(steps), horizon: H, actionDim: A });
      expect(r.nfe).toBe(steps);
      expect(calls.length).toBe(steps);
      expect(calls[0]).toBe(0);
      expect(calls[steps - 1]).toBeCloseTo(1 - 1 / steps, 12);
      expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-5);
    }
  });

  it('warm-starts at t0 from (1 - t0) noise + t0 actions', async () => {
    const calls: number[] = [];
    const r = await sampleFlow({
      velocity: gaussianVelocity({ mean: a0, calls }),
      steps: 3,
      rng: new Rng(1),
      warmStart: { actions: new Float32Array(H * A).fill(5), t0: 0.4 },
      horizon: H,
      actionDim: A,
    });
    expect(calls.map((t) => +t.toFixed(6))).toEqual([0.4, 0.6, 0.8]);
    expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-5);
  });

  it('one Euler step from t0 = 0.5 with v = const moves x by 0.5 v', async () => {
    const x = new Float32Array(H * A).fill(1);
    const nfe = await integrateFlow({ velocity: async (y) => new Float32Array(y.length).fill(2), x, t0: 0.5, steps: 1, horizon: H, actionDim: A });
    expect(nfe).toBe(1);
    expect(x[0]).toBeCloseTo(2, 6);
  });

  it('with many steps samples N(mean, std^2) data', async () => {
    const Hb = 1000;
    const mean = new Float32Array(Hb).fill(-0.2);
    const r = await sampleFlow({ velocity: gaussianVelocity({ mean, std: 0.5 }), steps: 50, rng: new Rng(4), horizon: Hb, actionDim: 1 });
    let m = 0;
    for (const v of r.actions) m += v;
    m /= Hb;
    let s2 = 0;
    for (const v of r.actions) s2 += (v - m) ** 2;
    expect(m).toBeCloseTo(-0.2, 1);
    expect(Math.sqrt(s2 / Hb)).toBeGreaterThan(0.45);
    expect(Math.sqrt(s2 / Hb)).toBeLessThan(0.55);
  });

  it('a noise scale s maps N(mean, std^2) data to N(mean, (s std)^2); s = 0 returns the mean for any seed', async () => {
    const Hb = 2000;
    const mean = new Float32Array(Hb).fill(0.3);
    const v = gaussianVelocity({ mean, std: 0.5 });
    const spread = (x: Float32Array) => Math.sqrt(x.reduce((acc, y) => acc + (y - 0.3) ** 2, 0) / x.length);
    const half = await sampleFlow({ velocity: v, steps: 50, rng: new Rng(4), horizon: Hb, actionDim: 1, noiseScale: 0.5 });
    expect(spread(half.actions)).toBeGreaterThan(0.22);
    expect(spread(half.actions)).toBeLessThan(0.28);
    for (const seed of [1, 2]) {
      const zero = await sampleFlow({ velocity: v, steps: 10, rng: new Rng(seed), horizon: Hb, actionDim: 1, noiseScale: 0 });
      expect(spread(zero.actions)).toBeLessThan(1e-6);
    }
    // the draws are made at every scale: the same seed gives the same stream
    const a = drawNoise(new Rng(7), new Float32Array(8), 0.25);
    const b = drawNoise(new Rng(7), new Float32Array(8));
    expect(maxAbsDiff(a, b.map((n) => n * 0.25))).toBeLessThan(1e-7);
    expect(() => drawNoise(new Rng(1), new Float32Array(2), -1)).toThrow(/noise scale must be a finite number >= 0/);
    expect(() => drawNoise(new Rng(1), new Float32Array(2), Number.NaN)).toThrow(SamplerError);
  });

  it('is deterministic for a seed', async () => {
    const v = gaussianVelocity({ mean: a0, std: 0.3 });
    const a = await sampleFlow({ velocity: v, steps: 5, rng: new Rng(8), horizon: H, actionDim: A });
    const b = await sampleFlow({ velocity: v, steps: 5, rng: new Rng(8), horizon: H, actionDim: A });
    const c = await sampleFlow({ velocity: v, steps: 5, rng: new Rng(9), horizon: H, actionDim: A });
    expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
    expect(maxAbsDiff(a.actions, c.actions)).toBeGreaterThan(1e-3);
  });

  it('rejects bad t0, steps and warm-start length', async () => {
    const v = gaussianVelocity({ mean: a0 });
    const base = { velocity: v, rng: new Rng(1), horizon: H, actionDim: A };
    await expect(sampleFlow({ ...base, steps: 0 })).rejects.toThrow(SamplerError);
    await expect(sampleFlow({ ...base, steps: 2, warmStart: { actions: a0, t0: 1 } })).rejects.toThrow(/\[0, 1\)/);
    await expect(sampleFlow({ ...base, steps: 2, warmStart: { actions: new Float32Array(3), t0: 0.5 } })).rejects.toThrow(/length 3/);
  });

  it('rejects a NaN velocity on any step through the result, and a wrong output length at once', async () => {
    let calls = 0;
    // finite on every step but the third: the NaN still reaches the result
    const v = async (x: Float32Array) => {
      calls++;
      const out = new Float32Array(x.length);
      if (calls === 3) out[5] = Number.NaN;
      return out;
    };
    await expect(sampleFlow({ velocity: v, steps: 5, rng: new Rng(1), horizon: H, actionDim: A })).rejects.toThrow(/non-finite value at index 5/);
    const short = async () => new Float32Array(3);
    await expect(sampleFlow({ velocity: short, steps: 5, rng: new Rng(1), horizon: H, actionDim: A })).rejects.toThrow(/velocity field returned length 3, expected/);
  });

  it('integrates in the caller\'s buffer, which the field may read without a copy', async () => {
    const buffer = new Float32Array(H * A);
    const seen: boolean[] = [];
    const v = async (x: Float32Array) => {
      seen.push(x === buffer);
      return new Float32Array(x.length).fill(1);
    };
    const r = await sampleFlow({ velocity: v, steps: 4, rng: new Rng(2), horizon: H, actionDim: A, out: buffer });
    expect(r.actions).toBe(buffer);
    expect(seen).toEqual([true, true, true, true]);
    const noise = new Float32Array(H * A);
    new Rng(2).fillNormal(noise);
    // x1 = x0 + 1 (four steps of dt = 0.25 with v = 1)
    expect(maxAbsDiff(buffer, noise.map((n) => n + 1))).toBeLessThan(1e-6);
  });
});
