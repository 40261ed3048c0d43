import type { ActionSpec, Manifest } from '../manifest.ts';
import type { ActionChunk, InferenceStats, PolicyMetadata } from '../types.ts';
import { ArmatureError } from '../../errors.ts';

export function policyMetadata(m: Manifest): PolicyMetadata {
  return {
    name: m.name,
    kind: m.kind,
    horizon: m.chunk_length,
    executeLength: Math.min(m.execute_length ?? m.chunk_length, m.chunk_length),
    controlRateHz: m.control_rate_hz,
    embodiments: Object.fromEntries(Object.entries(m.embodiments).map(([n, e]) => [n, e.action])),
    cameras: m.cameras.map((c) => c.name),
    proprioFields: Object.fromEntries(Object.entries(m.embodiments).map(([n, e]) => [n, e.proprio.fields.map((f) => f.name)])),
  };
}

/** The model produced NaN/Inf: never let that reach scheduling (the safety layer also checks). */
export class NonFiniteActionError extends ArmatureError {
  constructor(model: string, index: number) {
    super('policy.non_finite', `model ${model} produced a non-finite action value at flat index ${index}; the command was not used (check inputs and the exported graph)`);
  }
}

/**
 * Denormalize a model's [horizon x dim] output into a new ActionChunk
 * (action = x * std + mean), rejecting non-finite values.
 */
export function makeChunk(args: {
  manifest: Manifest;
  embodiment: string;
  normalized: Float32Array;
  stamp: number;
  t0: number;
  stats?: Partial<InferenceStats>;
}): ActionChunk {
  const { manifest, embodiment, normalized } = args;
  const action = manifest.embodiments[embodiment]!.action;
  const dim = action.names.length;
  const horizon = manifest.chunk_length;
  if (normalized.length !== horizon * dim) {
    throw new ArmatureError(
      'policy.shape',
      `model ${manifest.name} returned ${normalized.length} values, manifest promises chunk_length ${horizon} x ${dim} actions for '${embodiment}'`,
    );
  }
  const { std, mean } = denormalizer(action);
  const out = new Float32Array(horizon * dim);
  for (let i = 0, j = 0; i < out.length; i++, j = j + 1 === dim ? 0 : j + 1) {
    const v = normalized[i]! * std[j]! + mean[j]!;
    if (!Number.isFinite(v)) throw new NonFiniteActionError(manifest.name, i);
    out[i] = v;
  }
  const stats: InferenceStats = args.stats ? { ...args.stats, latencyMs: 0 } : { latencyMs: 0 };
  stats.latencyMs = performance.now() - args.t0;
  return { embodiment, horizon, dim, actions: out, stamp: args.stamp, stats };
}

/** std and mean of an action space as typed arrays, built once per spec (makeChunk runs every step). */
const DENORMALIZERS = new WeakMap<ActionSpec, { std: Float64Array; mean: Float64Array }>();
function denormalizer(action: ActionSpec): { std: Float64Array; mean: Float64Array } {
  let d = DENORMALIZERS.get(action);
  if (!d) {
    d = { std: Float64Array.from(action.std), mean: Float64Array.from(action.mean) };
    DENORMALIZERS.set(action, d);
  }
  return d;
}

/** Actions an RTI warm-started policy executes per chunk: a quarter, so most of the next warm start is real actions. */
export function rtiExecuteLength(horizon: number): number {
  return Math.max(1, Math.floor(horizon / 4));
}

/** Actions executed since a previous chunk's observation (the RTI warm-start shift), from stamps in s. */
export function actionsSince(previousStamp: number, stamp: number, rateHz: number): number {
  return Math.max(0, Math.round((stamp - previousStamp) * rateHz));
}
