import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../src/safety/limits.ts';
import { Watchdog } from '../../src/safety/watchdog.ts';

const fresh = { joint_states: 0.004, agentview: 0.03 };
const q = (...v: number[]): Float64Array => Float64Array.from(v);

describe('Watchdog', () => {
  const make = (): Watchdog => new Watchdog({ maxAges: { joint_states: 0.05, agentview: 0.2 }, jointJumpThreshold: 0.1 });

  it('is ok with fresh inputs, finite actions and smooth joints', () => {
    const w = make();
    for (let k = 0; k < 10; k++) {
      const s = w.check({ now: k * 0.01, inputAges: fresh, actionFinite: true, jointPositions: q(0.01 * k, -0.5) });
      expect(s).toEqual({ ok: true, reasons: [], latched: false });
    }
  });

  it('stops on stale or missing inputs and recovers by itself when they are fresh', () => {
    const w = make();
    const stale = w.check({ now: 1, inputAges: { joint_states: 0.004, agentview: 0.35 }, actionFinite: true });
    expect(stale.ok).toBe(false);
    expect(stale.latched).toBe(false);
    expect(stale.reasons).toEqual(["input 'agentview' is stale: 350.0 ms > 200.0 ms"]);
    const missing = w.check({ now: 1.01, inputAges: { agentview: 0.01 }, actionFinite: true });
    expect(missing.reasons).toEqual(["input 'joint_states' never received"]);
    expect(w.check({ now: 1.02, inputAges: fresh, actionFinite: true }).ok).toBe(true);
  });

  it('latches on a joint jump until reset()', () => {
    const w = make();
    expect(w.check({ now: 0, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0) }).ok).toBe(true);
    const jump = w.check({ now: 0.01, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0.25) });
    expect(jump.ok).toBe(false);
    expect(jump.latched).toBe(true);
    expect(jump.reasons[0]).toMatch(/joint \[1\] jumped 0\.2500 rad \(> 0\.1\) at t=0\.010 s/);
    // smooth and fresh again: still latched
    for (let k = 2; k < 5; k++) {
      const s = w.check({ now: k * 0.01, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0.25) });
      expect(s.ok).toBe(false);
      expect(s.latched).toBe(true);
    }
    w.reset();
    expect(w.latched).toBe(false);
    // history restarts: the first sample after reset is not compared with the old one
    expect(w.check({ now: 1, inputAges: fresh, actionFinite: true, jointPositions: q(1, 1) }).ok).toBe(true);
  });

  it('does not trip on a change just under the threshold', () => {
    const w = make();
    w.check({ now: 0, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0) });
    expect(w.check({ now: 0.01, inputAges: fresh, actionFinite: true, jointPositions: q(0.099, -0.099) }).ok).toBe(true);
  });

  it('latches on a non-finite action or joint state, and on a changed joint count', () => {
    const w = make();
    const s = w.check({ now: 0.5, inputAges: fresh, actionFinite: false });
    expect(s.ok).toBe(false);
    expect(s.reasons).toEqual(['non-finite action at t=0.500 s']);
    expect(w.check({ now: 0.6, inputAges: fresh, actionFinite: true }).latched).toBe(true);
    w.reset();
    expect(w.check({ now: 0.7, inputAges: fresh, actionFinite: true, jointPositions: q(0, Number.NaN) }).reasons[0]).toMatch(/non-finite joint position \[1\]/);
    w.reset();
    w.check({ now: 0.8, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0) });
    expect(w.check({ now: 0.81, inputAges: fresh, actionFinite: true, jointPositions: q(0, 0, 0) }).reasons[0]).toMatch(/length changed from 2 to 3/);
  });

  it('reports latched and stale causes together', () => {
    const w = make();
    w.check({ now: 0, inputAges: fresh, actionFinite: false });
    const s = w.check({ now: 0.1, inputAges: { joint_states: 0.5, agentview: 0.01 }, actionFinite: true });
    expect(s.reasons).toHaveLength(2);
    expect(s.reasons[0]).toContain('non-finite action');
    expect(s.reasons[1]).toContain("'joint_states' is stale");
  });

  it('rejects bad configuration', () => {
    expect(() => new Watchdog({ maxAges: { cam: 0 }, jointJumpThreshold: 0.1 })).toThrow(SafetyError);
    expect(() => new Watchdog({ maxAges: {}, jointJumpThreshold: -1 })).toThrow(/jointJumpThreshold/);
  });
});
