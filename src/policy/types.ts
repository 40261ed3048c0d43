import type { Observation } from '../observation/types.ts';
import type { ActionSpec, PolicyKind } from './manifest.ts';
import type { ScheduleChoice } from '../schedule/types.ts';

/**
 * A chunk of future actions for one embodiment, in that embodiment's units
 * (denormalized), row-major [horizon x dim].
 */
export interface ActionChunk {
  readonly embodiment: string;
  readonly horizon: number;
  readonly dim: number;
  readonly actions: Float32Array;
  /** stamp of the observation the chunk was computed from, s; action k is meant for stamp + k / rate */
  readonly stamp: number;
  readonly stats: InferenceStats;
}

export interface InferenceStats {
  /** wall time of predictChunk, ms */
  latencyMs: number;
  /** denoiser / velocity-field evaluations spent on this chunk (diffusion and flow) */
  nfe?: number;
  /** flow early exit: index of the exit whose actions were returned */
  exitIndex?: number;
  /** universal actions: selected codebook index */
  universalToken?: number;
}

export interface PolicyMetadata {
  readonly name: string;
  readonly kind: PolicyKind;
  /** actions per chunk */
  readonly horizon: number;
  /** actions to execute per chunk before replanning unless the caller chooses (<= horizon) */
  readonly executeLength?: number;
  /** how chunks are executed unless the caller chooses (absent: execute-then-replan); see scheduleFor */
  readonly schedule?: ScheduleChoice;
  /** policy rate the chunk is meant to be executed at, Hz */
  readonly controlRateHz: number;
  /** embodiments this policy can drive, with their action spaces */
  readonly embodiments: Readonly<Record<string, ActionSpec>>;
  /** camera names the policy reads from Observation.images, for any of its embodiments */
  readonly cameras: readonly string[];
  /** per embodiment, the cameras it reads when acting for that robot (absent: `cameras` for every one) */
  readonly embodimentCameras?: Readonly<Record<string, readonly string[]>>;
  /** per embodiment, the robot description id it was trained for (e.g. 'franka/fr3') */
  readonly embodimentRobots?: Readonly<Record<string, string>>;
  /** proprio fields it reads from Observation.proprio, per embodiment */
  readonly proprioFields: Readonly<Record<string, readonly string[]>>;
}

export interface InferOptions {
  /** which embodiment to act for (required when the policy drives several) */
  embodiment?: string;
  /** abort signal for asynchronous inference */
  signal?: AbortSignal;
  /**
   * the caller keeps running control ticks while this inference runs (the async executor, the ROS
   * node): each model call then waits a turn of the event loop; otherwise graphs run inline
   */
  background?: boolean;
}

/** One interface for every policy kind, local or remote. */
export interface Policy {
  readonly metadata: PolicyMetadata;
  predictChunk(obs: Observation, opts?: InferOptions): Promise<ActionChunk>;
  /**
   * forget warm-start buffers and other per-episode state; stochastic policies restart their
   * noise sequence from `seed` (default: the seed they were created with)
   */
  reset(seed?: number): void;
  /** free native resources */
  dispose(): Promise<void>;
}

/** Camera names the policy reads when acting for `embodiment` (what a simulator or node must render). */
export function policyCameras(meta: Pick<PolicyMetadata, 'cameras' | 'embodimentCameras'>, embodiment: string): readonly string[] {
  return meta.embodimentCameras?.[embodiment] ?? meta.cameras;
}

/** Read action k of a chunk into `out` (length dim). */
export function actionAt(chunk: ActionChunk, k: number, out: Float32Array = new Float32Array(chunk.dim)): Float32Array {
  if (k < 0 || k >= chunk.horizon) throw new RangeError(`action index ${k} outside chunk of ${chunk.horizon}`);
  out.set(chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim));
  return out;
}
