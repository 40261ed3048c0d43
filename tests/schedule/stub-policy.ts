/**
 * A Policy for schedule tests: the chunk is a known function of the observation stamp
 * (action k for stamp tick m is valueAt(m + k, j)), optionally plus seeded noise, and
 * each predictChunk can be held until the test resolves it, to model latency in ticks.
 */
import type { Observation } from '../../src/observation/types.ts';
import type { ActionChunk, InferOptions, Policy, PolicyMetadata } from '../../src/policy/types.ts';
import { Rng } from '../../src/util/random.ts';

export const RATE_HZ = 10;

/** ideal action for absolute tick m, dim j */
export function valueAt(m: number, j: number): number {
  return Math.fround(Math.sin(0.3 * m + j) + 0.05 * m);
}

export function obsAt(tick: number, lagTicks = 0): Observation {
  const stamp = (tick - lagTicks) / RATE_HZ;
  return { stamp, images: {}, proprio: { fields: {}, stamp }, instruction: 'test' };
}

interface Pending {
  readonly startTick: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface StubOptions {
  horizon: number;
  dim: number;
  /** hold each call until resolveDue/resolveAll (default: resolve at once) */
  manual?: boolean;
  /** add seeded N(0, 0.1) noise, like a stochastic sampler (reseeded by reset()) */
  noiseSeed?: number;
  /** custom chunk values: (obsTick, k, j) -> value */
  values?: (obsTick: number, k: number, j: number) => number;
}

export class StubPolicy implements Policy {
  readonly metadata: PolicyMetadata;
  calls = 0;
  resets = 0;
  inFlight = 0;
  maxInFlight = 0;
  signals: (AbortSignal | undefined)[] = [];
  /** InferOptions.background of each call */
  backgrounds: (boolean | undefined)[] = [];
  pending: Pending[] = [];
  private rng: Rng | null;

  constructor(private readonly o: StubOptions) {
    this.rng = o.noiseSeed === undefined ? null : new Rng(o.noiseSeed);
    this.metadata = {
      name: 'stub',
      kind: 'chunk_regression',
      horizon: o.horizon,
      controlRateHz: RATE_HZ,
      embodiments: {
        sim: {
          space: 'joint_position',
          names: Array.from({ length: o.dim }, (_, j) => `j${j}`),
          units: Array.from({ length: o.dim }, () => 'rad'),
          mean: new Array<number>(o.dim).fill(0),
          std: new Array<number>(o.dim).fill(1),
          gripper_dims: [],
        },
      },
      cameras: [],
      proprioFields: { sim: [] },
    };
  }

  chunkFor(stamp: number): ActionChunk {
    const { horizon, dim } = this.o;
    const m = Math.round(stamp * RATE_HZ);
    const actions = new Float32Array(horizon * dim);
    for (let k = 0; k < horizon; k++) {
      for (let j = 0; j < dim; j++) {
        const base = this.o.values ? this.o.values(m, k, j) : valueAt(m + k, j);
        actions[k * dim + j] = base + (this.rng ? 0.1 * this.rng.normal() : 0);
      }
    }
    return { embodiment: 'sim', horizon, dim, actions, stamp, stats: { latencyMs: 0 } };
  }

  predictChunk(obs: Observation, opts?: InferOptions): Promise<ActionChunk> {
    this.calls++;
    this.signals.push(opts?.signal);
    this.backgrounds.push(opts?.background);
    const chunk = this.chunkFor(obs.stamp);
    if (!this.o.manual) return Promise.resolve(chunk);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      this.pending.push({
        startTick: Math.round(obs.stamp * RATE_HZ),
        resolve: () => resolve(chunk),
        reject,
      });
    });
  }

  /** resolve every call started at least `latency` ticks before `tick`; returns how many */
  resolveDue(tick: number, latency: number): number {
    const due = this.pending.filter((p) => p.startTick + latency <= tick);
    this.pending = this.pending.filter((p) => p.startTick + latency > tick);
    for (const p of due) {
      this.inFlight--;
      p.resolve();
    }
    return due.length;
  }

  rejectAll(error: unknown): void {
    for (const p of this.pending) {
      this.inFlight--;
      p.reject(error);
    }
    this.pending = [];
  }

  reset(): void {
    this.resets++;
    if (this.o.noiseSeed !== undefined) this.rng = new Rng(this.o.noiseSeed);
  }

  async dispose(): Promise<void> {}
}

/** let settled promises run their handlers */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** a chunk from explicit rows (dim = rows[0].length) */
export function chunkOf(rows: number[][], stamp = 0): ActionChunk {
  const horizon = rows.length;
  const dim = rows[0].length;
  return { embodiment: 'sim', horizon, dim, actions: Float32Array.from(rows.flat()), stamp, stats: { latencyMs: 0 } };
}
