import { describe, expect, it } from 'vitest';
import { sampleDdim } from '../../src/policy/samplers/ddim.ts';
import { sampleFlow } from '../../src/policy/samplers/flow.ts';
import { DEFAULT_GRIPPER_WARM_START, levelAfterCall, rtiGuess, rtiStartLevels, sampleRtiDdim, sampleRtiFlow, scaleGripperDims, shiftChunk } from '../../src/policy/samplers/rti.ts';
import { makeSchedule, type NoiseSchedule } from '../../src/policy/samplers/schedule.ts';
import { SamplerError } from '../../src/policy/samplers/types.ts';
import { Rng } from '../../src/util/random.ts';
import { gaussianDenoiser, gaussianVelocity, maxAbsDiff, target, twoPointDenoiser } from './analytic.ts';

const H = 8;
const A = 3;
const sched = (): NoiseSchedule =>
  makeSchedule({ type: 'ddpm', num_train_timesteps: 100, beta_schedule: 'squaredcos_cap_v2', beta_start: 1e-4, beta_end: 0.02, prediction: 'epsilon' });

/** the chunk the observation at control step n asks for: rows n .. n+H-1 of the trajectory */
function chunkAt(n: number): Float32Array {
  const c = new Float32Array(H * A);
  for (let i = 0; i < H; i++) c.set(target(n + i, A), i * A);
  return c;
}
const denoiserAt = (s: NoiseSchedule, n: number, std = 0) => gaussianDenoiser({ schedule: s, actionDim: A, mean: (i) => target(n + i, A), std });
const meanAbs = (a: Float32Array, b: Float32Array, n: number) => {
  let m = 0;
  for (let i = 0; i < n; i++) m += Math.abs(a[i] - b[i]);
  return m / n;
};

describe('RTI warm-start building blocks', () => {
  it('shiftChunk drops executed actions and repeats the last one', () => {
    const prev = Float32Array.from({ length: 4 * 2 }, (_, i) => i); // rows [0,1] [2,3] [4,5] [6,7]
    expect(Array.from(shiftChunk({ previous: prev, shift: 1, horizon: 4, actionDim: 2 }))).toEqual([2, 3, 4, 5, 6, 7, 6, 7]);
    expect(Array.from(shiftChunk({ previous: prev, shift: 3, horizon: 4, actionDim: 2 }))).toEqual([6, 7, 6, 7, 6, 7, 6, 7]);
    expect(Array.from(shiftChunk({ previous: prev, shift: 9, horizon: 4, actionDim: 2 }))).toEqual([6, 7, 6, 7, 6, 7, 6, 7]);
    expect(Array.from(shiftChunk({ previous: prev, shift: 0, horizon: 4, actionDim: 2 }))).toEqual(Array.from(prev));
    expect(() => shiftChunk({ previous: prev, shift: -1, horizon: 4, actionDim: 2 })).toThrow(SamplerError);
    expect(() => shiftChunk({ previous: prev, shift: 1, horizon: 4, actionDim: 2, out: prev })).toThrow(/alias/);
  });

  it('scaleGripperDims maps only the gripper dims: sign/factor or value/factor', () => {
    const c = Float32Array.of(0.5, 0.9, 2, -0.3, 0, 2);
    scaleGripperDims(c, { actionDim: 3, gripperDims: [1], gripper: { mode: 'sign', factor: 4 } });
    expect(Array.from(c)).toEqual([0.5, 0.25, 2, expect.closeTo(-0.3, 6), 0, 2]);
    const d = Float32Array.of(0.5, 0.9, 2, -0.3, -0.6, 2);
    scaleGripperDims(d, { actionDim: 3, gripperDims: [1], gripper: { mode: 'scale', factor: 2 } });
    expect(Array.from(d)).toEqual([0.5, expect.closeTo(0.45, 6), 2, expect.closeTo(-0.3, 6), expect.closeTo(-0.3, 6), 2]);
    const e = Float32Array.of(1, -1);
    scaleGripperDims(e, { actionDim: 1, gripperDims: [0] });
    expect(DEFAULT_GRIPPER_WARM_START).toEqual({ mode: 'sign', factor: 1 });
    expect(Array.from(e)).toEqual([1, -1]);
    const e2 = Float32Array.of(0.7, -0.2);
    scaleGripperDims(e2, { actionDim: 1, gripperDims: [0], gripper: { mode: 'sign', factor: 10 } });
    expect(Array.from(e2)).toEqual([expect.closeTo(0.1, 6), expect.closeTo(-0.1, 6)]);
    expect(() => scaleGripperDims(e, { actionDim: 1, gripperDims: [1] })).toThrow(/gripper_dims/);
    expect(() => scaleGripperDims(e, { actionDim: 1, gripperDims: [0], gripper: { mode: 'scale', factor: 0.5 } })).toThrow(/>= 1/);
    const g = rtiGuess({ previous: Float32Array.of(0, 1, 5, -1), shift: 1, horizon: 2, actionDim: 2, gripperDims: [1], gripper: { mode: 'sign', factor: 2 } });
    expect(Array.from(g)).toEqual([5, -0.5, 5, -0.5]);
  });
});

describe('RTI-DP warm-started DDIM', () => {
  for (const renoise of [true, false]) {
    it(`tracks a moving target with k = 2 of K = 10 steps per control step (renoise ${renoise})`, async () => {
      const s = sched();
      const cold = await sampleDdim({ denoiser: denoiserAt(s, 0), schedule: s, steps: 10, rng: new Rng(1), horizon: H, actionDim: A });
      expect(cold.nfe).toBe(10);
      let prev = cold.actions;
      let nfe = cold.nfe;
      const rng = new Rng(2);
      for (let n = 1; n <= 10; n++) {
        const r = await sampleRtiDdim({ denoiser: denoiserAt(s, n), schedule: s, numInferenceSteps: 10, steps: 2, previous: prev, shift: 1, rng, renoise, horizon: H, actionDim: A });
        expect(r.nfe).toBe(2);
        nfe += r.nfe;
        expect(maxAbsDiff(r.actions, chunkAt(n))).toBeLessThan(1e-4);
        prev = r.actions;
      }
      expect(nfe).toBe(10 + 10 * 2); // vs 110 for a cold DDIM-10 every step
    });
  }

  it('runs the last k timesteps of the K-step grid', async () => {
    const s = sched();
    const seen: number[] = [];
    const den = denoiserAt(s, 0);
    await sampleRtiDdim({
      denoiser: async (x, t) => (seen.push(t[0]), den(x, t)),
      schedule: s,
      numInferenceSteps: 10,
      steps: 3,
      previous: chunkAt(0),
      shift: 1,
      rng: new Rng(1),
      horizon: H,
      actionDim: A,
    });
    expect(seen).toEqual([20, 10, 0]);
    await expect(sampleRtiDdim({ denoiser: den, schedule: s, numInferenceSteps: 10, steps: 11, previous: chunkAt(0), shift: 1, rng: new Rng(1), horizon: H, actionDim: A })).rejects.toThrow(/1\.\.10/);
  });

  it('keeps consecutive chunks consistent: the fewer RTI steps, the closer to the shifted previous chunk', async () => {
    // Gaussian data: a cold sample is a fresh draw; a warm start keeps most of the previous one
    const s = sched();
    const std = 0.3;
    const prev = (await sampleDdim({ denoiser: denoiserAt(s, 0, std), schedule: s, steps: 10, rng: new Rng(5), horizon: H, actionDim: A })).actions;
    const shifted = shiftChunk({ previous: prev, shift: 1, horizon: H, actionDim: A });
    const n = (H - 1) * A; // the padded last row is not a real previous action
    const dist: number[] = [];
    for (const k of [1, 2, 5]) {
      const r = await sampleRtiDdim({ denoiser: denoiserAt(s, 1, std), schedule: s, numInferenceSteps: 10, steps: k, previous: prev, shift: 1, rng: new Rng(6), horizon: H, actionDim: A });
      dist.push(meanAbs(r.actions, shifted, n));
    }
    const cold = await sampleDdim({ denoiser: denoiserAt(s, 1, std), schedule: s, steps: 10, rng: new Rng(6), horizon: H, actionDim: A });
    const dCold = meanAbs(cold.actions, shifted, n);
    expect(dCold).toBeGreaterThan(0.15); // ~ E|N(0, 2 std^2)| = 0.34
    expect(dist[0]).toBeLessThan(0.15 * dCold);
    expect(dist[1]).toBeLessThan(0.7 * dCold);
    expect(dist[0]).toBeLessThan(dist[1]);
    expect(dist[1]).toBeLessThan(dist[2]);
  });

  it('gripper scaling lets the policy switch the gripper; unscaled warm starts lock it in', async () => {
    // gripper data: +1 with probability 0.1, -1 with 0.9; the previous chunk says +1 everywhere
    const s = sched();
    const Hb = 200;
    const den = twoPointDenoiser({ schedule: s, actionDim: 1, w: 0.1 });
    const prev = new Float32Array(Hb).fill(1);
    const flips = async (gripper?: { mode: 'sign' | 'scale'; factor: number }) => {
      const r = await sampleRtiDdim({ denoiser: den, schedule: s, numInferenceSteps: 10, steps: 3, previous: prev, shift: 1, gripperDims: [0], gripper, rng: new Rng(1), horizon: Hb, actionDim: 1 });
      return r.actions.filter((v) => v < 0).length / Hb;
    };
    const locked = await flips(); // default: sign / 1 (RTI-DP-clip)
    const scaled = await flips({ mode: 'sign', factor: 10 });
    expect(locked).toBeLessThan(0.05);
    expect(scaled).toBeGreaterThan(0.3);
  });
});

describe('RTI warm start of the rows the previous chunk did not cover', () => {
  const ramp = (offset: number) => (i: number) => new Float32Array(A).fill(i + offset);

  it('starts the uncovered tail at pure noise and brings every position to clean in k calls', async () => {
    expect(Array.from(rtiStartLevels({ horizon: 6, shift: 2, steps: 4, numInferenceSteps: 10, tail: 'noise' }))).toEqual([4, 4, 4, 4, 10, 10]);
    expect(Array.from(rtiStartLevels({ horizon: 6, shift: 2, steps: 4, numInferenceSteps: 10, tail: 'repeat' }))).toEqual([4, 4, 4, 4, 4, 4]);
    expect([1, 2, 3, 4].map((j) => levelAfterCall(10, j, 4))).toEqual([8, 5, 3, 0]);
    const s = sched();
    const calls = { t: [] as number[][] };
    const r = await sampleRtiDdim({
      denoiser: gaussianDenoiser({ schedule: s, actionDim: A, mean: ramp(2), calls }),
      schedule: s, numInferenceSteps: 10, steps: 4, previous: chunkAt(0), shift: 2, rng: new Rng(1), horizon: H, actionDim: A, tail: 'noise',
    });
    expect(r.nfe).toBe(4);
    // covered rows on the last 4 steps of the 10-step grid; the two tail rows from level 10 (t = 90) in larger jumps
    expect(calls.t).toEqual([
      [30, 30, 30, 30, 30, 30, 90, 90],
      [20, 20, 20, 20, 20, 20, 70, 70],
      [10, 10, 10, 10, 10, 10, 40, 40],
      [0, 0, 0, 0, 0, 0, 20, 20],
    ]);
    // point-mass data: every row lands on its mean, the tail included
    for (let i = 0; i < H; i++) expect(r.actions[i * A]).toBeCloseTo(i + 2, 4);
  });

  it('samples the tail afresh where the uniform warm start keeps the repeated last action', async () => {
    // previous chunk: row i = i; two actions later the data says row i = i + 2 (std 0.3), so the
    // shifted guess is right on rows 0..5 and its repeated tail (7, 7) is 1-2 off the truth (8, 9)
    const s = sched();
    const prev = new Float32Array(H * A);
    for (let i = 0; i < H; i++) prev.fill(i, i * A, (i + 1) * A);
    const run = (tail: 'repeat' | 'noise' | 'predict') =>
      sampleRtiDdim({ denoiser: gaussianDenoiser({ schedule: s, actionDim: A, mean: ramp(2), std: 0.3 }), schedule: s, numInferenceSteps: 10, steps: 2, previous: prev, shift: 2, rng: new Rng(3), horizon: H, actionDim: A, tail });
    const uniform = (await run('repeat')).actions;
    const tail = (await run('noise')).actions;
    const truth = new Float32Array(H * A);
    for (let i = 0; i < H; i++) truth.fill(i + 2, i * A, (i + 1) * A);
    const covered = (H - 2) * A;
    // covered rows: same noise, same per-position timesteps, so the same result
    expect(maxAbsDiff(uniform.subarray(0, covered), tail.subarray(0, covered))).toBeLessThan(1e-5);
    const tailErr = (x: Float32Array) => meanAbs(x.subarray(covered), truth.subarray(covered), 2 * A);
    expect(tailErr(uniform)).toBeGreaterThan(0.8);
    expect(tailErr(tail)).toBeLessThan(0.4); // a fresh draw: E|N(0, 0.3^2)| = 0.24
    // 'predict': one extra call on pure noise estimates the uncovered rows (their mean here), then warm-starts as 'repeat'
    const predicted = await run('predict');
    expect(predicted.nfe).toBe(3);
    expect(tailErr(predicted.actions)).toBeLessThan(0.4);
  });

  it('refuses renoise: false, which only tail repeat has', async () => {
    const s = sched();
    await expect(
      sampleRtiDdim({ denoiser: denoiserAt(s, 0), schedule: s, numInferenceSteps: 10, steps: 2, previous: chunkAt(0), shift: 1, rng: new Rng(1), horizon: H, actionDim: A, tail: 'noise', renoise: false }),
    ).rejects.toThrow(/renoise: false/);
  });

  it("flow: 'predict' estimates the uncovered rows with one velocity call from noise; 'noise' is refused", async () => {
    // Gaussian data around rows i + 2; the previous chunk (rows i) shifted by 2 repeats row 7 where the data says 8, 9
    const std = 0.3;
    const prev = new Float32Array(H * A);
    for (let i = 0; i < H; i++) prev.fill(i, i * A, (i + 1) * A);
    const mean = new Float32Array(H * A);
    for (let i = 0; i < H; i++) mean.fill(i + 2, i * A, (i + 1) * A);
    const times: number[] = [];
    const v = gaussianVelocity({ mean, std, calls: times });
    const run = (tail?: 'repeat' | 'predict' | 'noise') => sampleRtiFlow({ velocity: v, t0: 0.7, steps: 3, previous: prev, shift: 2, rng: new Rng(3), horizon: H, actionDim: A, tail });
    const covered = (H - 2) * A;
    const tailErr = (x: Float32Array) => meanAbs(x.subarray(covered), mean.subarray(covered), 2 * A);
    const repeat = await run();
    expect(repeat.nfe).toBe(3);
    times.length = 0;
    const predicted = await run('predict');
    expect(predicted.nfe).toBe(4);
    expect(times[0]).toBe(0); // the estimate: one step from pure noise
    expect(tailErr(repeat.actions)).toBeGreaterThan(0.4);
    expect(tailErr(predicted.actions)).toBeLessThan(0.25);
    await expect(run('noise')).rejects.toThrow(/per-position/);
  });
});

describe('RTI warm-started flow', () => {
  it('tracks a moving target from t0 = 0.6 with 2 steps', async () => {
    const cold = await sampleFlow({ velocity: gaussianVelocity({ mean: chunkAt(0) }), steps: 10, rng: new Rng(1), horizon: H, actionDim: A });
    let prev = cold.actions;
    const rng = new Rng(2);
    for (let n = 1; n <= 5; n++) {
      const times: number[] = [];
      const r = await sampleRtiFlow({ velocity: gaussianVelocity({ mean: chunkAt(n), calls: times }), t0: 0.6, steps: 2, previous: prev, shift: 1, rng, horizon: H, actionDim: A });
      expect(r.nfe).toBe(2);
      expect(times.map((t) => +t.toFixed(6))).toEqual([0.6, 0.8]);
      expect(maxAbsDiff(r.actions, chunkAt(n))).toBeLessThan(1e-5);
      prev = r.actions;
    }
  });

  it('stays nearer the shifted previous chunk the later it starts, under Gaussian data', async () => {
    const std = 0.3;
    const prev = (await sampleFlow({ velocity: gaussianVelocity({ mean: chunkAt(0), std }), steps: 20, rng: new Rng(3), horizon: H, actionDim: A })).actions;
    const shifted = shiftChunk({ previous: prev, shift: 1, horizon: H, actionDim: A });
    const v = gaussianVelocity({ mean: chunkAt(1), std });
    const n = (H - 1) * A;
    const dist: number[] = [];
    for (const t0 of [0.95, 0.8, 0.5]) {
      const r = await sampleRtiFlow({ velocity: v, t0, steps: 4, previous: prev, shift: 1, rng: new Rng(4), horizon: H, actionDim: A });
      dist.push(meanAbs(r.actions, shifted, n));
    }
    const cold = await sampleFlow({ velocity: v, steps: 20, rng: new Rng(4), horizon: H, actionDim: A });
    const dCold = meanAbs(cold.actions, shifted, n);
    expect(dist[0]).toBeLessThan(0.3 * dCold);
    expect(dist[0]).toBeLessThan(dist[1]);
    expect(dist[1]).toBeLessThan(dist[2]);
    await expect(sampleRtiFlow({ velocity: v, t0: 0, steps: 4, previous: prev, shift: 1, rng: new Rng(4), horizon: H, actionDim: A })).rejects.toThrow(/\(0, 1\)/);
  });

  it('is deterministic for a seed', async () => {
    const s = sched();
    const prev = chunkAt(0);
    const run = (seed: number) =>
      sampleRtiDdim({ denoiser: denoiserAt(s, 1, 0.3), schedule: s, numInferenceSteps: 10, steps: 3, eta: 0.5, previous: prev, shift: 1, rng: new Rng(seed), horizon: H, actionDim: A });
    const a = await run(1);
    expect(Array.from(a.actions)).toEqual(Array.from((await run(1)).actions));
    expect(maxAbsDiff(a.actions, (await run(2)).actions)).toBeGreaterThan(1e-3);
  });
});
