/**
 * ChunkExecutor: wraps a Policy and a ChunkSchedule and yields one action per tick.
 *
 * Synchronous (async: false, for evaluation): when the schedule wants a chunk, step()
 * awaits policy.predictChunk(obs) before answering, so a run is a deterministic function
 * of the observations and the policy.
 *
 * Asynchronous (async: true, for the ROS node): when the ticks left before the schedule
 * wants a chunk drop to replanThreshold, predictChunk(obs) starts in the background and
 * step() keeps answering from the current chunks. The finished chunk is handed to the
 * schedule at the start of the first step after it resolves, with the tick its
 * observation was taken at, so its entries for ticks that ran meanwhile are skipped.
 * At most one inference is in flight. A policy error is rethrown by the next step().
 */
import type { Observation } from '../observation/types.ts';
import type { ActionChunk, InferOptions, Policy } from '../policy/types.ts';
import { checkInt } from './base.ts';
import { createSchedule } from './create.ts';
import { ScheduleError } from './errors.ts';
import { stampToTick, type Timebase } from './timebase.ts';
import type { ChunkSchedule, ScheduleOptions } from './types.ts';

export interface ChunkExecutorOptions {
  readonly policy: Policy;
  /** a strategy, or the options to build one */
  readonly schedule: ChunkSchedule | ScheduleOptions;
  /** run inference in the background while ticks continue; default false */
  readonly async?: boolean;
  /**
   * async: start inference when ticksUntilDue(tick) <= this. Default:
   * ceil(expectedLatencyTicks) + marginTicks, where expectedLatencyTicks defaults to the
   * running mean of measured delays (1 before the first chunk).
   */
  readonly replanThreshold?: number;
  /** async: expected inference delay, ticks */
  readonly expectedLatencyTicks?: number;
  /** async: extra ticks of slack in the default threshold; default 1 */
  readonly marginTicks?: number;
  /**
   * When given, a chunk's observation tick is stampToTick(chunk.stamp) (capped at the
   * tick of the step that asked for it); otherwise it is the tick of that step.
   */
  readonly timebase?: Timebase;
  /** embodiment to act for, passed to predictChunk */
  readonly embodiment?: string;
  /** wall clock for latency, ms; default performance.now */
  readonly clock?: () => number;
}

export interface StepResult {
  /** action for this tick (embodiment units), or null before the first chunk */
  readonly action: Float32Array | null;
  /** a new chunk was handed to the schedule in this step (sync: computed in it; async: arrived before it) */
  readonly inferred: boolean;
  /** async: an inference was started in this step */
  readonly requested: boolean;
  /** the chunks had run out and the last action was held */
  readonly starved: boolean;
}

export interface ExecutorStats {
  /** steps taken */
  readonly ticks: number;
  /** chunks received from the policy */
  readonly inferences: number;
  /** chunks the schedule dropped (every tick they cover had already run) */
  readonly droppedChunks: number;
  /** ticks on which the last action was held */
  readonly starvedTicks: number;
  /** mean wall time of predictChunk, ms (0 before the first chunk) */
  readonly meanLatencyMs: number;
  /** denoiser / velocity-field evaluations summed over the chunks received (diffusion, flow; else 0) */
  readonly modelEvaluations: number;
  /** mean ticks between a chunk's observation and its hand-over (0 in sync mode) */
  readonly meanDelayTicks: number;
  readonly inFlight: boolean;
}

interface Done {
  readonly chunk: ActionChunk;
  readonly requestTick: number;
  readonly latencyMs: number;
}

export class ChunkExecutor {
  readonly schedule: ChunkSchedule;
  private readonly policy: Policy;
  private readonly async: boolean;
  private readonly opts: ChunkExecutorOptions;
  private readonly clock: () => number;
  /** bumped by reset() so results of abandoned inferences are ignored */
  private generation = 0;
  private inFlight: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private done: Done | null = null;
  private failure: { error: unknown } | null = null;
  private ticks = 0;
  private latest: ActionChunk | null = null;
  private inferences = 0;
  private nfe = 0;
  private dropped = 0;
  private latencySumMs = 0;
  private delaySum = 0;

  constructor(opts: ChunkExecutorOptions) {
    this.opts = opts;
    this.policy = opts.policy;
    this.async = opts.async ?? false;
    this.schedule = 'next' in opts.schedule ? opts.schedule : createSchedule(opts.schedule);
    this.clock = opts.clock ?? (() => performance.now());
    if (opts.replanThreshold !== undefined) checkInt(opts.replanThreshold, 0, 'replanThreshold');
    if (opts.marginTicks !== undefined) checkInt(opts.marginTicks, 0, 'marginTicks');
    if (opts.expectedLatencyTicks !== undefined && !(opts.expectedLatencyTicks >= 0)) {
      throw new ScheduleError(`expectedLatencyTicks is ${opts.expectedLatencyTicks}: it must be a number >= 0 (inference time x control rate)`);
    }
  }

  /** async: ticksUntilDue at or below which an inference starts */
  get replanThreshold(): number {
    if (this.opts.replanThreshold !== undefined) return this.opts.replanThreshold;
    const expected = this.opts.expectedLatencyTicks ?? (this.inferences > 0 ? this.delaySum / this.inferences : 1);
    return Math.ceil(expected) + (this.opts.marginTicks ?? 1);
  }

  /** the most recent chunk handed to the schedule (for stats and path visualization) */
  get lastChunk(): ActionChunk | null {
    return this.latest;
  }

  get stats(): ExecutorStats {
    return {
      ticks: this.ticks,
      inferences: this.inferences,
      droppedChunks: this.dropped,
      starvedTicks: this.schedule.starvedTicks,
      meanLatencyMs: this.inferences > 0 ? this.latencySumMs / this.inferences : 0,
      modelEvaluations: this.nfe,
      meanDelayTicks: this.inferences > 0 ? this.delaySum / this.inferences : 0,
      inFlight: this.inFlight !== null,
    };
  }

  /**
   * Whether step(obs, tick) may run the policy on this observation. False means the
   * observation is only used for bookkeeping, so a simulator can skip rendering cameras.
   */
  willInfer(tick: number): boolean {
    if (this.async) return this.inFlight === null;
    return this.schedule.ticksUntilDue(tick) <= 0 || !this.schedule.covers(tick);
  }

  /** The action for `tick`, given the observation taken at that tick. Rejects with the policy's error if an async inference failed. */
  async step(obs: Observation, tick: number): Promise<StepResult> {
    checkInt(tick, Number.MIN_SAFE_INTEGER, 'tick');
    let inferred = false;
    let requested = false;
    if (this.async) {
      if (this.failure !== null) {
        const { error } = this.failure;
        this.failure = null;
        throw error;
      }
      if (this.done !== null) {
        this.deliver(this.done, tick);
        this.done = null;
        inferred = true;
      }
      if (this.inFlight === null && (this.schedule.ticksUntilDue(tick) <= this.replanThreshold || !this.schedule.covers(tick))) {
        this.start(obs, tick);
        requested = true;
      }
    } else if (this.schedule.ticksUntilDue(tick) <= 0 || !this.schedule.covers(tick)) {
      const t0 = this.clock();
      const chunk = await this.policy.predictChunk(obs, this.inferOptions());
      this.deliver({ chunk, requestTick: tick, latencyMs: this.clock() - t0 }, tick);
      inferred = true;
    }
    const starvedBefore = this.schedule.starvedTicks;
    const action = this.schedule.next(tick);
    this.ticks++;
    return { action, inferred, requested, starved: this.schedule.starvedTicks > starvedBefore };
  }

  /** Wait for the in-flight inference (if any) to finish; its chunk is handed over by the next step. */
  async settle(): Promise<void> {
    await this.inFlight;
  }

  /** New episode: abandon any in-flight inference, clear the schedule, counters and the policy's state (reseeded with `seed` when given). */
  reset(seed?: number): void {
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.inFlight = null;
    this.done = null;
    this.failure = null;
    this.ticks = this.inferences = this.dropped = 0;
    this.latest = null;
    this.latencySumMs = this.delaySum = this.nfe = 0;
    this.schedule.reset();
    this.policy.reset(seed);
  }

  private inferOptions(signal?: AbortSignal): InferOptions {
    const o: InferOptions = {};
    if (this.opts.embodiment !== undefined) o.embodiment = this.opts.embodiment;
    // an inference with an abort signal runs beside the control ticks (see start())
    if (signal !== undefined) {
      o.signal = signal;
      o.background = true;
    }
    return o;
  }

  private start(obs: Observation, tick: number): void {
    const generation = this.generation;
    const abort = new AbortController();
    this.abort = abort;
    const t0 = this.clock();
    let p: Promise<ActionChunk>;
    try {
      p = this.policy.predictChunk(obs, this.inferOptions(abort.signal));
    } catch (error) {
      p = Promise.reject(error);
    }
    this.inFlight = p.then(
      (chunk) => {
        if (generation !== this.generation) return;
        this.done = { chunk, requestTick: tick, latencyMs: this.clock() - t0 };
        this.inFlight = null;
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.failure = { error };
        this.inFlight = null;
      },
    );
  }

  private deliver(d: Done, tick: number): void {
    this.latest = d.chunk;
    const obsTick = this.opts.timebase ? Math.min(stampToTick(d.chunk.stamp, this.opts.timebase), d.requestTick) : d.requestTick;
    this.inferences++;
    this.latencySumMs += d.latencyMs;
    this.nfe += d.chunk.stats?.nfe ?? 0;
    this.delaySum += tick - obsTick;
    if (!this.schedule.onChunk(d.chunk, obsTick)) this.dropped++;
  }
}
