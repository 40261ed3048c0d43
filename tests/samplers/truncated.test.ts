import { describe, expect, it } from 'vitest';
import { disagreement, sampleWithEarlyExit, type FlowExit } from '../../src/policy/samplers/truncated.ts';
import { SamplerError } from '../../src/policy/samplers/types.ts';
import { Rng } from '../../src/util/random.ts';
import { gaussianVelocity, maxAbsDiff, target } from './analytic.ts';

const H = 10;
const A = 2;
const a0 = new Float32Array(H * A);
for (let i = 0; i < H; i++) a0.set(target(i, A), i * A);
const offset = (d: number) => a0.map((v) => v + d);

function exits(means: Float32Array[], log: string[], std = 0): FlowExit[] {
  return means.map((mean, e) => ({
    velocity: gaussianVelocity({ mean, std }),
    prepare: async () => {
      log.push(`stage${e}`);
    },
  }));
}

describe('A1-style early exit', () => {
  it('stops at exit 1 when exits agree, skipping deeper stages', async () => {
    const log: string[] = [];
    const r = await sampleWithEarlyExit({
      exits: exits([a0, a0, a0, a0], log),
      steps: 10,
      warmStartTime: 0.5,
      tolerance: 1e-3,
      rng: new Rng(1),
      horizon: H,
      actionDim: A,
    });
    expect(r.exitIndex).toBe(1);
    expect(r.nfe).toBe(10 + 5);
    expect(log).toEqual(['stage0', 'stage1']);
    expect(maxAbsDiff(r.actions, a0)).toBeLessThan(1e-5);
    expect(r.disagreements.length).toBe(1);
    expect(r.disagreements[0]).toBeLessThan(1e-5);
  });

  it('goes to the last exit when exits disagree and returns its actions', async () => {
    const log: string[] = [];
    const r = await sampleWithEarlyExit({
      exits: exits([a0, offset(0.5), offset(1.0)], log),
      steps: 8,
      warmStartTime: 0.75,
      tolerance: 0.1,
      rng: new Rng(2),
      horizon: H,
      actionDim: A,
    });
    expect(r.exitIndex).toBe(2);
    expect(r.nfe).toBe(8 + 2 + 2);
    expect(log).toEqual(['stage0', 'stage1', 'stage2']);
    expect(maxAbsDiff(r.actions, offset(1.0))).toBeLessThan(1e-5);
    expect(r.disagreements.map((d) => +d.toFixed(4))).toEqual([0.5, 0.5]);
  });

  it("the 'rms' metric tolerates a single outlier that 'max_abs' does not", async () => {
    const bumped = a0.slice();
    bumped[3] += 0.1; // rms over 20 elements = 0.1 / sqrt(20) = 0.0224
    const run = (metric: 'rms' | 'max_abs') =>
      sampleWithEarlyExit({ exits: exits([a0, bumped, bumped], []), steps: 4, warmStartTime: 0.5, tolerance: 0.03, metric, rng: new Rng(3), horizon: H, actionDim: A });
    const rms = await run('rms');
    const max = await run('max_abs');
    expect(rms.exitIndex).toBe(1);
    expect(rms.disagreements[0]).toBeCloseTo(0.1 / Math.sqrt(20), 5);
    expect(max.exitIndex).toBe(2);
    expect(max.disagreements[0]).toBeCloseTo(0.1, 5);
  });

  it('warm-started exits start at t0 with proportionally fewer steps (warmSteps override honoured)', async () => {
    const times: number[][] = [[], []];
    const ex: FlowExit[] = [0, 1].map((e) => ({ velocity: gaussianVelocity({ mean: offset(e), calls: times[e] }) }));
    const r = await sampleWithEarlyExit({ exits: ex, steps: 10, warmStartTime: 0.6, warmSteps: 2, tolerance: 0, rng: new Rng(4), horizon: H, actionDim: A });
    expect(times[0].length).toBe(10);
    expect(times[1].map((t) => +t.toFixed(6))).toEqual([0.6, 0.8]);
    expect(r.nfe).toBe(12);
  });

  it('is deterministic for a seed with a stochastic field', async () => {
    const run = (seed: number) =>
      sampleWithEarlyExit({ exits: exits([a0, a0, a0], [], 0.3), steps: 6, warmStartTime: 0.5, tolerance: 1e-6, rng: new Rng(seed), horizon: H, actionDim: A });
    const a = await run(10);
    const b = await run(10);
    const c = await run(11);
    expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
    expect(a.exitIndex).toBe(b.exitIndex);
    expect(maxAbsDiff(a.actions, c.actions)).toBeGreaterThan(1e-3);
  });

  it('validates options; disagreement computes max-abs and rms', async () => {
    const base = { steps: 4, tolerance: 0.1, rng: new Rng(1), horizon: H, actionDim: A };
    await expect(sampleWithEarlyExit({ ...base, exits: [], warmStartTime: 0.5 })).rejects.toThrow(/at least one exit/);
    await expect(sampleWithEarlyExit({ ...base, exits: exits([a0], []), warmStartTime: 1 })).rejects.toThrow(SamplerError);
    expect(disagreement(Float32Array.of(0, 3), Float32Array.of(4, 3), 'max_abs')).toBe(4);
    expect(disagreement(Float32Array.of(0, 3), Float32Array.of(4, 3), 'rms')).toBeCloseTo(Math.sqrt(8), 12);
  });
});
