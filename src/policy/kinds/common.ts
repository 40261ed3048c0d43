import { camerasForEmbodiment, type Manifest } from '../manifest.ts';
import type { ActionChunk, InferenceStats, InferOptions, PolicyMetadata } from '../types.ts';
import { ArmatureError } from '../../errors.ts';

export function policyMetadata(m: Manifest): PolicyMetadata {
  return {
    name: m.name,
    kind: m.kind,
    horizon: m.chunk_length,
    executeLength: Math.min(m.execute_length ?? m.chunk_length, m.chunk_length),
    ...(m.schedule ? { schedule: { mode: m.schedule.mode, blendSteps: m.schedule.blend_steps, ramp: m.schedule.ramp, decay: m.schedule.ensemble_decay } } : {}),
    controlRateHz: m.control_rate_hz,
    embodiments: Object.fromEntries(Object.entries(m.embodiments).map(([n, e]) => [n, e.action])),
    cameras: [...new Set(m.cameras.map((c) => c.name))],
    embodimentCameras: Object.fromEntries(
      Object.keys(m.embodiments).map((n) => [n, [...new Set(camerasForEmbodiment(m, n).map((c) => c.name))]]),
    ),
    embodimentRobots: Object.fromEntries(Object.entries(m.embodiments).map(([n, e]) => [n, e.robot])),
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
  const out = new Float32Array(horizon * dim);
  for (let k = 0; k < horizon; k++) {
    for (let j = 0; j < dim; j++) {
      const i = k * dim + j;
      const v = normalized[i]! * action.std[j]! + action.mean[j]!;
      if (!Number.isFinite(v)) throw new NonFiniteActionError(manifest.name, i);
      out[i] = v;
    }
  }
  return {
    embodiment,
    horizon,
    dim,
    actions: out,
    stamp: args.stamp,
    stats: { ...args.stats, latencyMs: performance.now() - args.t0 },
  };
}

/** Actions an RTI warm-started policy executes per chunk: a quarter, so most of the next warm start is real actions. */
export function rtiExecuteLength(horizon: number): number {
  return Math.max(1, Math.floor(horizon / 4));
}

/** Actions executed since a previous chunk's observation (the RTI warm-start shift), from stamps in s. */
export function actionsSince(previousStamp: number, stamp: number, rateHz: number): number {
  return Math.max(0, Math.round((stamp - previousStamp) * rateHz));
}

/**
 * Whether predictChunk runs in the background (InferOptions.background: ChunkExecutor's async mode,
 * the ROS node): each graph call then waits a turn of the event loop, so control ticks keep running
 * between them. In the foreground the caller waits for the chunk anyway, so graphs run inline.
 */
export function inBackground(opts: InferOptions): boolean {
  return opts.background === true;
}
