import { describe, expect, it } from 'vitest';
import { homePose } from '../../src/embodiment/description.ts';
import { chainFromArm, forwardKinematics, solveIk, tipPosition } from '../../src/embodiment/kinematics.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { SafetyFilter, brakingDistance, brakingVelocity, type InterventionKind, type SafeCommand } from '../../src/safety/filter.ts';
import { SafetyError, effectiveLimits } from '../../src/safety/limits.ts';

const fr3 = loadRobot('franka/fr3');
const dual = loadRobot('agibot/dual_arm');
const home = homePose(fr3);
const dt = 0.01;

function kinds(c: SafeCommand): InterventionKind[] {
  return [...new Set(c.interventions.map((i) => i.kind))].sort();
}

function withJoint(q: Float64Array, j: number, v: number): Float64Array {
  const out = Float64Array.from(q);
  out[j] = v;
  return out;
}

const open = Float64Array.of(0.08);

describe('braking helpers', () => {
  it('brakingVelocity is the largest speed that still stops within the distance', () => {
    const a = 10, h = 0.01;
    for (const d of [0.001, 0.05, 0.3, 2]) {
      const v = brakingVelocity(d, a, h);
      expect(v * h + (v * v) / (2 * a)).toBeCloseTo(d, 12);
      // discrete braking from v covers no more than the continuous bound
      expect(v * h + brakingDistance(v, a, h)).toBeLessThanOrEqual(d + 1e-12);
    }
    expect(brakingVelocity(0, a, h)).toBe(0);
    expect(brakingVelocity(-1, a, h)).toBe(0);
    // from 1 rad/s at 0.1 rad/s per step: 0.9 + 0.8 + ... + 0.1 = 4.5 rad/s * 0.01 s
    expect(brakingDistance(1, a, h)).toBeCloseTo(0.045, 12);
  });
});

describe('SafetyFilter on joint targets', () => {
  it('passes a small reachable step unchanged', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const target = withJoint(home, 0, home[0] + 0.0005); // 0.05 rad/s from rest: 5 rad/s^2 < 10
    const c = f.filterJointTargets({ target, gripper: open, measured: home });
    expect(c.held).toBe(false);
    expect(c.interventions).toEqual([]);
    expect(Array.from(c.positions)).toEqual(Array.from(target));
  });

  it('rejects NaN / Inf and holds the measured position, then the last safe command', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const bad = withJoint(home, 3, Number.NaN);
    const c1 = f.filterJointTargets({ target: bad, gripper: open, measured: home });
    expect(c1.held).toBe(true);
    expect(kinds(c1)).toEqual(['non_finite']);
    expect(c1.interventions[0].joint).toBe('fr3_joint4');
    expect(Array.from(c1.positions)).toEqual(Array.from(home));

    const step = withJoint(home, 0, home[0] + 0.0005);
    const c2 = f.filterJointTargets({ target: step, gripper: open, measured: home });
    const c3 = f.filterJointTargets({ target: home, gripper: Float64Array.of(Infinity), measured: home });
    expect(c3.held).toBe(true);
    expect(kinds(c3)).toEqual(['non_finite']);
    expect(Array.from(c3.positions)).toEqual(Array.from(c2.positions));
    expect(c3.gripper[0]).toBe(0.08);
  });

  it('limits acceleration from rest', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const c = f.filterJointTargets({ target: withJoint(home, 4, home[4] + 0.01), gripper: open, measured: home });
    expect(kinds(c)).toEqual(['acceleration_limit']);
    expect(c.interventions[0].joint).toBe('fr3_joint5');
    expect(c.positions[4] - home[4]).toBeCloseTo(10 * dt * dt, 12); // a dt^2
  });

  it('limits velocity once up to speed, honouring the velocity scale', () => {
    const f = new SafetyFilter({ robot: fr3, dt, overrides: { velocityScale: 0.5 } });
    let prev = home[0];
    let last: SafeCommand | undefined;
    for (let k = 0; k < 40; k++) {
      last = f.filterJointTargets({ target: withJoint(home, 0, home[0] + 1), gripper: open, measured: home });
      expect(Math.abs(last.positions[0] - prev) / dt).toBeLessThanOrEqual(1.31 + 1e-9);
      prev = last.positions[0];
    }
    expect(kinds(last!)).toEqual(['velocity_limit']);
    expect(f.report().counts.velocity_limit).toBeGreaterThan(20);
  });

  it('clamps targets into the limits minus the margin and stops before them', () => {
    // joint 7 spins the hand about the tool axis, so the TCP stays put and only joint limits act
    const f = new SafetyFilter({ robot: fr3, dt });
    const upper = 3.0159 - 0.02;
    const c0 = f.filterJointTargets({ target: withJoint(home, 6, 10), gripper: open, measured: home });
    expect(kinds(c0)).toEqual(['acceleration_limit', 'position_limit', 'velocity_limit']);
    let p = c0.positions[6];
    let v = (p - home[6]) / dt;
    let maxV = 0;
    for (let k = 0; k < 400; k++) {
      const c = f.filterJointTargets({ target: withJoint(home, 6, 10), gripper: open, measured: home });
      const vNew = (c.positions[6] - p) / dt;
      expect(Math.abs(vNew - v)).toBeLessThanOrEqual(10 * dt + 1e-9); // never an abrupt stop
      expect(c.positions[6]).toBeLessThanOrEqual(upper);
      maxV = Math.max(maxV, vNew);
      p = c.positions[6];
      v = vNew;
    }
    expect(maxV).toBeGreaterThan(3); // well up to speed (max 5.26 rad/s) before braking
    expect(maxV).toBeLessThanOrEqual(5.26);
    expect(p).toBeCloseTo(upper, 6); // and settled at the margin
    expect(v).toBeCloseTo(0, 9);
  });

  it('never moves a joint further out when it starts inside the margin band', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const measured = withJoint(home, 0, 2.7437 - 0.005);
    const out = f.filterJointTargets({ target: withJoint(home, 0, 2.74), gripper: open, measured });
    expect(out.positions[0]).toBe(measured[0]);
    expect(kinds(out)).toContain('position_limit');
    const back = f.filterJointTargets({ target: withJoint(home, 0, 2.7), gripper: open, measured });
    expect(back.positions[0]).toBeLessThan(measured[0]);
  });

  it('keeps the TCP in the workspace box, slowing down before the wall', () => {
    const chain = chainFromArm(fr3.arms[0]);
    const zMin = 0.45; // home TCP is at z = 0.487
    const box = { min: [0.15, -0.6, zMin] as [number, number, number], max: [0.85, 0.6, 0.9] as [number, number, number] };
    const f = new SafetyFilter({ robot: fr3, dt, overrides: { workspace: box } });
    const down = forwardKinematics(chain, home);
    down[11] = 0.3;
    const ik = solveIk({ chain, target: down, q0: home });
    expect(ik.converged).toBe(true);
    let sawWorkspace = false;
    let minZ = Infinity;
    let prevV = new Float64Array(7);
    let prev = home;
    for (let k = 0; k < 300; k++) {
      const c = f.filterJointTargets({ target: ik.q, gripper: open, measured: home });
      const z = tipPosition(chain, c.positions)[2];
      minZ = Math.min(minZ, z);
      expect(z).toBeGreaterThanOrEqual(zMin - 1e-9);
      if (kinds(c).includes('workspace')) sawWorkspace = true;
      if (!c.held) {
        for (let j = 0; j < 7; j++) {
          const v = (c.positions[j] - prev[j]) / dt;
          expect(Math.abs(v - prevV[j])).toBeLessThanOrEqual(10 * dt + 1e-9);
          prevV[j] = v;
        }
      } else prevV = new Float64Array(7);
      prev = c.positions;
    }
    expect(sawWorkspace).toBe(true);
    expect(minZ).toBeLessThan(zMin + 0.01); // it got close to the wall
  });

  it('from a start outside the workspace, allows only steps back towards it', () => {
    const chain = chainFromArm(fr3.arms[0]);
    const z = tipPosition(chain, home)[2];
    const box = { min: [0.15, -0.6, z + 0.05] as [number, number, number], max: [0.85, 0.6, 0.9] as [number, number, number] };
    // joint 4 (elbow) towards -pi lowers the TCP here; towards 0 raises it
    const f = new SafetyFilter({ robot: fr3, dt, overrides: { workspace: box } });
    const out = f.filterJointTargets({ target: withJoint(home, 3, home[3] - 0.0005), gripper: open, measured: home });
    expect(out.held).toBe(true);
    expect(kinds(out)).toEqual(['workspace']);
    expect(Array.from(out.positions)).toEqual(Array.from(home));
    const back = f.filterJointTargets({ target: withJoint(home, 3, home[3] + 0.0005), gripper: open, measured: home });
    expect(back.held).toBe(false);
    expect(tipPosition(chain, back.positions)[2]).toBeGreaterThan(z);
  });

  it('clamps the gripper width to its range', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const c1 = f.filterJointTargets({ target: home, gripper: Float64Array.of(0.2), measured: home });
    expect(kinds(c1)).toEqual(['gripper_range']);
    expect(c1.gripper[0]).toBe(0.08);
    const c2 = f.filterJointTargets({ target: home, gripper: Float64Array.of(-1), measured: home });
    expect(c2.gripper[0]).toBe(0);
    // a float32 round-off above the limit is clamped silently, not counted as an intervention
    const c3 = f.filterJointTargets({ target: home, gripper: Float64Array.of(0.08 + 4e-9), measured: home });
    expect(c3.gripper[0]).toBe(0.08);
    expect(kinds(c3)).not.toContain('gripper_range');
  });

  it('latches a hold until release(), then restarts from the measured position', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const step = withJoint(home, 0, home[0] + 0.0005);
    const c1 = f.filterJointTargets({ target: step, gripper: open, measured: home });
    f.hold('operator e-stop');
    expect(f.isHeld).toBe(true);
    for (let k = 0; k < 3; k++) {
      const c = f.filterJointTargets({ target: withJoint(home, 0, 1), gripper: open, measured: home });
      expect(c.held).toBe(true);
      expect(kinds(c)).toEqual(['hold']);
      expect(c.interventions[0].detail).toContain('operator e-stop');
      expect(Array.from(c.positions)).toEqual(Array.from(c1.positions));
    }
    f.release();
    const measured = withJoint(home, 1, home[1] + 0.1);
    const c = f.filterJointTargets({ target: measured, gripper: open, measured });
    expect(c.held).toBe(false);
    expect(Array.from(c.positions)).toEqual(Array.from(measured));
    const r = f.report();
    expect(r.commands).toBe(5);
    expect(r.held).toBe(3);
    expect(r.counts.hold).toBe(3);
  });

  it('rejects commands of the wrong size and non-finite measurements with nothing to hold', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    expect(() => f.filterJointTargets({ target: new Float64Array(6), gripper: open, measured: home })).toThrow(SafetyError);
    expect(() => f.filterJointTargets({ target: home, gripper: new Float64Array(2), measured: home })).toThrow(/gripper has 2 values, franka\/fr3 needs 1/);
    expect(() => f.filterJointTargets({ target: home, gripper: open, measured: withJoint(home, 2, Number.NaN) })).toThrow(/fr3_joint3 is NaN/);
    expect(() => new SafetyFilter({ robot: fr3, dt: 0 })).toThrow(SafetyError);
    expect(() => new SafetyFilter({ robot: fr3, dt, overrides: { velocityScale: 1.5 } })).toThrow(/velocityScale must be in \(0, 1\]/);
  });

  it('handles both arms of the dual arm, with per-arm workspace boxes', () => {
    const f = new SafetyFilter({ robot: dual, dt });
    const q = homePose(dual);
    const target = Float64Array.from(q);
    target[0] += 0.0004;
    target[7] = Number.NaN;
    const held = f.filterJointTargets({ target, gripper: Float64Array.of(0.08, 0.08), measured: q });
    expect(held.held).toBe(true);
    expect(held.interventions[0].joint).toBe('idx61_arm_r_joint1');
    target[7] = q[7] - 0.0004;
    const c = f.filterJointTargets({ target, gripper: Float64Array.of(0.04, 0.5), measured: q });
    expect(c.held).toBe(false);
    expect(c.positions).toHaveLength(14);
    expect(Array.from(c.positions)).toEqual(Array.from(target));
    expect(Array.from(c.gripper)).toEqual([0.04, 0.08]);
    expect(c.interventions).toEqual([{ kind: 'gripper_range', arm: 'right', detail: expect.stringContaining('clamped') }]);
    const lim = effectiveLimits(dual);
    expect(lim.workspace[0].min[1]).toBe(-0.15);
    expect(lim.workspace[1].max[1]).toBe(0.15);
  });
});

describe('SafetyFilter on end-effector deltas', () => {
  const chain = chainFromArm(fr3.arms[0]);
  const p0 = tipPosition(chain, home);

  it('turns non-finite deltas into zero motion', () => {
    const f = new SafetyFilter({ robot: fr3, dt });
    const c = f.filterEeDelta({ delta: Float64Array.of(0.001, Number.NaN, 0, 0, 0, 0), gripper: 0.04, measured: home });
    expect(c.held).toBe(true);
    expect(Array.from(c.delta)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(kinds(c as unknown as SafeCommand)).toEqual(['non_finite']);
    expect(c.gripper[0]).toBe(0.08); // home width: no gripper command seen yet
  });

  it('limits translation and rotation per period by the scaled Cartesian velocity', () => {
    const f = new SafetyFilter({ robot: fr3, dt, overrides: { cartesianVelocityScale: 0.1 } });
    const c = f.filterEeDelta({ delta: Float64Array.of(0.0, 0.3, 0.4, 1, 0, 0), gripper: 0.04, measured: home });
    expect(Math.hypot(c.delta[0], c.delta[1], c.delta[2])).toBeCloseTo(3.0 * 0.1 * dt, 12);
    expect(c.delta[2] / c.delta[1]).toBeCloseTo(0.4 / 0.3, 12); // direction kept
    expect(Math.hypot(c.delta[3], c.delta[4], c.delta[5])).toBeCloseTo(2.5 * 0.1 * dt, 12);
    expect(c.interventions.filter((i) => i.kind === 'velocity_limit')).toHaveLength(2);
    expect(c.gripper[0]).toBe(0.04);
  });

  it('clips a delta that would leave the workspace onto the box', () => {
    const box = { min: [0.15, -0.6, p0[2] - 0.005] as [number, number, number], max: [0.85, 0.6, 0.9] as [number, number, number] };
    const f = new SafetyFilter({ robot: fr3, dt, overrides: { workspace: box } });
    const c = f.filterEeDelta({ delta: Float64Array.of(0.002, 0, -0.02, 0, 0, 0), gripper: 0.04, measured: home });
    expect(kinds(c as unknown as SafeCommand)).toEqual(['workspace']);
    expect(p0[2] + c.delta[2]).toBeCloseTo(box.min[2], 12);
    expect(c.delta[0]).toBeCloseTo(0.002, 12);
  });

  it('accepts 6 values per arm on the dual arm', () => {
    const f = new SafetyFilter({ robot: dual, dt });
    const c = f.filterEeDelta({ delta: new Float64Array(12).fill(0.001), gripper: Float64Array.of(0.02, 0.03), measured: homePose(dual) });
    expect(c.delta).toHaveLength(12);
    expect(c.interventions).toEqual([]);
    expect(() => f.filterEeDelta({ delta: new Float64Array(6), gripper: 0.02, measured: homePose(dual) })).toThrow(SafetyError);
  });
});
