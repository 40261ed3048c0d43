/**
 * Mean/std normalization of vectors and row-major chunks [rows x dim]:
 * normalize: (x - mean) / std; unnormalize: x * std + mean (the manifest's action convention).
 * The statistic arrays have length dim; an input of length k * dim is treated as k rows.
 */
import { ArmatureError } from '../errors.ts';

/** A transform got inputs of inconsistent shape or invalid statistics. */
export class TransformError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('transform.invalid', message, options);
  }
}

export type FloatArray = Float32Array | Float64Array;

/** Per-dimension statistics, length dim; std > 0. */
export interface NormStats {
  readonly mean: ArrayLike<number>;
  readonly std: ArrayLike<number>;
}

function check(x: ArrayLike<number>, stats: NormStats, out: ArrayLike<number>): void {
  const dim = stats.mean.length;
  if (stats.std.length !== dim) throw new TransformError(`mean has ${dim} values but std has ${stats.std.length}: they must match`);
  if (dim === 0) throw new TransformError('mean/std are empty: give one value per dimension');
  for (let j = 0; j < dim; j++) {
    if (!(stats.std[j] > 0) || !Number.isFinite(stats.std[j])) throw new TransformError(`std[${j}] = ${stats.std[j]} must be a positive finite number`);
    if (!Number.isFinite(stats.mean[j])) throw new TransformError(`mean[${j}] = ${stats.mean[j]} must be finite`);
  }
  if (x.length % dim !== 0) {
    throw new TransformError(`input of length ${x.length} is not a whole number of rows of dim ${dim}: check the chunk shape [horizon x dim]`);
  }
  if (out.length !== x.length) throw new TransformError(`output has length ${out.length}, input ${x.length}: they must match`);
}

/** (x - mean) / std per dimension, into `out` (may be `x`; a new array of x's type when omitted). */
export function normalize<T extends FloatArray>(x: T, stats: NormStats, out?: T): T {
  const o = out ?? (x.slice(0) as T);
  check(x, stats, o);
  const { mean, std } = stats;
  const dim = mean.length;
  for (let i = 0, j = 0; i < x.length; i++, j = j + 1 === dim ? 0 : j + 1) o[i] = (x[i] - mean[j]) / std[j];
  return o;
}

/** x * std + mean per dimension, into `out` (may be `x`; a new array of x's type when omitted). */
export function unnormalize<T extends FloatArray>(x: T, stats: NormStats, out?: T): T {
  const o = out ?? (x.slice(0) as T);
  check(x, stats, o);
  const { mean, std } = stats;
  const dim = mean.length;
  for (let i = 0, j = 0; i < x.length; i++, j = j + 1 === dim ? 0 : j + 1) o[i] = x[i] * std[j] + mean[j];
  return o;
}

/** normalize in place (hot paths); returns x. */
export function normalizeInPlace<T extends FloatArray>(x: T, stats: NormStats): T {
  return normalize(x, stats, x);
}

/** unnormalize in place (hot paths, e.g. denormalizing an action chunk); returns x. */
export function unnormalizeInPlace<T extends FloatArray>(x: T, stats: NormStats): T {
  return unnormalize(x, stats, x);
}
