/**
 * The UR5e description: registry, kinematics against UR's published DH table, Jacobian, IK
 * over the task table's workspace, and agreement with its MJCF model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HARDWARE_DIR, listRobots, loadRobot } from '../../src/embodiment/registry.ts';
import { homePose, jointNames } from '../../src/embodiment/description.ts';
import { chainFromArm, forwardKinematics, jacobian, mul4, poseError, solveIk, type Chain } from '../../src/embodiment/kinematics.ts';
import { Rng } from '../../src/util/random.ts';

const ur5e = loadRobot('universal_robots/ur5e');
const fr3 = loadRobot('franka/fr3');
const chain = chainFromArm(ur5e.arms[0]);

/** UR5e standard DH (UR's published table): T_i = RotZ(q_i) TransZ(d_i) TransX(a_i) RotX(alpha_i). */
function ur5eDhFk(q: ArrayLike<number>): Float64Array {
  const d = [0.1625, 0, 0, 0.1333, 0.0997, 0.0996];
  const a = [0, -0.425, -0.3922, 0, 0, 0];
  const alpha = [Math.PI / 2, 0, 0, Math.PI / 2, -Math.PI / 2, 0];
  // base_link -> DH base: pi about z
  let T: Float64Array = Float64Array.of(-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
  for (let i = 0; i < 6; i++) {
    const ct = Math.cos(q[i]), st = Math.sin(q[i]), ca = Math.cos(alpha[i]), sa = Math.sin(alpha[i]);
    const Ti = Float64Array.of(
      ct, -st * ca, st * sa, a[i] * ct,
      st, ct * ca, -ct * sa, a[i] * st,
      0, sa, ca, d[i],
      0, 0, 0, 1,
    );
    T = mul4(T, Ti);
  }
  // gripper: -pi/2 about the flange z, TCP 0.11 m out
  const tcp = Float64Array.of(0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0.11, 0, 0, 0, 1);
  return mul4(T, tcp);
}

function randomQ(c: Chain, rng: Rng): Float64Array {
  return Float64Array.from(c.lower, (lo, i) => lo + rng.uniform() * (c.upper[i] - lo));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('UR5e description', () => {
  it('is in the registry with 6 joints, UR limits and a 0-0.085 m gripper', () => {
    expect(listRobots()).toContain('universal_robots/ur5e');
    expect(jointNames(ur5e)).toEqual(['shoulder_pan_joint', 'shoulder_lift_joint', 'elbow_joint', 'wrist_1_joint', 'wrist_2_joint', 'wrist_3_joint']);
    const lim = ur5e.arms[0].joints.map((j) => j.limits);
    expect(lim.map((l) => l.max_position)).toEqual([2 * Math.PI, 2 * Math.PI, Math.PI, 2 * Math.PI, 2 * Math.PI, 2 * Math.PI]);
    expect(lim.map((l) => l.min_position)).toEqual([-2 * Math.PI, -2 * Math.PI, -Math.PI, -2 * Math.PI, -2 * Math.PI, -2 * Math.PI]);
    for (const l of lim) expect(l.max_velocity).toBeCloseTo(Math.PI, 12);
    expect(lim.map((l) => l.max_effort)).toEqual([150, 150, 150, 28, 28, 28]);
    const g = ur5e.arms[0].gripper;
    expect(g.width_range).toEqual([0, 0.085]);
    expect(g.finger_range).toEqual([0, 0.0425]);
    expect(ur5e.cameras.map((c) => c.name)).toEqual(['agentview', 'eye_in_hand']);
    expect(homePose(ur5e)).toHaveLength(6);
  });

  it('agrees with its MJCF on joint names and ranges', () => {
    const xml = readFileSync(join(DEFAULT_HARDWARE_DIR, 'universal_robots/ur5e.mjcf.xml'), 'utf8');
    const ranges = new Map<string, [number, number]>();
    for (const m of xml.matchAll(/<joint\s+name="([^"]+)"[^>]*?range="([-\d.e]+)\s+([-\d.e]+)"/g)) ranges.set(m[1], [Number(m[2]), Number(m[3])]);
    for (const j of ur5e.arms[0].joints) {
      const r = ranges.get(j.name);
      expect(r, j.name).toBeDefined();
      expect(r![0]).toBeCloseTo(j.limits.min_position, 12);
      expect(r![1]).toBeCloseTo(j.limits.max_position, 12);
    }
    for (const f of ur5e.arms[0].gripper.joints) expect(xml).toContain(`name="${f}"`);
  });
});

describe('UR5e forward kinematics', () => {
  it('matches the published DH table for random joint positions', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 200; k++) {
      const q = randomQ(chain, rng);
      expect(maxAbsDiff(forwardKinematics(chain, q), ur5eDhFk(q))).toBeLessThan(1e-12);
    }
  });

  it('puts the zero-pose TCP at the stretched-out position (reach 0.817 m along +x)', () => {
    const T = forwardKinematics(chain, new Float64Array(6));
    expect(T[3]).toBeCloseTo(0.425 + 0.3922, 12);
    expect(T[7]).toBeCloseTo(0.1333 + 0.0996 + 0.11, 12); // tool along +y
    expect(T[11]).toBeCloseTo(0.1625 - 0.0997, 12);
    expect(T[6]).toBeCloseTo(1, 12);
  });

  it('starts at the FR3 ready pose TCP pose (position within 0.2 mm, same orientation)', () => {
    const u = forwardKinematics(chain, ur5e.arms[0].home);
    const f = forwardKinematics(chainFromArm(fr3.arms[0]), fr3.arms[0].home);
    const e = poseError(f, u);
    expect(Math.hypot(e[0], e[1], e[2])).toBeLessThan(2e-4);
    expect(Math.hypot(e[3], e[4], e[5])).toBeLessThan(1e-4);
    expect(u[10]).toBeCloseTo(-1, 6); // pointing down
  });
});

describe('UR5e Jacobian and IK', () => {
  it('the Jacobian matches finite differences of the forward kinematics', () => {
    const rng = new Rng(5);
    const h = 1e-6;
    for (let k = 0; k < 20; k++) {
      const q = randomQ(chain, rng);
      const J = jacobian(chain, q);
      const T0 = forwardKinematics(chain, q);
      for (let c = 0; c < 6; c++) {
        const qp = Float64Array.from(q);
        qp[c] += h;
        const e = poseError(forwardKinematics(chain, qp), T0);
        for (let r = 0; r < 6; r++) expect(Math.abs(J[r * 6 + c] - e[r] / h)).toBeLessThan(1e-5);
      }
    }
  });

  it('IK recovers random reachable poses from a nearby start', () => {
    const rng = new Rng(3);
    let converged = 0;
    for (let k = 0; k < 50; k++) {
      const qt = randomQ(chain, rng);
      const q0 = Float64Array.from(qt, (v) => v + 0.3 * (rng.uniform() - 0.5));
      const res = solveIk({ chain, target: forwardKinematics(chain, qt), q0 });
      if (res.converged) converged++;
      else expect(res.positionError, `pose ${k}`).toBeLessThan(1e-3);
    }
    expect(converged).toBeGreaterThanOrEqual(48);
  });

  it('reaches the whole task table (x 0.35-0.75, y +-0.3, 2-30 cm up) with the gripper down, in both finger directions', () => {
    const c = chainFromArm(ur5e.arms[0]);
    let n = 0;
    for (const x of [0.35, 0.45, 0.55, 0.65, 0.75]) {
      for (const y of [-0.3, -0.15, 0, 0.15, 0.3]) {
        for (const z of [0.02, 0.1, 0.3]) {
          for (const yaw of [0, Math.PI / 2]) {
            const cy = Math.cos(yaw), sy = Math.sin(yaw);
            // Rz(yaw) * diag(1, -1, -1): TCP z down
            const target = Float64Array.of(cy, sy, 0, x, sy, -cy, 0, y, 0, 0, -1, z, 0, 0, 0, 1);
            const res = solveIk({ chain: c, target, q0: ur5e.arms[0].home, maxIters: 500 });
            expect(res.converged, `(${x}, ${y}, ${z}) yaw ${yaw.toFixed(2)}: ${res.positionError} m`).toBe(true);
            res.q.forEach((v, i) => {
              expect(v).toBeGreaterThanOrEqual(c.lower[i]);
              expect(v).toBeLessThanOrEqual(c.upper[i]);
            });
            n++;
          }
        }
      }
    }
    expect(n).toBe(150);
  });
});
