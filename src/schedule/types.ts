/**
 * Chunk execution: turning ActionChunks into one action per control tick.
 *
 * Ticks are integers; tick k is meant to run at time t0 + k / rate (see timebase.ts).
 * A chunk computed from the observation taken at tick s holds the actions for ticks
 * s, s+1, ..., s+horizon-1, so every strategy indexes chunks by absolute tick: entries
 * for ticks that already ran while the policy was thinking are skipped, not replayed.
 */
import type { ActionChunk } from '../policy/types.ts';

export const SCHEDULE_MODES = ['replan', 'ensemble', 'blend'] as const;
export type ScheduleMode = (typeof SCHEDULE_MODES)[number];

/** Execute-then-replan (LeRobot n_action_steps): run the first actionsPerChunk actions of the latest chunk, then ask for a new one. */
export interface ReplanOptions {
  readonly mode: 'replan';
  /** actions executed per chunk before a new one is wanted (LIBERO baselines: 5 or 8) */
  readonly actionsPerChunk: number;
}

/** ACT temporal ensembling: weighted mean of every live chunk's prediction for the tick. */
export interface EnsembleOptions {
  readonly mode: 'ensemble';
  /** ticks between chunk requests; ACT queries every tick (1, the default) */
  readonly actionsPerChunk?: number;
  /** m in w_i = exp(-m * i), i = 0 for the oldest prediction; default 0.01 as ACT */
  readonly decay?: number;
  /** discrete dims (gripper open/close) that take the newest chunk's value instead of the mean */
  readonly gripperDims?: readonly number[];
}

/** Weight ramp from the old plan to a new chunk. */
export const BLEND_RAMPS = ['linear', 'exponential'] as const;
export type BlendRamp = (typeof BLEND_RAMPS)[number];

/** Real-time-chunking style blending: ramp from the plan being executed to the new chunk. */
export interface BlendOptions {
  readonly mode: 'blend';
  /** execution horizon: ticks after a chunk's observation before a new chunk is wanted */
  readonly actionsPerChunk: number;
  /** ticks over which the output moves from the old plan to the new chunk (0 = switch at once) */
  readonly blendSteps: number;
  /** default 'linear' */
  readonly ramp?: BlendRamp;
}

export type ScheduleOptions = ReplanOptions | EnsembleOptions | BlendOptions;

/**
 * A schedule chosen without its execution length (that is the manifest's execute_length or the
 * caller's): what a model package names as its default, or what a caller overrides.
 */
export interface ScheduleChoice {
  readonly mode: ScheduleMode;
  /** blend: ticks from the old plan to the new chunk */
  readonly blendSteps?: number;
  readonly ramp?: BlendRamp;
  /** ensemble: ACT's m */
  readonly decay?: number;
}

/**
 * One chunk-combination strategy, driven by an explicit tick counter so the simulator
 * (no wall clock) and the ROS node (wall clock -> ticks) use it the same way.
 * Ticks passed to next() must never decrease within an episode; call reset() between episodes.
 */
export interface ChunkSchedule {
  readonly mode: ScheduleMode;
  /**
   * Hand over a chunk computed from the observation taken at tick obsTick. It applies
   * from the first tick not yet passed to next(). Returns false when the chunk was
   * dropped: it is older than the latest accepted chunk, or every tick it covers has
   * already been executed.
   */
  onChunk(chunk: ActionChunk, obsTick: number): boolean;
  /**
   * The action for `tick` (a fresh array, embodiment units), or null when no chunk has
   * arrived yet. If the chunks ran out, the last action is held and the tick is counted
   * as starved.
   */
  next(tick: number): Float32Array | null;
  /** true if an accepted chunk holds an action for `tick` (false means next(tick) would hold or return null) */
  covers(tick: number): boolean;
  /** ticks from `tick` until a new chunk is wanted; <= 0 means now (also before the first chunk) */
  ticksUntilDue(tick: number): number;
  /** ticks on which next() held the last action because the chunks had run out */
  readonly starvedTicks: number;
  /** forget all chunks, the held action and the counters */
  reset(): void;
}
