/**
 * Small rotation and linear-algebra helpers on plain arrays. Quaternions are [w, x, y, z]
 * (MuJoCo order); rotation matrices are 3x3 row-major.
 */

export type Vec3Like = ArrayLike<number>;

/** row-major 3x3 rotation matrix -> unit quaternion [w, x, y, z] (w >= 0) */
export function mat2quat(m: ArrayLike<number>, out: Float64Array = new Float64Array(4)): Float64Array {
  const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = [m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const tr = r00 + r11 + r22;
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s; x = (r21 - r12) / s; y = (r02 - r20) / s; z = (r10 - r01) / s;
  } else if (r00 > r11 && r00 > r22) {
    const s = Math.sqrt(1 + r00 - r11 - r22) * 2;
    w = (r21 - r12) / s; x = 0.25 * s; y = (r01 + r10) / s; z = (r02 + r20) / s;
  } else if (r11 > r22) {
    const s = Math.sqrt(1 + r11 - r00 - r22) * 2;
    w = (r02 - r20) / s; x = (r01 + r10) / s; y = 0.25 * s; z = (r12 + r21) / s;
  } else {
    const s = Math.sqrt(1 + r22 - r00 - r11) * 2;
    w = (r10 - r01) / s; x = (r02 + r20) / s; y = (r12 + r21) / s; z = 0.25 * s;
  }
  const sgn = w < 0 ? -1 : 1;
  const n = Math.hypot(w, x, y, z) * sgn;
  out[0] = w / n; out[1] = x / n; out[2] = y / n; out[3] = z / n;
  return out;
}

/** unit quaternion -> row-major 3x3 rotation matrix */
export function quat2mat(q: ArrayLike<number>, out: Float64Array = new Float64Array(9)): Float64Array {
  const [w, x, y, z] = [q[0], q[1], q[2], q[3]];
  out[0] = 1 - 2 * (y * y + z * z); out[1] = 2 * (x * y - w * z); out[2] = 2 * (x * z + w * y);
  out[3] = 2 * (x * y + w * z); out[4] = 1 - 2 * (x * x + z * z); out[5] = 2 * (y * z - w * x);
  out[6] = 2 * (x * z - w * y); out[7] = 2 * (y * z + w * x); out[8] = 1 - 2 * (x * x + y * y);
  return out;
}

/** axis-angle vector (axis * angle, rad) -> rotation matrix */
export function axisAngle2mat(v: Vec3Like, out: Float64Array = new Float64Array(9)): Float64Array {
  const th = Math.hypot(v[0], v[1], v[2]);
  if (th < 1e-12) {
    out.fill(0); out[0] = out[4] = out[8] = 1;
    return out;
  }
  const h = th / 2;
  const s = Math.sin(h) / th;
  return quat2mat([Math.cos(h), v[0] * s, v[1] * s, v[2] * s], out);
}

/** rotation matrix -> axis-angle vector (axis * angle, rad), angle in [0, pi] */
export function mat2axisAngle(m: ArrayLike<number>, out: Float64Array = new Float64Array(3)): Float64Array {
  const q = mat2quat(m);
  const s = Math.hypot(q[1], q[2], q[3]);
  if (s < 1e-12) {
    out.fill(0);
    return out;
  }
  const th = 2 * Math.atan2(s, q[0]);
  out[0] = (q[1] / s) * th; out[1] = (q[2] / s) * th; out[2] = (q[3] / s) * th;
  return out;
}

/** C = A B for 3x3 row-major */
export function matMul3(a: ArrayLike<number>, b: ArrayLike<number>, out: Float64Array = new Float64Array(9)): Float64Array {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    }
  }
  return out;
}

/** C = A B^T for 3x3 row-major */
export function matMulT3(a: ArrayLike<number>, b: ArrayLike<number>, out: Float64Array = new Float64Array(9)): Float64Array {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[i * 3 + j] = a[i * 3] * b[j * 3] + a[i * 3 + 1] * b[j * 3 + 1] + a[i * 3 + 2] * b[j * 3 + 2];
    }
  }
  return out;
}

/** spherical interpolation between unit quaternions, t in [0, 1] */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number, out: Float64Array = new Float64Array(4)): Float64Array {
  let d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  const sb = d < 0 ? -1 : 1;
  d *= sb;
  let wa: number, wb: number;
  if (d > 0.9995) {
    wa = 1 - t; wb = t;
  } else {
    const th = Math.acos(d);
    const s = Math.sin(th);
    wa = Math.sin((1 - t) * th) / s; wb = Math.sin(t * th) / s;
  }
  for (let i = 0; i < 4; i++) out[i] = wa * a[i] + wb * sb * b[i];
  const n = Math.hypot(out[0], out[1], out[2], out[3]);
  for (let i = 0; i < 4; i++) out[i] /= n;
  return out;
}

/**
 * Solve A x = b in place for a small dense symmetric positive-definite A (n x n, row-major)
 * by Cholesky. A and b are overwritten; returns b (= x).
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= a[j * n + k] * a[j * n + k];
    const d = Math.sqrt(Math.max(s, 1e-300));
    a[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / d;
    }
  }
  for (let i = 0; i < n; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= a[i * n + k] * b[k];
    b[i] = t / a[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let t = b[i];
    for (let k = i + 1; k < n; k++) t -= a[k * n + i] * b[k];
    b[i] = t / a[i * n + i];
  }
  return b;
}

/**
 * Damped least squares: dq = J^T (J J^T + lambda^2 I)^-1 e, with J m x n row-major.
 * Robust near singularities, where a plain pseudo-inverse blows up.
 */
export function dampedLeastSquares(j: Float64Array, e: Float64Array, m: number, n: number, lambda: number, out: Float64Array = new Float64Array(n)): Float64Array {
  const a = new Float64Array(m * m);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c <= r; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += j[r * n + k] * j[c * n + k];
      a[r * m + c] = s;
      a[c * m + r] = s;
    }
    a[r * m + r] += lambda * lambda;
  }
  const y = choleskySolve(a, Float64Array.from(e), m);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += j[r * n + k] * y[r];
    out[k] = s;
  }
  return out;
}
