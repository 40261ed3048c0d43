import { describe, expect, it } from 'vitest';
import { loadRobot } from '../../src/embodiment/registry.ts';
import {
  chainFromArm,
  forwardKinematics,
  jacobian,
  matrixToPose,
  mul4,
  poseToMatrix,
  rotationLog,
  axisAngleToMatrix4,
  solveIk,
  type Chain,
} from '../../src/embodiment/kinematics.ts';
import { Rng } from '../../src/util/random.ts';

const fr3 = loadRobot('franka/fr3');
const panda = loadRobot('franka/panda');
const dual = loadRobot('agibot/dual_arm');

/** Classic Franka modified-DH (Craig) FK: T_i = RotX(alpha_{i-1}) TransX(a_{i-1}) RotZ(theta_i) TransZ(d_i). */
function frankaDhFk(q: ArrayLike<number>): Float64Array {
  const a = [0, 0, 0, 0.0825, -0.0825, 0, 0.088, 0];
  const d = [0.333, 0, 0.316, 0, 0.384, 0, 0, 0.107];
  const alpha = [0, -Math.PI / 2, Math.PI / 2, Math.PI / 2, -Math.PI / 2, Math.PI / 2, Math.PI / 2, 0];
  let T = poseToMatrix({ position: new Float64Array(3), quaternion: Float64Array.of(0, 0, 0, 1) });
  for (let i = 0; i < 8; i++) {
    const th = i < 7 ? q[i] : 0;
    const ca = Math.cos(alpha[i]), sa = Math.sin(alpha[i]), ct = Math.cos(th), st = Math.sin(th);
    const Ti = Float64Array.of(
      ct, -st, 0, a[i],
      st * ca, ct * ca, -sa, -sa * d[i],
      st * sa, ct * sa, ca, ca * d[i],
      0, 0, 0, 1,
    );
    T = mul4(T, Ti);
  }
  // Franka Hand: -pi/4 about z, TCP 0.1034 m along z
  const hand = axisAngleToMatrix4([0, 0, 1], -Math.PI / 4);
  hand[11] = 0.1034;
  return mul4(T, hand);
}

function randomQ(chain: Chain, rng: Rng): Float64Array {
  return Float64Array.from(chain.lower, (lo, i) => lo + rng.uniform() * (chain.upper[i] - lo));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('Franka forward kinematics', () => {
  const chain = chainFromArm(fr3.arms[0]);

  it('puts the TCP at the derived zero-pose position, pointing down', () => {
    const T = forwardKinematics(chain, new Float64Array(7));
    // x: joint-7 offset a = 0.088; z: 0.333 + 0.316 + 0.384 up, then flange 0.107 and hand 0.1034 pointing down
    expect(T[3]).toBeCloseTo(0.088, 12);
    expect(T[7]).toBeCloseTo(0, 12);
    expect(T[11]).toBeCloseTo(0.333 + 0.316 + 0.384 - 0.107 - 0.1034, 12);
    expect(T[11]).toBeCloseTo(0.8226, 12);
    expect(T[10]).toBeCloseTo(-1, 12); // TCP z axis = -z of the base
  });

  it('puts the TCP of the ready pose at the well-known (0.307, 0, 0.487)', () => {
    const T = forwardKinematics(chain, fr3.arms[0].home);
    expect(T[3]).toBeCloseTo(0.3069, 4);
    expect(T[7]).toBeCloseTo(0, 10);
    expect(T[11]).toBeCloseTo(0.4869, 4);
  });

  it('matches the modified-DH table for random joint positions (FR3 and Panda)', () => {
    const rng = new Rng(7);
    for (const robot of [fr3, panda]) {
      const c = chainFromArm(robot.arms[0]);
      for (let k = 0; k < 200; k++) {
        const q = randomQ(c, rng);
        expect(maxAbsDiff(forwardKinematics(c, q), frankaDhFk(q))).toBeLessThan(1e-12);
      }
    }
  });

  it('flange tip is 0.1034 m from the TCP along the tool axis', () => {
    const flange = chainFromArm(fr3.arms[0], { tip: 'flange' });
    const q = fr3.arms[0].home;
    const Tf = forwardKinematics(flange, q);
    const Tt = forwardKinematics(chain, q);
    const d = Math.hypot(Tt[3] - Tf[3], Tt[7] - Tf[7], Tt[11] - Tf[11]);
    expect(d).toBeCloseTo(0.1034, 12);
  });
});

describe('geometric Jacobian', () => {
  for (const [label, robot, arm] of [
    ['fr3', fr3, 0],
    ['dual_arm right', dual, 1],
  ] as const) {
    it(`matches central finite differences (${label})`, () => {
      const chain = chainFromArm(robot.arms[arm]);
      const rng = new Rng(11);
      const h = 1e-6;
      for (let k = 0; k < 50; k++) {
        const q = randomQ(chain, rng);
        const J = jacobian(chain, q);
        const n = q.length;
        for (let j = 0; j < n; j++) {
          const qp = Float64Array.from(q), qm = Float64Array.from(q);
          qp[j] += h;
          qm[j] -= h;
          const Tp = forwardKinematics(chain, qp), Tm = forwardKinematics(chain, qm);
          const lin = [(Tp[3] - Tm[3]) / (2 * h), (Tp[7] - Tm[7]) / (2 * h), (Tp[11] - Tm[11]) / (2 * h)];
          // angular: log(R+ R-^T) / 2h
          const R = new Float64Array(9);
          for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
            R[r * 3 + c] = Tp[r * 4] * Tm[c * 4] + Tp[r * 4 + 1] * Tm[c * 4 + 1] + Tp[r * 4 + 2] * Tm[c * 4 + 2];
          }
          const w = rotationLog(R, 3);
          const col = [0, 1, 2, 3, 4, 5].map((r) => J[r * n + j]);
          expect(maxAbsDiff(col, [...lin, w[0] / (2 * h), w[1] / (2 * h), w[2] / (2 * h)])).toBeLessThan(1e-6);
        }
      }
    });
  }
});

describe('rotations', () => {
  it('rotationLog inverts axisAngleToMatrix4, including angles near pi', () => {
    const rng = new Rng(3);
    for (let k = 0; k < 500; k++) {
      const ax = [rng.normal(), rng.normal(), rng.normal()];
      const n = Math.hypot(...ax);
      const axis = ax.map((v) => v / n);
      const angle = k < 50 ? Math.PI - 1e-7 * k : rng.uniform() * Math.PI * 0.999;
      const w = rotationLog(axisAngleToMatrix4(axis, angle));
      const expected = axis.map((v) => v * angle);
      expect(maxAbsDiff(w, expected)).toBeLessThan(k < 50 ? 1e-6 : 1e-9);
    }
  });

  it('pose <-> matrix round trip keeps the transform', () => {
    const chain = chainFromArm(fr3.arms[0]);
    const rng = new Rng(5);
    for (let k = 0; k < 100; k++) {
      const T = forwardKinematics(chain, randomQ(chain, rng));
      const p = matrixToPose(T);
      expect(p.quaternion[3]).toBeGreaterThanOrEqual(0);
      expect(Math.hypot(...p.quaternion)).toBeCloseTo(1, 12);
      expect(maxAbsDiff(poseToMatrix(p), T)).toBeLessThan(1e-12);
    }
  });
});

describe('damped least-squares IK', () => {
  for (const [label, robot, arm] of [
    ['fr3', fr3, 0],
    ['panda', panda, 0],
    ['dual_arm left', dual, 0],
  ] as const) {
    it(`round-trips random reachable poses from a nearby start (${label})`, () => {
      const chain = chainFromArm(robot.arms[arm]);
      const rng = new Rng(21);
      let iters = 0;
      for (let k = 0; k < 100; k++) {
        const qTrue = randomQ(chain, rng);
        const target = forwardKinematics(chain, qTrue);
        const q0 = Float64Array.from(qTrue, (v) => v + (rng.uniform() - 0.5) * 0.6);
        const r = solveIk({ chain, target: matrixToPose(target), q0, maxIters: 300 });
        expect(r.converged).toBe(true);
        const T = forwardKinematics(chain, r.q);
        expect(Math.hypot(T[3] - target[3], T[7] - target[7], T[11] - target[11])).toBeLessThan(1e-4);
        const R = new Float64Array(9);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
          R[i * 3 + j] = T[i * 4] * target[j * 4] + T[i * 4 + 1] * target[j * 4 + 1] + T[i * 4 + 2] * target[j * 4 + 2];
        }
        expect(Math.hypot(...rotationLog(R, 3))).toBeLessThan(1e-3);
        for (let j = 0; j < r.q.length; j++) {
          expect(r.q[j]).toBeGreaterThanOrEqual(chain.lower[j]);
          expect(r.q[j]).toBeLessThanOrEqual(chain.upper[j]);
        }
        iters += r.iterations;
      }
      expect(iters / 100).toBeLessThan(20);
    });
  }

  it('reaches most random poses from the home pose', () => {
    const chain = chainFromArm(fr3.arms[0]);
    const rng = new Rng(99);
    let ok = 0;
    for (let k = 0; k < 100; k++) {
      const target = forwardKinematics(chain, randomQ(chain, rng));
      if (solveIk({ chain, target, q0: fr3.arms[0].home, maxIters: 500 }).converged) ok++;
    }
    expect(ok).toBeGreaterThanOrEqual(80); // 90 measured (seed 99, 200 poses); the rest are stuck at joint limits or far branches
  });

  it('reports non-convergence for an unreachable target and stays within limits', () => {
    const chain = chainFromArm(fr3.arms[0]);
    const target = Float64Array.of(1, 0, 0, 2.5, 0, 1, 0, 0, 0, 0, 1, 0.5, 0, 0, 0, 1);
    const r = solveIk({ chain, target, q0: fr3.arms[0].home, maxIters: 100 });
    expect(r.converged).toBe(false);
    expect(r.positionError).toBeGreaterThan(1);
    expect(r.positionError).toBeLessThan(2.5);
    r.q.forEach((v, j) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(chain.lower[j]);
      expect(v).toBeLessThanOrEqual(chain.upper[j]);
    });
  });
});

describe('dual arm kinematics', () => {
  it('home TCPs sit in front of the torso, mirrored, gripper down, inside their boxes', () => {
    const [l, r] = dual.arms.map((a) => forwardKinematics(chainFromArm(a), a.home));
    expect([l[3], l[7], l[11]].map((v) => +v.toFixed(4))).toEqual([0.3946, 0.22, 0.8907]);
    expect([r[3], r[7], r[11]].map((v) => +v.toFixed(4))).toEqual([0.3946, -0.22, 0.8907]);
    expect(l[10]).toBeCloseTo(-1, 3);
    expect(r[10]).toBeCloseTo(-1, 3);
    dual.arms.forEach((a, i) => {
      const box = a.workspace ?? dual.workspace;
      const T = i === 0 ? l : r;
      for (let k = 0; k < 3; k++) {
        expect(T[3 + 4 * k]).toBeGreaterThan(box.min[k]);
        expect(T[3 + 4 * k]).toBeLessThan(box.max[k]);
      }
    });
  });

  it('hangs straight down at zero: shoulder 1.35 m minus 0.32 + 0.30 + 0.05 + 0.1034', () => {
    const T = forwardKinematics(chainFromArm(dual.arms[0]), new Float64Array(7));
    expect(T[3]).toBeCloseTo(0, 12);
    expect(T[7]).toBeCloseTo(0.22, 12);
    expect(T[11]).toBeCloseTo(1.35 - 0.32 - 0.3 - 0.05 - 0.1034, 12);
  });

  it('the right arm mirrors the left (yaw joints 3, 5, 7 negated -> y negated)', () => {
    const rng = new Rng(4);
    const left = chainFromArm(dual.arms[0]);
    const right = chainFromArm(dual.arms[1]);
    for (let k = 0; k < 50; k++) {
      const q = randomQ(left, rng);
      const qm = Float64Array.from(q, (v, i) => (i === 2 || i === 4 || i === 6 ? -v : v));
      const a = forwardKinematics(left, q), b = forwardKinematics(right, qm);
      expect(b[3]).toBeCloseTo(a[3], 12);
      expect(b[7]).toBeCloseTo(-a[7], 12);
      expect(b[11]).toBeCloseTo(a[11], 12);
    }
  });
});
