/**
 * Per-feature statistics in LeRobot's form (lerobot/datasets/compute_stats.py):
 * min, max, mean, std (population), count, and quantiles q01..q99, per
 * dimension for vectors and per channel in [0, 1] for RGB images.
 */

export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99] as const;
export const QUANTILE_KEYS = ['q01', 'q10', 'q50', 'q90', 'q99'] as const;
export type QuantileKey = (typeof QUANTILE_KEYS)[number];

export interface FeatureStats {
  /** 'vector': one value per dimension; 'image': one per RGB channel, in [0, 1], JSON shape (3, 1, 1) */
  readonly kind: 'vector' | 'image';
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly mean: Float64Array;
  readonly std: Float64Array;
  /** frames the stats were computed from */
  readonly count: number;
  readonly quantiles: Readonly<Record<QuantileKey, Float64Array>>;
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function emptyQuantiles(dim: number): Record<QuantileKey, Float64Array> {
  return {
    q01: new Float64Array(dim),
    q10: new Float64Array(dim),
    q50: new Float64Array(dim),
    q90: new Float64Array(dim),
    q99: new Float64Array(dim),
  };
}

/**
 * Stats of `frames` rows of `dim` values each (row-major), per dimension.
 * @param data frames*dim values
 */
export function vectorStats(data: ArrayLike<number>, frames: number, dim: number): FeatureStats {
  if (data.length !== frames * dim) throw new RangeError(`vectorStats: ${data.length} values is not ${frames}x${dim}`);
  const min = new Float64Array(dim).fill(Infinity);
  const max = new Float64Array(dim).fill(-Infinity);
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  const quantiles = emptyQuantiles(dim);
  const col = new Float64Array(frames);
  for (let d = 0; d < dim; d++) {
    let s = 0;
    for (let i = 0; i < frames; i++) {
      const v = data[i * dim + d];
      col[i] = v;
      s += v;
      if (v < min[d]) min[d] = v;
      if (v > max[d]) max[d] = v;
    }
    const m = s / frames;
    let ss = 0;
    for (let i = 0; i < frames; i++) ss += (col[i] - m) ** 2;
    mean[d] = m;
    std[d] = Math.sqrt(ss / frames);
    col.sort();
    QUANTILE_KEYS.forEach((k, j) => {
      quantiles[k][d] = quantileSorted(col, QUANTILES[j]);
    });
  }
  return { kind: 'vector', min, max, mean, std, count: frames, quantiles };
}

/**
 * Running per-channel stats of rgb24 frames. Pixels are uint8, so a
 * 256-bin histogram per channel gives exact quantiles.
 */
export class ImageStatsAccumulator {
  private readonly hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  private frames = 0;

  /** @param rgb tightly packed rgb24 pixels */
  add(rgb: Uint8Array): void {
    const [h0, h1, h2] = this.hist;
    for (let i = 0; i + 2 < rgb.length; i += 3) {
      h0[rgb[i]]++;
      h1[rgb[i + 1]]++;
      h2[rgb[i + 2]]++;
    }
    this.frames++;
  }

  get count(): number {
    return this.frames;
  }

  result(): FeatureStats {
    const min = new Float64Array(3);
    const max = new Float64Array(3);
    const mean = new Float64Array(3);
    const std = new Float64Array(3);
    const quantiles = emptyQuantiles(3);
    for (let c = 0; c < 3; c++) {
      const h = this.hist[c];
      let n = 0;
      let s = 0;
      let lo = -1;
      let hi = -1;
      for (let v = 0; v < 256; v++) {
        if (h[v] === 0) continue;
        if (lo < 0) lo = v;
        hi = v;
        n += h[v];
        s += v * h[v];
      }
      const m = n > 0 ? s / n : NaN;
      let ss = 0;
      for (let v = 0; v < 256; v++) if (h[v] > 0) ss += h[v] * (v - m) ** 2;
      min[c] = lo / 255;
      max[c] = hi / 255;
      mean[c] = m / 255;
      std[c] = Math.sqrt(ss / n) / 255;
      QUANTILE_KEYS.forEach((k, j) => {
        quantiles[k][c] = histQuantile(h, n, QUANTILES[j]) / 255;
      });
    }
    return { kind: 'image', min, max, mean, std, count: this.frames, quantiles };
  }
}

/** Value at rank q*(n-1) of the sorted sample a histogram describes, interpolated like numpy. */
function histQuantile(h: Float64Array, n: number, q: number): number {
  const pos = q * (n - 1);
  const loRank = Math.floor(pos);
  const valueAt = (rank: number): number => {
    let cum = 0;
    for (let v = 0; v < h.length; v++) {
      cum += h[v];
      if (cum > rank) return v;
    }
    return h.length - 1;
  };
  const a = valueAt(loRank);
  const b = valueAt(Math.min(loRank + 1, n - 1));
  return a + (b - a) * (pos - loRank);
}

/**
 * Combine per-episode stats as LeRobot's aggregate_feature_stats does: exact
 * count-weighted mean and pooled variance; quantiles are an envelope (min of
 * lower, max of upper quantiles), not global quantiles.
 */
export function aggregateStats(list: readonly FeatureStats[]): FeatureStats {
  if (list.length === 0) throw new RangeError('aggregateStats: no stats to aggregate');
  const dim = list[0].mean.length;
  const total = list.reduce((a, s) => a + s.count, 0);
  const min = new Float64Array(dim).fill(Infinity);
  const max = new Float64Array(dim).fill(-Infinity);
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  const quantiles = emptyQuantiles(dim);
  for (let d = 0; d < dim; d++) {
    let m = 0;
    for (const s of list) m += s.mean[d] * s.count;
    m /= total;
    let v = 0;
    for (const s of list) v += (s.std[d] ** 2 + (s.mean[d] - m) ** 2) * s.count;
    mean[d] = m;
    std[d] = Math.sqrt(v / total);
    for (const s of list) {
      min[d] = Math.min(min[d], s.min[d]);
      max[d] = Math.max(max[d], s.max[d]);
    }
    QUANTILE_KEYS.forEach((k, j) => {
      const vals = list.map((s) => s.quantiles[k][d]);
      quantiles[k][d] = QUANTILES[j] <= 0.5 ? Math.min(...vals) : Math.max(...vals);
    });
  }
  return { kind: list[0].kind, min, max, mean, std, count: total, quantiles };
}

/** JSON value of one stat: a list, or (3, 1, 1) nested lists for images. */
export function statValueToJson(kind: FeatureStats['kind'], v: Float64Array): number[] | number[][][] {
  return kind === 'image' ? Array.from(v, (x) => [[x]]) : Array.from(v);
}

export type StatsJson = Record<string, Record<string, number[] | number[][][]>>;

/** stats.json object, keys in LeRobot's order (min, max, mean, std, count, q01..q99). */
export function statsToJson(stats: Readonly<Record<string, FeatureStats>>): StatsJson {
  const out: StatsJson = {};
  for (const [key, s] of Object.entries(stats)) {
    const entry: Record<string, number[] | number[][][]> = {
      min: statValueToJson(s.kind, s.min),
      max: statValueToJson(s.kind, s.max),
      mean: statValueToJson(s.kind, s.mean),
      std: statValueToJson(s.kind, s.std),
      count: [s.count],
    };
    for (const q of QUANTILE_KEYS) entry[q] = statValueToJson(s.kind, s.quantiles[q]);
    out[key] = entry;
  }
  return out;
}
