import { describe, expect, it } from 'vitest';
import { ChunkExecutor, type StepResult } from '../../src/schedule/executor.ts';
import { ScheduleError } from '../../src/schedule/errors.ts';
import type { ScheduleOptions } from '../../src/schedule/types.ts';
import { flush, obsAt, RATE_HZ, StubPolicy, valueAt } from './stub-policy.ts';

/** run ticks 0..n-1; the stub's calls finish `latency` ticks after they start */
async function runAsync(exec: ChunkExecutor, policy: StubPolicy, n: number, latency: number): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (let t = 0; t < n; t++) {
    policy.resolveDue(t, latency);
    await flush();
    out.push(await exec.step(obsAt(t), t));
  }
  return out;
}

async function runSync(exec: ChunkExecutor, n: number): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (let t = 0; t < n; t++) out.push(await exec.step(obsAt(t), t));
  return out;
}

describe('ChunkExecutor, synchronous', () => {
  it('replan: infers every actionsPerChunk ticks and executes exactly that many actions of each chunk', async () => {
    // entry k of the chunk observed at tick m is 100 m + k
    const policy = new StubPolicy({ horizon: 16, dim: 1, values: (m, k) => 100 * m + k });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 5 } });
    const out = await runSync(exec, 23);
    const inferredAt = out.flatMap((r, t) => (r.inferred ? [t] : []));
    expect(inferredAt).toEqual([0, 5, 10, 15, 20]);
    expect(out.map((r) => r.action![0])).toEqual(Array.from({ length: 23 }, (_, t) => 100 * (t - (t % 5)) + (t % 5)));
    expect(policy.calls).toBe(5);
    expect(exec.stats).toMatchObject({ ticks: 23, inferences: 5, starvedTicks: 0, meanDelayTicks: 0, inFlight: false });
    expect(out.every((r) => !r.starved && !r.requested)).toBe(true);
  });

  for (const schedule of [
    { mode: 'replan', actionsPerChunk: 8 },
    { mode: 'ensemble', decay: 0.01 },
    { mode: 'blend', actionsPerChunk: 4, blendSteps: 3 },
  ] satisfies ScheduleOptions[]) {
    it(`${schedule.mode}: is deterministic for a seeded stochastic policy, also after reset()`, async () => {
      const run = async (seed: number) => {
        const policy = new StubPolicy({ horizon: 10, dim: 3, noiseSeed: seed });
        const exec = new ChunkExecutor({ policy, schedule });
        const first = (await runSync(exec, 30)).map((r) => Array.from(r.action!));
        exec.reset();
        const again = (await runSync(exec, 30)).map((r) => Array.from(r.action!));
        return { first, again, policy };
      };
      const a = await run(7);
      const b = await run(7);
      const c = await run(8);
      expect(b.first).toEqual(a.first);
      expect(a.again).toEqual(a.first);
      expect(a.policy.resets).toBe(1);
      expect(c.first).not.toEqual(a.first);
    });
  }

  it('passes the embodiment to the policy and surfaces its errors', async () => {
    const policy = new StubPolicy({ horizon: 4, dim: 1 });
    let seen: string | undefined;
    const inner = policy.predictChunk.bind(policy);
    policy.predictChunk = (obs, opts) => {
      seen = opts?.embodiment;
      return obs.stamp > 0.35 ? Promise.reject(new Error('model exploded')) : inner(obs, opts);
    };
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 4 }, embodiment: 'sim' });
    await runSync(exec, 4);
    expect(seen).toBe('sim');
    await expect(exec.step(obsAt(4), 4)).rejects.toThrow('model exploded');
  });

  it('rejects bad options', () => {
    const policy = new StubPolicy({ horizon: 4, dim: 1 });
    expect(() => new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 2 }, replanThreshold: -1 })).toThrow(ScheduleError);
    expect(() => new ChunkExecutor({ policy, schedule: { mode: 'warp' } as unknown as ScheduleOptions })).toThrow(/mode 'warp' is unknown/);
  });
});

describe('ChunkExecutor, asynchronous, policy 3 ticks slow', () => {
  const LATENCY = 3;

  for (const schedule of [
    { mode: 'replan', actionsPerChunk: 8 },
    { mode: 'ensemble' },
    { mode: 'blend', actionsPerChunk: 6, blendSteps: 4, ramp: 'exponential' },
  ] satisfies ScheduleOptions[]) {
    it(`${schedule.mode}: never returns null after the first chunk, never starves, and aligns chunks by observation tick`, async () => {
      const policy = new StubPolicy({ horizon: 16, dim: 2, manual: true });
      const exec = new ChunkExecutor({ policy, schedule, async: true, expectedLatencyTicks: LATENCY });
      const out = await runAsync(exec, policy, 60, LATENCY);
      const first = out.findIndex((r) => r.action !== null);
      expect(first).toBe(LATENCY);
      for (let t = first; t < out.length; t++) {
        expect(out[t].action).not.toBeNull();
        expect(out[t].starved).toBe(false);
        // chunks are samples of one trajectory: aligned correctly, every strategy reproduces it
        expect(out[t].action![0]).toBeCloseTo(valueAt(t, 0), 5);
        expect(out[t].action![1]).toBeCloseTo(valueAt(t, 1), 5);
      }
      expect(policy.maxInFlight).toBe(1);
      expect(exec.stats.starvedTicks).toBe(0);
      expect(exec.stats.meanDelayTicks).toBe(LATENCY);
      expect(exec.stats.inferences).toBeGreaterThan(schedule.mode === 'ensemble' ? 12 : 5);
    });
  }

  it('counts starved ticks exactly when the chunk runs out before the next arrives', async () => {
    // horizon 8 = actionsPerChunk and threshold 0: inference starts only when the chunk is spent
    const policy = new StubPolicy({ horizon: 8, dim: 1, manual: true });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 8 }, async: true, replanThreshold: 0 });
    const out = await runAsync(exec, policy, 40, LATENCY);
    const starvedAt = out.flatMap((r, t) => (r.starved ? [t] : []));
    expect(starvedAt).toEqual([8, 9, 10, 16, 17, 18, 24, 25, 26, 32, 33, 34]);
    expect(out.slice(0, 3).every((r) => r.action === null && !r.starved)).toBe(true);
    expect(exec.stats.starvedTicks).toBe(12);
    // starved ticks hold the chunk's last action; the next chunk resumes at its entry for the tick
    expect(out[9].action![0]).toBe(valueAt(7, 0));
    expect(out[11].action![0]).toBe(valueAt(11, 0));
    expect(out.flatMap((r, t) => (r.requested ? [t] : []))).toEqual([0, 8, 16, 24, 32]);
  });

  it('default threshold adapts to the measured delay', async () => {
    const policy = new StubPolicy({ horizon: 12, dim: 1, manual: true });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 8 }, async: true });
    expect(exec.replanThreshold).toBe(2); // 1 tick assumed + 1 margin
    const out = await runAsync(exec, policy, 40, LATENCY);
    expect(exec.replanThreshold).toBe(LATENCY + 1);
    expect(out.slice(LATENCY).every((r) => r.action !== null && !r.starved)).toBe(true);
  });

  it('uses the observation stamp when given a timebase', async () => {
    // observations are one tick old when the step sees them
    const policy = new StubPolicy({ horizon: 16, dim: 1 });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 4 }, timebase: { t0: 0, rateHz: RATE_HZ } });
    const plain = new ChunkExecutor({ policy: new StubPolicy({ horizon: 16, dim: 1 }), schedule: { mode: 'replan', actionsPerChunk: 4 } });
    for (let t = 1; t < 12; t++) {
      const r = await exec.step(obsAt(t, 1), t);
      const p = await plain.step(obsAt(t, 1), t);
      expect(r.action![0]).toBe(valueAt(t, 0));
      expect(p.action![0]).toBe(valueAt(t - 1, 0)); // without it, the chunk is read one tick late
    }
  });

  it('rethrows a policy error on the next step, then recovers', async () => {
    const policy = new StubPolicy({ horizon: 8, dim: 1, manual: true });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 4 }, async: true });
    expect((await exec.step(obsAt(0), 0)).requested).toBe(true);
    policy.rejectAll(new Error('onnx session lost'));
    await flush();
    await expect(exec.step(obsAt(1), 1)).rejects.toThrow('onnx session lost');
    const r = await exec.step(obsAt(2), 2);
    expect(r).toMatchObject({ action: null, requested: true });
    expect(policy.calls).toBe(2);
  });

  it('reset() aborts the in-flight inference and ignores its late result', async () => {
    const policy = new StubPolicy({ horizon: 8, dim: 1, manual: true });
    const exec = new ChunkExecutor({ policy, schedule: { mode: 'replan', actionsPerChunk: 4 }, async: true });
    await runAsync(exec, policy, 6, 2);
    expect(exec.stats.inferences).toBeGreaterThan(0);
    expect(exec.stats.inFlight).toBe(true);
    const signal = policy.signals[policy.signals.length - 1]!;
    // async inference runs beside the ticks, so policies yield between their model calls
    expect(policy.backgrounds.every((b) => b === true)).toBe(true);
    exec.reset();
    expect(signal.aborted).toBe(true);
    expect(exec.stats).toMatchObject({ ticks: 0, inferences: 0, starvedTicks: 0, inFlight: false });
    policy.resolveDue(100, 0); // the abandoned call finishes late
    await flush();
    const r = await exec.step(obsAt(0), 0);
    expect(r).toMatchObject({ action: null, inferred: false, requested: true });
    expect(policy.resets).toBe(1);
  });
});
