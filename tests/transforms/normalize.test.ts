import { describe, expect, it } from 'vitest';
import { TransformError, normalize, normalizeInPlace, unnormalize, unnormalizeInPlace } from '../../src/transforms/normalize.ts';
import { Rng } from '../../src/util/random.ts';

const stats = { mean: [1, -2, 0.5], std: [2, 0.5, 4] };

describe('normalize / unnormalize', () => {
  it('vector values', () => {
    expect(Array.from(normalize(Float64Array.of(3, -2, 4.5), stats))).toEqual([1, 0, 1]);
    expect(Array.from(unnormalize(Float64Array.of(1, 0, 1), stats))).toEqual([3, -2, 4.5]);
  });
  it('chunks are normalized per column, round trip is exact to float32 precision', () => {
    const rng = new Rng(1);
    const chunk = rng.fillNormal(new Float32Array(16 * 3)) as Float32Array;
    const n = normalize(chunk, stats);
    expect(n).toBeInstanceOf(Float32Array);
    expect(n).not.toBe(chunk);
    expect(n[3 * 5 + 1]).toBeCloseTo((chunk[3 * 5 + 1] + 2) / 0.5, 5);
    const back = unnormalize(n, stats);
    for (let i = 0; i < chunk.length; i++) expect(back[i]).toBeCloseTo(chunk[i], 5);
  });
  it('in-place variants write into the input', () => {
    const x = Float32Array.of(3, -2, 4.5, 1, -2, 0.5);
    expect(normalizeInPlace(x, stats)).toBe(x);
    expect(Array.from(x)).toEqual([1, 0, 1, 0, 0, 0]);
    expect(unnormalizeInPlace(x, stats)).toBe(x);
    expect(Array.from(x)).toEqual([3, -2, 4.5, 1, -2, 0.5]);
  });
  it('shape and statistics errors', () => {
    expect(() => normalize(new Float32Array(4), stats)).toThrow(TransformError);
    expect(() => normalize(new Float32Array(4), stats)).toThrow(/length 4 is not a whole number of rows of dim 3/);
    expect(() => unnormalize(new Float32Array(3), { mean: [0, 0], std: [1, 1, 1] })).toThrow(/mean has 2 values but std has 3/);
    expect(() => unnormalize(new Float32Array(3), { mean: [0, 0, 0], std: [1, -1, 1] })).toThrow(/std\[1\] = -1/);
    expect(() => normalize(new Float32Array(3), stats, new Float32Array(6))).toThrow(/output has length 6, input 3/);
  });
});
