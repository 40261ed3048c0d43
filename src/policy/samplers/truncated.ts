/**
 * A1-style early exit with inter-layer truncated flow matching (arXiv 2604.05672).
 * Exits are ordered by backbone depth. Exit 0 integrates from noise; each later exit first runs
 * its `prepare()` (the caller runs the next backbone stage there, so stopping early skips the
 * deeper stages), then integrates warm-started from the previous exit's actions at
 * t0 = warmStartTime with proportionally fewer steps. Sampling stops at the first exit whose
 * actions agree with the previous exit's within `tolerance`, or at the last exit.
 */
import type { Rng } from '../../util/random.ts';
import { drawNoise, integrateFlow, interpolate } from './flow.ts';
import { chunkSize, SamplerError, type ChunkShape, type VelocityField } from './types.ts';

export interface FlowExit {
  /** velocity head on this exit's features */
  velocity: VelocityField;
  /** compute this exit's features (run its backbone stage); awaited before its integration */
  prepare?: () => void | Promise<void>;
}

export type AgreementMetric = 'max_abs' | 'rms';

export interface EarlyExitOptions extends ChunkShape {
  exits: readonly FlowExit[];
  /** Euler steps for exit 0 (from t = 0) */
  steps: number;
  /** flow time t0 in (0, 1) at which later exits start from the previous exit's actions */
  warmStartTime: number;
  /** stop when the metric between consecutive exits' actions is <= tolerance (model-space units) */
  tolerance: number;
  /** default 'max_abs' */
  metric?: AgreementMetric;
  /** Euler steps for warm-started exits; default max(1, round(steps (1 - warmStartTime))) */
  warmSteps?: number;
  /** seeded noise source: H*A normals for exit 0, then H*A fresh normals per later exit */
  rng: Rng;
  /** scale of every exit's source noise (default 1), see drawNoise */
  noiseScale?: number;
}

export interface EarlyExitResult {
  /** actions of the exit that stopped, [H*A] */
  actions: Float32Array;
  /** index of that exit */
  exitIndex: number;
  /** velocity evaluations in total */
  nfe: number;
  /** disagreement of exit e with exit e - 1, for e = 1..exitIndex */
  disagreements: number[];
}

/** Max-abs or RMS difference of two equal-length arrays. */
export function disagreement(a: Float32Array, b: Float32Array, metric: AgreementMetric): number {
  if (a.length !== b.length) throw new SamplerError(`cannot compare chunks of lengths ${a.length} and ${b.length}`);
  let acc = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    acc = metric === 'max_abs' ? Math.max(acc, d) : acc + d * d;
  }
  return metric === 'max_abs' ? acc : Math.sqrt(acc / Math.max(1, a.length));
}

export async function sampleWithEarlyExit(o: EarlyExitOptions): Promise<EarlyExitResult> {
  const size = chunkSize(o, 'early exit');
  if (o.exits.length === 0) throw new SamplerError('early exit needs at least one exit: check the manifest flow.exits');
  const t0 = o.warmStartTime;
  if (!(t0 > 0 && t0 < 1)) throw new SamplerError(`warmStartTime must be in (0, 1), got ${t0}`);
  if (!(o.tolerance >= 0)) throw new SamplerError(`tolerance must be >= 0, got ${o.tolerance}`);
  const metric = o.metric ?? 'max_abs';
  const warmSteps = o.warmSteps ?? Math.max(1, Math.round(o.steps * (1 - t0)));
  const shape = { horizon: o.horizon, actionDim: o.actionDim };

  let prev = new Float32Array(size);
  let cur = new Float32Array(size);
  const first = o.exits[0];
  if (first.prepare) await first.prepare();
  drawNoise(o.rng, prev, o.noiseScale);
  let nfe = await integrateFlow({ ...shape, velocity: first.velocity, x: prev, t0: 0, steps: o.steps });
  const disagreements: number[] = [];
  for (let e = 1; e < o.exits.length; e++) {
    const exit = o.exits[e];
    if (exit.prepare) await exit.prepare();
    drawNoise(o.rng, cur, o.noiseScale);
    interpolate(cur, prev, t0, cur);
    nfe += await integrateFlow({ ...shape, velocity: exit.velocity, x: cur, t0, steps: warmSteps });
    const d = disagreement(cur, prev, metric);
    disagreements.push(d);
    if (d <= o.tolerance) return { actions: cur, exitIndex: e, nfe, disagreements };
    [prev, cur] = [cur, prev];
  }
  return { actions: prev, exitIndex: o.exits.length - 1, nfe, disagreements };
}
