import { describe, expect, it } from 'vitest';
import { BlendSchedule, maxRampStep, rampWeights } from '../../src/schedule/blend.ts';
import { createSchedule } from '../../src/schedule/create.ts';
import { EnsembleSchedule, ensembleWeights } from '../../src/schedule/ensemble.ts';
import { ScheduleError } from '../../src/schedule/errors.ts';
import { ReplanSchedule } from '../../src/schedule/replan.ts';
import { stampToTick, tickToStamp } from '../../src/schedule/timebase.ts';
import type { ActionChunk } from '../../src/policy/types.ts';
import { Rng } from '../../src/util/random.ts';
import { chunkOf } from './stub-policy.ts';

/** 1-D chunk with values f(k), k = 0..horizon-1 */
function chunk1(horizon: number, f: (k: number) => number): ActionChunk {
  return chunkOf(Array.from({ length: horizon }, (_, k) => [f(k)]));
}

describe('replan', () => {
  it('runs the first actionsPerChunk actions, then is due; runs past them if late, then holds and counts starved ticks', () => {
    const s = new ReplanSchedule({ actionsPerChunk: 3 });
    expect(s.next(0)).toBeNull();
    expect(s.ticksUntilDue(0)).toBe(0);
    expect(s.onChunk(chunk1(5, (k) => 10 + k), 0)).toBe(true);
    const out = [0, 1, 2].map((t) => s.next(t)![0]);
    expect(out).toEqual([10, 11, 12]);
    expect(s.ticksUntilDue(3)).toBe(0);
    expect(s.ticksUntilDue(1)).toBe(2);
    // no new chunk: the rest of the horizon, then hold
    expect([3, 4, 5, 6].map((t) => s.next(t)![0])).toEqual([13, 14, 14, 14]);
    expect(s.starvedTicks).toBe(2);
    // a chunk observed at tick 5 arriving at tick 7 starts at its entry 2
    expect(s.onChunk(chunk1(5, (k) => 20 + k), 5)).toBe(true);
    expect(s.next(7)![0]).toBe(22);
    expect(s.starvedTicks).toBe(2);
  });

  it('drops stale and out-of-order chunks', () => {
    const s = new ReplanSchedule({ actionsPerChunk: 2 });
    s.onChunk(chunk1(4, (k) => k), 4);
    for (let t = 4; t < 9; t++) s.next(t);
    expect(s.onChunk(chunk1(4, () => 99), 3)).toBe(false); // older than the current chunk
    expect(s.onChunk(chunk1(4, () => 99), 5)).toBe(false); // covers ticks 5..8, all executed
    expect(s.next(9)![0]).toBe(3);
  });

  it('rejects bad options, shapes and ticks with ScheduleError', () => {
    expect(() => new ReplanSchedule({ actionsPerChunk: 0 })).toThrow(ScheduleError);
    const s = new ReplanSchedule({ actionsPerChunk: 8 });
    expect(() => s.onChunk(chunk1(5, () => 0), 0)).toThrow(/exceeds the chunk horizon 5/);
    const r = new ReplanSchedule({ actionsPerChunk: 2 });
    r.onChunk(chunk1(4, () => 0), 0);
    expect(() => r.onChunk(chunkOf([[0, 0], [0, 0]]), 1)).toThrow(/dim 2 but earlier chunks had 1/);
    r.next(3);
    expect(() => r.next(2)).toThrow(/must not go backwards/);
    expect(() => r.next(1.5)).toThrow(ScheduleError);
  });

  it('reset forgets chunks, held action and counters', () => {
    const s = createSchedule({ mode: 'replan', actionsPerChunk: 1 });
    s.onChunk(chunk1(1, () => 5), 0);
    s.next(0);
    s.next(1);
    expect(s.starvedTicks).toBe(1);
    s.reset();
    expect(s.starvedTicks).toBe(0);
    expect(s.next(0)).toBeNull();
    expect(s.covers(0)).toBe(false);
  });
});

describe('ensemble', () => {
  it('weights exp(-m i), oldest first, normalized', () => {
    const w = ensembleWeights(3, 0.5);
    expect(w[0]).toBeCloseTo(0.506480391055654, 12);
    expect(w[1]).toBeCloseTo(0.3071958857184984, 12);
    expect(w[2]).toBeCloseTo(0.1863237232258476, 12);
    expect(ensembleWeights(4, 0)).toEqual(Float64Array.from([0.25, 0.25, 0.25, 0.25]));
  });

  it('averages every live chunk for the tick, matching a hand computation; gripper dims take the newest', () => {
    const s = new EnsembleSchedule({ decay: 0.5, gripperDims: [1] });
    // chunk i observed at tick i: dim 0 = 10 (i+1) + k, dim 1 (gripper) = i % 2
    const c = (i: number) => chunkOf(Array.from({ length: 4 }, (_, k) => [10 * (i + 1) + k, i % 2]));
    const out: Float32Array[] = [];
    for (let t = 0; t < 3; t++) {
      s.onChunk(c(t), t);
      out.push(s.next(t)!);
    }
    out.push(s.next(3)!, s.next(4)!);
    expect(out[0][0]).toBe(10);
    // tick 2: 12, 21, 30 with weights 1, e^-0.5, e^-1
    expect(out[2][0]).toBeCloseTo(18.118589989531742, 4);
    expect(out[2][1]).toBe(0); // newest chunk (i = 2) says 0; the mean would be 1/3-ish
    expect(out[1][1]).toBe(1);
    expect(out[3][0]).toBeCloseTo(19.118589989531742, 4);
    // tick 4: chunk 0 (ticks 0..3) has expired; 23 and 32 remain
    expect(out[4][0]).toBeCloseTo(26.397866019183308, 4);
    expect(s.starvedTicks).toBe(0);
    // tick 5: chunk 2 alone (entry 3); tick 6: nothing covers it, hold and count once per tick
    expect(s.next(5)![0]).toBe(33);
    expect(s.next(6)![0]).toBe(33);
    expect(s.next(6)![0]).toBe(33);
    expect(s.starvedTicks).toBe(1);
  });

  it('is due every actionsPerChunk ticks (ACT: every tick)', () => {
    const s = new EnsembleSchedule();
    s.onChunk(chunk1(4, () => 0), 2);
    expect(s.ticksUntilDue(2)).toBe(1);
    expect(s.ticksUntilDue(3)).toBe(0);
  });

  it('rejects gripper dims outside the action', () => {
    const s = new EnsembleSchedule({ gripperDims: [3] });
    expect(() => s.onChunk(chunk1(4, () => 0), 0)).toThrow(/gripperDims entry 3 is outside the action dim 1/);
    expect(() => new EnsembleSchedule({ decay: -1 })).toThrow(ScheduleError);
  });
});

describe('blend', () => {
  it('skips the entries for executed ticks and ramps linearly to the new chunk', () => {
    const s = new BlendSchedule({ actionsPerChunk: 5, blendSteps: 4 });
    s.onChunk(chunk1(10, (k) => k), 0); // old: ticks 0..9 -> 0..9
    const out: number[] = [];
    for (let t = 0; t < 5; t++) out.push(s.next(t)![0]);
    // observed at tick 2, arrives when ticks 0..4 have run: delay 3
    expect(s.onChunk(chunk1(10, (k) => 100 + k), 2)).toBe(true); // ticks 2..11 -> 100..109
    for (let t = 5; t < 13; t++) out.push(s.next(t)![0]);
    expect(out.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    // tick 5: 5 + 1/4 (103 - 5); tick 6: 6 + 1/2 (104 - 6); tick 7: 7 + 3/4 (105 - 7)
    expect(out[5]).toBeCloseTo(29.5, 5);
    expect(out[6]).toBeCloseTo(55, 5);
    expect(out[7]).toBeCloseTo(80.5, 5);
    // then the new chunk alone, at its entry for the tick (not replayed from entry 0)
    expect(out.slice(8, 12)).toEqual([106, 107, 108, 109]);
    expect(out[12]).toBe(109);
    expect(s.starvedTicks).toBe(1);
  });

  it('after starving, ramps from the held action', () => {
    const s = new BlendSchedule({ actionsPerChunk: 5, blendSteps: 2 });
    s.onChunk(chunk1(5, (k) => k), 0);
    const held = [0, 1, 2, 3, 4, 5, 6].map((t) => s.next(t)![0]);
    expect(held.slice(4)).toEqual([4, 4, 4]);
    expect(s.starvedTicks).toBe(2);
    s.onChunk(chunk1(6, (k) => 50 + k), 5);
    // tick 7: 4 + 1/2 (52 - 4) = 28; tick 8: 53
    expect(s.next(7)![0]).toBeCloseTo(28, 5);
    expect(s.next(8)![0]).toBe(53);
    expect(s.starvedTicks).toBe(2);
  });

  it('exponential ramp rises faster at first and ends at 1; linear steps are 1/blendSteps', () => {
    const lin = rampWeights(4, 'linear');
    const exp = rampWeights(4, 'exponential');
    expect(Array.from(lin)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(exp[3]).toBe(1);
    expect(exp[0]).toBeGreaterThan(0.25);
    for (let k = 1; k < 4; k++) expect(exp[k]).toBeGreaterThan(exp[k - 1]);
    expect(maxRampStep(4, 'linear')).toBeCloseTo(0.25, 12);
    expect(maxRampStep(4, 'exponential')).toBeCloseTo(exp[0], 12);
    expect(maxRampStep(0)).toBe(1);
    expect(() => new BlendSchedule({ actionsPerChunk: 2, blendSteps: 2, ramp: 'cubic' as 'linear' })).toThrow(/ramp 'cubic' is unknown/);
  });

  /** a random walk: start + sum of steps in [-0.1, 0.1] */
  function walk(rng: Rng, n: number, start: number, dim: number): number[][] {
    const rows: number[][] = [];
    let x = Array.from({ length: dim }, () => start + rng.uniform());
    for (let k = 0; k < n; k++) {
      rows.push(x);
      x = x.map((v) => v + 0.2 * (rng.uniform() - 0.5));
    }
    return rows;
  }

  function maxJump(seq: Float32Array[]): number {
    let m = 0;
    for (let t = 1; t < seq.length; t++) for (let j = 0; j < seq[t].length; j++) m = Math.max(m, Math.abs(seq[t][j] - seq[t - 1][j]));
    return m;
  }

  for (const ramp of ['linear', 'exponential'] as const) {
    it(`${ramp}: per-tick change stays within max(|dA|,|dB|) + maxRampStep * max|B - A| (random chunks, delays)`, () => {
      const rng = new Rng(42);
      for (let trial = 0; trial < 200; trial++) {
        const H = 8 + rng.int(12);
        const dim = 3;
        const blendSteps = 1 + rng.int(8);
        const s = new BlendSchedule({ actionsPerChunk: 1, blendSteps, ramp });
        const A = walk(rng, H, 0, dim);
        const B = walk(rng, H, (rng.uniform() - 0.5) * 10, dim);
        const obsB = rng.int(H);
        const now = obsB + rng.int(H - obsB); // delay d = now - obsB, now < obsB + H
        s.onChunk(chunkOf(A), 0);
        const seq: Float32Array[] = [];
        for (let t = 0; t < now; t++) seq.push(s.next(t)!);
        expect(s.onChunk(chunkOf(B), obsB)).toBe(true);
        for (let t = now; t < obsB + H + 2; t++) seq.push(s.next(t)!);
        // bound from the inputs: A held after its end
        const a = (t: number) => A[Math.min(t, H - 1)];
        let gap = 0;
        for (let t = now; t < obsB + H; t++) for (let j = 0; j < dim; j++) gap = Math.max(gap, Math.abs(B[t - obsB][j] - a(t)[j]));
        const step = 0.1;
        const bound = step + maxRampStep(blendSteps, ramp) * gap + 1e-4;
        expect(maxJump(seq)).toBeLessThanOrEqual(bound);
        // the new chunk is reached at its entry for the tick once the ramp is over
        const after = now + blendSteps;
        if (after < obsB + H) expect(Array.from(seq[after])).toEqual(Array.from(Float32Array.from(B[after - obsB])));
      }
    });
  }

  it('without a ramp the output jumps by |B - A| (so the bound above is not vacuous)', () => {
    const s = new BlendSchedule({ actionsPerChunk: 1, blendSteps: 0 });
    s.onChunk(chunk1(10, () => 0), 0);
    const seq = [0, 1, 2].map((t) => s.next(t)!);
    s.onChunk(chunk1(10, () => 5), 1);
    seq.push(s.next(3)!);
    expect(maxJump(seq)).toBe(5);
    const r = new BlendSchedule({ actionsPerChunk: 1, blendSteps: 5 });
    r.onChunk(chunk1(10, () => 0), 0);
    const rs = [0, 1, 2].map((t) => r.next(t)!);
    r.onChunk(chunk1(10, () => 5), 1);
    for (let t = 3; t < 10; t++) rs.push(r.next(t)!);
    expect(maxJump(rs)).toBeCloseTo(1, 5);
  });

  it('stays continuous when a chunk arrives in the middle of a blend', () => {
    const rng = new Rng(7);
    const blendSteps = 6;
    const s = new BlendSchedule({ actionsPerChunk: 1, blendSteps });
    const A = walk(rng, 20, 0, 2);
    const B = walk(rng, 20, 4, 2);
    const C = walk(rng, 20, -4, 2);
    s.onChunk(chunkOf(A), 0);
    const seq: Float32Array[] = [];
    for (let t = 0; t < 5; t++) seq.push(s.next(t)!);
    s.onChunk(chunkOf(B), 3); // ramp A -> B over ticks 5..10
    for (let t = 5; t < 8; t++) seq.push(s.next(t)!);
    s.onChunk(chunkOf(C), 6); // ramp (A->B) -> C from tick 8
    for (let t = 8; t < 26; t++) seq.push(s.next(t)!);
    // starts in [0,1], [4,5], [-4,-3], each drifting < 2 over 20 steps: any two differ by < 13
    const bound = 0.1 + 2 * maxRampStep(blendSteps) * 13;
    expect(maxJump(seq)).toBeLessThanOrEqual(bound);
    // settles on C
    expect(Array.from(seq[20])).toEqual(Array.from(Float32Array.from(C[20 - 6])));
  });
});

describe('timebase', () => {
  it('converts stamps to the nearest tick and back', () => {
    const tb = { t0: 1, rateHz: 20 };
    expect(stampToTick(1.23, tb)).toBe(5);
    expect(stampToTick(0.95, tb)).toBe(-1);
    expect(tickToStamp(5, tb)).toBeCloseTo(1.25, 12);
    for (let k = -3; k < 50; k++) expect(stampToTick(tickToStamp(k, tb), tb)).toBe(k);
    expect(() => stampToTick(0, { t0: 0, rateHz: 0 })).toThrow(/rateHz 0/);
  });
});
