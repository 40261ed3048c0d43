/** One benchmark measurement, e.g. { name: 'preprocess.bgr8_640x480_to_3x128x128.ms', value: 0.4, unit: 'ms', p99: 0.6 }. */
export interface BenchEntry {
  /** dotted name ending in the unit, stable across runs so results can be compared */
  name: string;
  value: number;
  unit: string;
  /** details: percentiles, sample counts, machine notes */
  [k: string]: unknown;
}
