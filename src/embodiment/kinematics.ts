/**
 * Serial-chain kinematics on typed arrays: forward kinematics, link frames, the geometric
 * Jacobian and damped least-squares IK.
 *
 * Conventions: homogeneous transforms are 4x4 row-major Float64Array(16); rotations 3x3
 * row-major; quaternions [x, y, z, w] (ROS / three.js order). Every pose is in the robot
 * base frame (the chain's `base` transform is the arm mount), lengths in m, angles in rad.
 */
import type { ArmDescription, Origin } from './description.ts';

/** A chain of revolute joints, precomputed from an arm description. */
export interface Chain {
  /** joint names, in order */
  readonly joints: readonly string[];
  /** arm mount in the robot base frame, 4x4 */
  readonly base: Float64Array;
  /** per joint: joint frame in the parent frame at q = 0, 4x4 */
  readonly origins: readonly Float64Array[];
  /** per joint: unit rotation axis in the joint frame, 3 */
  readonly axes: readonly Float64Array[];
  /** last joint frame -> tip (flange, or flange * tcp), 4x4 */
  readonly tip: Float64Array;
  /** joint position limits, rad (used by IK) */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

export interface Pose {
  /** m */
  position: Float64Array;
  /** unit quaternion [x, y, z, w] */
  quaternion: Float64Array;
}

// ---------------------------------------------------------------- small linear algebra

export function identity4(out: Float64Array = new Float64Array(16)): Float64Array {
  out.fill(0);
  out[0] = out[5] = out[10] = out[15] = 1;
  return out;
}

/** out = a * b (4x4); out may alias neither a nor b. */
export function mul4(a: Float64Array, b: Float64Array, out: Float64Array = new Float64Array(16)): Float64Array {
  for (let r = 0; r < 4; r++) {
    const a0 = a[r * 4], a1 = a[r * 4 + 1], a2 = a[r * 4 + 2], a3 = a[r * 4 + 3];
    for (let c = 0; c < 4; c++) out[r * 4 + c] = a0 * b[c] + a1 * b[4 + c] + a2 * b[8 + c] + a3 * b[12 + c];
  }
  return out;
}

/** out = a * b for rigid transforms (4x4 whose last row is 0 0 0 1); half the work of mul4. */
export function mulAffine(a: Float64Array, b: Float64Array, out: Float64Array = new Float64Array(16)): Float64Array {
  for (let r = 0; r < 12; r += 4) {
    const a0 = a[r], a1 = a[r + 1], a2 = a[r + 2];
    out[r] = a0 * b[0] + a1 * b[4] + a2 * b[8];
    out[r + 1] = a0 * b[1] + a1 * b[5] + a2 * b[9];
    out[r + 2] = a0 * b[2] + a1 * b[6] + a2 * b[10];
    out[r + 3] = a0 * b[3] + a1 * b[7] + a2 * b[11] + a[r + 3];
  }
  out[12] = 0; out[13] = 0; out[14] = 0; out[15] = 1;
  return out;
}

const IDENTITY4 = identity4();

/** out = t * Rot(axis, angle) (Rodrigues) for a rigid transform t: the joint rotation applied in t's frame; out may be t. */
export function rotateAffine(t: Float64Array, axis: ArrayLike<number>, angle: number, out: Float64Array): Float64Array {
  const x = axis[0], y = axis[1], z = axis[2];
  const c = Math.cos(angle), s = Math.sin(angle), k = 1 - c;
  const r00 = k * x * x + c, r01 = k * x * y - s * z, r02 = k * x * z + s * y;
  const r10 = k * x * y + s * z, r11 = k * y * y + c, r12 = k * y * z - s * x;
  const r20 = k * x * z - s * y, r21 = k * y * z + s * x, r22 = k * z * z + c;
  for (let r = 0; r < 12; r += 4) {
    const a0 = t[r], a1 = t[r + 1], a2 = t[r + 2];
    out[r] = a0 * r00 + a1 * r10 + a2 * r20;
    out[r + 1] = a0 * r01 + a1 * r11 + a2 * r21;
    out[r + 2] = a0 * r02 + a1 * r12 + a2 * r22;
    out[r + 3] = t[r + 3];
  }
  out[12] = 0; out[13] = 0; out[14] = 0; out[15] = 1;
  return out;
}

/** Rotation matrix (3x3 row-major) from URDF fixed-axis roll, pitch, yaw: R = Rz(yaw) Ry(pitch) Rx(roll). */
export function rpyToMatrix(roll: number, pitch: number, yaw: number, out: Float64Array = new Float64Array(9)): Float64Array {
  const cr = Math.cos(roll), sr = Math.sin(roll);
  const cp = Math.cos(pitch), sp = Math.sin(pitch);
  const cy = Math.cos(yaw), sy = Math.sin(yaw);
  out[0] = cy * cp; out[1] = cy * sp * sr - sy * cr; out[2] = cy * sp * cr + sy * sr;
  out[3] = sy * cp; out[4] = sy * sp * sr + cy * cr; out[5] = sy * sp * cr - cy * sr;
  out[6] = -sp;     out[7] = cp * sr;                out[8] = cp * cr;
  return out;
}

/** 4x4 transform of a URDF origin. */
export function originToMatrix(o: Origin, out: Float64Array = new Float64Array(16)): Float64Array {
  const r = rpyToMatrix(o.rpy[0], o.rpy[1], o.rpy[2]);
  identity4(out);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 4 + j] = r[i * 3 + j];
    out[i * 4 + 3] = o.xyz[i];
  }
  return out;
}

/** Rotation by `angle` rad about unit `axis` (Rodrigues), written into the rotation block of a 4x4. */
export function axisAngleToMatrix4(axis: ArrayLike<number>, angle: number, out: Float64Array = new Float64Array(16)): Float64Array {
  return rotateAffine(IDENTITY4, axis, angle, out);
}

/** Rotation vector (axis * angle, rad) of the rotation block of a 4x4 (or a 3x3 with stride 3). */
export function rotationLog(m: Float64Array, stride: 3 | 4 = 4, out: Float64Array = new Float64Array(3)): Float64Array {
  const r = (i: number, j: number): number => m[i * stride + j];
  const tr = r(0, 0) + r(1, 1) + r(2, 2);
  const cosA = Math.min(1, Math.max(-1, (tr - 1) / 2));
  const angle = Math.acos(cosA);
  const wx = r(2, 1) - r(1, 2), wy = r(0, 2) - r(2, 0), wz = r(1, 0) - r(0, 1);
  if (angle < 1e-7) {
    out[0] = wx / 2; out[1] = wy / 2; out[2] = wz / 2;
  } else if (angle < Math.PI - 1e-4) {
    const k = angle / (2 * Math.sin(angle));
    out[0] = wx * k; out[1] = wy * k; out[2] = wz * k;
  } else {
    // near pi the skew part vanishes: take the axis from the symmetric part, sign from the skew part
    const bx = Math.sqrt(Math.max(0, (r(0, 0) + 1) / 2));
    const by = Math.sqrt(Math.max(0, (r(1, 1) + 1) / 2));
    const bz = Math.sqrt(Math.max(0, (r(2, 2) + 1) / 2));
    let ax: number, ay: number, az: number;
    if (bx >= by && bx >= bz) {
      ax = bx; ay = (r(0, 1) + r(1, 0)) / (4 * bx); az = (r(0, 2) + r(2, 0)) / (4 * bx);
    } else if (by >= bz) {
      ay = by; ax = (r(0, 1) + r(1, 0)) / (4 * by); az = (r(1, 2) + r(2, 1)) / (4 * by);
    } else {
      az = bz; ax = (r(0, 2) + r(2, 0)) / (4 * bz); ay = (r(1, 2) + r(2, 1)) / (4 * bz);
    }
    if (ax * wx + ay * wy + az * wz < 0) { ax = -ax; ay = -ay; az = -az; }
    const n = Math.hypot(ax, ay, az);
    out[0] = (ax / n) * angle; out[1] = (ay / n) * angle; out[2] = (az / n) * angle;
  }
  return out;
}

/** Unit quaternion [x, y, z, w] of the rotation block of a 4x4 (Shepperd's method). */
export function matrixToQuaternion(m: Float64Array, out: Float64Array = new Float64Array(4)): Float64Array {
  const m00 = m[0], m01 = m[1], m02 = m[2], m10 = m[4], m11 = m[5], m12 = m[6], m20 = m[8], m21 = m[9], m22 = m[10];
  const tr = m00 + m11 + m22;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    out[3] = s / 4; out[0] = (m21 - m12) / s; out[1] = (m02 - m20) / s; out[2] = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    out[3] = (m21 - m12) / s; out[0] = s / 4; out[1] = (m01 + m10) / s; out[2] = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    out[3] = (m02 - m20) / s; out[0] = (m01 + m10) / s; out[1] = s / 4; out[2] = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    out[3] = (m10 - m01) / s; out[0] = (m02 + m20) / s; out[1] = (m12 + m21) / s; out[2] = s / 4;
  }
  if (out[3] < 0) for (let i = 0; i < 4; i++) out[i] = -out[i]; // canonical: w >= 0
  return out;
}

/** 4x4 transform of a position + quaternion [x, y, z, w]. */
export function poseToMatrix(p: Pose, out: Float64Array = new Float64Array(16)): Float64Array {
  const [x, y, z, w] = p.quaternion;
  const n = Math.hypot(x, y, z, w);
  const qx = x / n, qy = y / n, qz = z / n, qw = w / n;
  identity4(out);
  out[0] = 1 - 2 * (qy * qy + qz * qz); out[1] = 2 * (qx * qy - qz * qw); out[2] = 2 * (qx * qz + qy * qw);
  out[4] = 2 * (qx * qy + qz * qw); out[5] = 1 - 2 * (qx * qx + qz * qz); out[6] = 2 * (qy * qz - qx * qw);
  out[8] = 2 * (qx * qz - qy * qw); out[9] = 2 * (qy * qz + qx * qw); out[10] = 1 - 2 * (qx * qx + qy * qy);
  out[3] = p.position[0]; out[7] = p.position[1]; out[11] = p.position[2];
  return out;
}

export function matrixToPose(m: Float64Array): Pose {
  return { position: Float64Array.of(m[3], m[7], m[11]), quaternion: matrixToQuaternion(m) };
}

// ---------------------------------------------------------------- chains

/** Build the chain of one arm; `tip: 'tcp'` (default) ends at the tool centre point, 'flange' at the flange. */
export function chainFromArm(arm: ArmDescription, opts: { tip?: 'tcp' | 'flange' } = {}): Chain {
  const flange = originToMatrix(arm.flange);
  const tip = opts.tip === 'flange' ? flange : mul4(flange, originToMatrix(arm.tcp));
  return {
    joints: arm.joints.map((j) => j.name),
    base: originToMatrix(arm.mount),
    origins: arm.joints.map((j) => originToMatrix(j.origin)),
    axes: arm.joints.map((j) => Float64Array.from(j.axis)),
    tip,
    lower: Float64Array.from(arm.joints.map((j) => j.limits.min_position)),
    upper: Float64Array.from(arm.joints.map((j) => j.limits.max_position)),
  };
}

function checkQ(chain: Chain, q: ArrayLike<number>): void {
  if (q.length !== chain.origins.length) {
    throw new RangeError(`chain has ${chain.origins.length} joints, got ${q.length} joint positions`);
  }
}

/**
 * Frames of every joint (after its rotation) and of the tip, in the robot base frame:
 * frames[i] for joint i, frames[n] for the tip. Pass `out` to avoid allocation.
 */
// scratch matrices for linkFrames (JS is single-threaded and linkFrames does not re-enter)
const SCRATCH_TMP = new Float64Array(16);
/** per-chain frame buffers for tipPosition, which runs every control tick in the safety filter */
const TIP_FRAMES = new WeakMap<Chain, Float64Array[]>();

export function linkFrames(chain: Chain, q: ArrayLike<number>, out?: Float64Array[]): Float64Array[] {
  checkQ(chain, q);
  const n = chain.origins.length;
  const frames = out ?? Array.from({ length: n + 1 }, () => new Float64Array(16));
  const tmp = SCRATCH_TMP;
  let prev = chain.base;
  for (let i = 0; i < n; i++) {
    mulAffine(prev, chain.origins[i], tmp);
    rotateAffine(tmp, chain.axes[i], q[i], frames[i]);
    prev = frames[i];
  }
  mulAffine(prev, chain.tip, frames[n]);
  return frames;
}

/** Tip pose (TCP or flange) in the robot base frame, 4x4 row-major. */
export function forwardKinematics(chain: Chain, q: ArrayLike<number>): Float64Array {
  const frames = linkFrames(chain, q);
  return frames[frames.length - 1];
}

/** Tip position only, m (for workspace checks). */
export function tipPosition(chain: Chain, q: ArrayLike<number>, out: Float64Array = new Float64Array(3)): Float64Array {
  let frames = TIP_FRAMES.get(chain);
  if (!frames) {
    frames = Array.from({ length: chain.origins.length + 1 }, () => new Float64Array(16));
    TIP_FRAMES.set(chain, frames);
  }
  const t = linkFrames(chain, q, frames)[chain.origins.length]!;
  out[0] = t[3]; out[1] = t[7]; out[2] = t[11];
  return out;
}

/**
 * Geometric Jacobian at the tip, 6 x n row-major: rows 0-2 linear velocity (m/s per rad/s),
 * rows 3-5 angular velocity (rad/s per rad/s), both in the robot base frame.
 */
export function jacobian(chain: Chain, q: ArrayLike<number>, frames?: Float64Array[]): Float64Array {
  const f = frames ?? linkFrames(chain, q);
  const n = chain.origins.length;
  const tip = f[n];
  const px = tip[3], py = tip[7], pz = tip[11];
  const J = new Float64Array(6 * n);
  for (let i = 0; i < n; i++) {
    const t = f[i], a = chain.axes[i];
    // joint axis in the base frame
    const zx = t[0] * a[0] + t[1] * a[1] + t[2] * a[2];
    const zy = t[4] * a[0] + t[5] * a[1] + t[6] * a[2];
    const zz = t[8] * a[0] + t[9] * a[1] + t[10] * a[2];
    const rx = px - t[3], ry = py - t[7], rz = pz - t[11];
    J[0 * n + i] = zy * rz - zz * ry;
    J[1 * n + i] = zz * rx - zx * rz;
    J[2 * n + i] = zx * ry - zy * rx;
    J[3 * n + i] = zx;
    J[4 * n + i] = zy;
    J[5 * n + i] = zz;
  }
  return J;
}

/** Pose error target - current: [dp (m, base frame), rotation vector of R_target R_current^T (rad, base frame)]. */
export function poseError(target: Float64Array, current: Float64Array, out: Float64Array = new Float64Array(6)): Float64Array {
  out[0] = target[3] - current[3];
  out[1] = target[7] - current[7];
  out[2] = target[11] - current[11];
  // R_err = R_t * R_c^T (3x3)
  const re = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      re[i * 3 + j] = target[i * 4] * current[j * 4] + target[i * 4 + 1] * current[j * 4 + 1] + target[i * 4 + 2] * current[j * 4 + 2];
    }
  }
  const w = rotationLog(re, 3);
  out[3] = w[0]; out[4] = w[1]; out[5] = w[2];
  return out;
}

/** Solve A x = b in place for a small dense n x n system (Gaussian elimination, partial pivoting). */
export function solveSmall(A: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[piv * n + c])) piv = r;
    if (piv !== c) {
      for (let k = 0; k < n; k++) { const t = A[c * n + k]; A[c * n + k] = A[piv * n + k]; A[piv * n + k] = t; }
      const t = b[c]; b[c] = b[piv]; b[piv] = t;
    }
    const d = A[c * n + c];
    if (d === 0) throw new RangeError('singular system in solveSmall');
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) A[r * n + k] -= f * A[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < n; k++) s -= A[r * n + k] * b[k];
    b[r] = s / A[r * n + r];
  }
  return b;
}

export interface IkOptions {
  chain: Chain;
  /** target tip pose in the robot base frame: 4x4 row-major or position + quaternion */
  target: Float64Array | Pose;
  /** start joint positions, rad */
  q0: ArrayLike<number>;
  /** default 200 */
  maxIters?: number;
  /** damping lambda of (J J^T + mu I), mu = lambda^2 min(1, |e| / 1 cm) + |e|^2 / 2; default 0.005 */
  damping?: number;
  /** position tolerance, m (default 1e-5); orientation tolerance, rad (default 1e-4) */
  tolerances?: { position?: number; orientation?: number };
  /** joint limits, rad; default the chain's own */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** weight of the orientation error against the position error (m per rad), default 0.5 */
  orientationWeight?: number;
  /** largest joint change per iteration, rad (default 0.3) */
  maxStep?: number;
}

export interface IkResult {
  /** joint positions, rad, within the limits */
  q: Float64Array;
  converged: boolean;
  iterations: number;
  /** final position error, m */
  positionError: number;
  /** final orientation error, rad */
  orientationError: number;
}

/**
 * Damped least-squares IK: dq = J^T (J J^T + mu I)^-1 e with error-dependent damping
 * mu = lambda^2 min(1, |e| / 1 cm) + |e|^2 / 2 (after Sugihara 2011), capped per iteration and clamped into the joint
 * limits after every step. Returns the best iterate seen.
 */
export function solveIk(opts: IkOptions): IkResult {
  const { chain } = opts;
  const n = chain.origins.length;
  checkQ(chain, opts.q0);
  const target = opts.target instanceof Float64Array ? opts.target : poseToMatrix(opts.target);
  const maxIters = opts.maxIters ?? 200;
  const lambda = opts.damping ?? 0.005;
  const tolP = opts.tolerances?.position ?? 1e-5;
  const tolR = opts.tolerances?.orientation ?? 1e-4;
  const lower = opts.lower ?? chain.lower;
  const upper = opts.upper ?? chain.upper;
  const wR = opts.orientationWeight ?? 0.5;
  const maxStep = opts.maxStep ?? 0.3;

  const q = Float64Array.from(opts.q0, (v, i) => Math.min(upper[i], Math.max(lower[i], v)));
  const best = { q: Float64Array.from(q), cost: Infinity, ep: Infinity, er: Infinity };
  const frames = Array.from({ length: n + 1 }, () => new Float64Array(16));
  const e = new Float64Array(6);
  const A = new Float64Array(36);
  let it = 0;
  for (; ; it++) {
    linkFrames(chain, q, frames);
    poseError(target, frames[n], e);
    const ep = Math.hypot(e[0], e[1], e[2]);
    const er = Math.hypot(e[3], e[4], e[5]);
    const cost = ep + wR * er;
    if (cost < best.cost) Object.assign(best, { cost, ep, er, q: Float64Array.from(q) });
    if (ep <= tolP && er <= tolR) return { q, converged: true, iterations: it, positionError: ep, orientationError: er };
    if (it >= maxIters) break;

    const J = jacobian(chain, q, frames);
    for (let r = 3; r < 6; r++) {
      e[r] *= wR;
      for (let c = 0; c < n; c++) J[r * n + c] *= wR;
    }
    // A = J J^T + mu I: heavy damping far away (Sugihara's |e|^2 / 2), close to Gauss-Newton near the
    // target so convergence stays fast next to singularities; the step cap bounds the rest
    let e2 = 0;
    for (let r = 0; r < 6; r++) e2 += e[r] * e[r];
    const mu = lambda * lambda * Math.min(1, Math.sqrt(e2) / 0.01) + e2 / 2 + 1e-12;
    // joints pinned at a limit that the step would push further out are frozen and the
    // step re-solved without them, so the others make up for it (no stall at a limit)
    const dq = new Float64Array(n);
    const frozen = new Uint8Array(n);
    let stepMax = 0;
    for (let pass = 0; pass <= n; pass++) {
      for (let r = 0; r < 6; r++) {
        for (let c = r; c < 6; c++) {
          let s = 0;
          for (let k = 0; k < n; k++) if (!frozen[k]) s += J[r * n + k] * J[c * n + k];
          A[r * 6 + c] = A[c * 6 + r] = s + (r === c ? mu : 0);
        }
      }
      const y = solveSmall(A, Float64Array.from(e), 6);
      stepMax = 0;
      let newlyFrozen = false;
      for (let k = 0; k < n; k++) {
        let s = 0;
        if (!frozen[k]) for (let r = 0; r < 6; r++) s += J[r * n + k] * y[r];
        dq[k] = s;
        if ((q[k] <= lower[k] && s < 0) || (q[k] >= upper[k] && s > 0)) {
          frozen[k] = 1;
          newlyFrozen = true;
        }
        stepMax = Math.max(stepMax, Math.abs(s));
      }
      if (!newlyFrozen) break;
    }
    const scale = stepMax > maxStep ? maxStep / stepMax : 1;
    for (let k = 0; k < n; k++) q[k] = Math.min(upper[k], Math.max(lower[k], q[k] + dq[k] * scale));
  }
  return { q: best.q, converged: false, iterations: it, positionError: best.ep, orientationError: best.er };
}
