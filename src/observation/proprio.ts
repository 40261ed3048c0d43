/**
 * Proprio sample -> one normalized float32 vector: the manifest's fields concatenated in order,
 * each (value - mean) / std.
 */
import { ObservationError } from '../errors.ts';
import type { ProprioSpec } from '../policy/manifest.ts';
import type { ProprioSample } from './types.ts';

/** The parts of a manifest proprio field the assembler needs. */
export interface ProprioFieldSpec {
  readonly name: string;
  readonly dim: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export class ProprioAssembler {
  /** total length: sum of field dims */
  readonly dim: number;
  private readonly spec: { readonly fields: readonly ProprioFieldSpec[] };

  /** Validates the spec once (dims, mean/std lengths, std > 0). */
  constructor(spec: Pick<ProprioSpec, 'fields'> | { fields: readonly ProprioFieldSpec[] }) {
    this.spec = { fields: spec.fields };
    let dim = 0;
    for (const f of spec.fields) {
      if (!Number.isInteger(f.dim) || f.dim <= 0) throw new ObservationError(`proprio field '${f.name}': dim ${f.dim} must be a positive integer`);
      if (f.mean.length !== f.dim || f.std.length !== f.dim) {
        throw new ObservationError(`proprio field '${f.name}': mean/std need ${f.dim} values, got ${f.mean.length}/${f.std.length}`);
      }
      dim += f.dim;
    }
    this.dim = dim;
    for (const f of spec.fields) {
      f.std.forEach((s, i) => {
        if (!(s > 0) || !Number.isFinite(s)) throw new ObservationError(`proprio field '${f.name}': std[${i}] = ${s} must be a positive finite number`);
      });
    }
  }

  /** Concatenate and normalize the spec's fields of `sample` into `out` (see assembleProprio). */
  run(sample: ProprioSample, out?: Float32Array): Float32Array {
    return assembleProprio(this.spec, sample, out ?? new Float32Array(this.dim));
  }
}

/** Sum of field dims: the length of the assembled vector. */
export function proprioDim(spec: { readonly fields: readonly ProprioFieldSpec[] }): number {
  let n = 0;
  for (const f of spec.fields) n += f.dim;
  return n;
}

/**
 * Concatenate the spec's fields of `sample`, in spec order, each (value - mean) / std, into `out`
 * (length = sum of dims; allocated when omitted). Allocates nothing when `out` is given.
 * Throws ObservationError naming a missing field, a wrong dim, or a NaN/Inf value.
 */
export function assembleProprio(
  spec: { readonly fields: readonly ProprioFieldSpec[] },
  sample: ProprioSample,
  out?: Float32Array,
): Float32Array {
  const dim = proprioDim(spec);
  const dst = out ?? new Float32Array(dim);
  if (dst.length !== dim) throw new ObservationError(`proprio output has length ${dst.length}, expected ${dim} (sum of field dims)`);
  let k = 0;
  for (const f of spec.fields) {
    const v = sample.fields[f.name];
    if (v === undefined) {
      throw new ObservationError(
        `proprio field '${f.name}' is missing from the sample (it has: ${Object.keys(sample.fields).join(', ') || 'none'}): check the robot's proprio mapping`,
      );
    }
    if (v.length !== f.dim) {
      throw new ObservationError(`proprio field '${f.name}' has ${v.length} values, the model expects ${f.dim}: check the embodiment's joint list`);
    }
    if (f.mean.length !== f.dim || f.std.length !== f.dim) {
      throw new ObservationError(`proprio field '${f.name}': mean/std need ${f.dim} values, got ${f.mean.length}/${f.std.length}`);
    }
    for (let i = 0; i < f.dim; i++, k++) {
      const x = v[i];
      if (!Number.isFinite(x)) {
        throw new ObservationError(`proprio field '${f.name}'[${i}] is ${x}: refusing non-finite proprio; check the sensor/driver`);
      }
      dst[k] = (x - f.mean[i]) / f.std[i];
    }
  }
  return dst;
}
