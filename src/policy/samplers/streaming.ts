/**
 * Streaming Diffusion Policy (Høeg et al., arXiv 2406.04806): a partially denoised action
 * buffer whose noise level rises along the horizon. Each control step spends a few denoiser
 * calls on the whole buffer, emits the now-clean first action, shifts by one and appends
 * fresh noise. Needs a denoiser trained with per-position timesteps.
 *
 * Level bookkeeping (m = stepsPerAction, K = levels, H = horizon, r = floor(T / K)):
 * - Levels form a DDIM grid: level l in 1..K sits at timestep (l - 1) r; level 0 is clean
 *   (alpha-bar 1). Moving a position from level l to l - 1 is one DDIM step on the K-step
 *   grid, so a position that goes K -> 0 follows exactly a K-step DDIM trajectory.
 * - Before each control step position i is at level P_i = min(m (i + 1), K): position 0 at m,
 *   each next position m levels noisier, capped at K (capped positions hold pure noise).
 * - During call c = 0..m-1 of a step, position i is at level min(m (i + 1) - c, K) and goes to
 *   min(m (i + 1) - c - 1, K): every position in the staircase drops one level, capped positions
 *   wait (their model output is ignored). The denoiser gets t_i = (level_i - 1) r.
 * - After m calls position 0 is at level 0 (clean) and is emitted; the buffer shifts by one
 *   (position i takes position i + 1's values and levels, which are now min(m (i + 1), K)) and
 *   N(0, I) noise is appended at level K, restoring the profile P.
 * - So K must satisfy m <= K <= m H; the default K = m H moves every position every call.
 * - Warm-up from noise: all positions start at K; each warm-up call lowers every position that is
 *   above its P_i by one, K - m calls in all, after which the profile is P. The first emitted
 *   action then has seen K calls, like a cold K-step DDIM.
 * - Warm-up from a full clean sample x0: position i is set to q(x_t | x0_i) at its level P_i
 *   (t = (P_i - 1) r); no denoiser calls.
 * Noise is drawn from the rng in this order: H*A normals on init (either kind), then A normals
 * per control step for the appended row, plus H*A normals per call when eta > 0.
 */
import type { Rng } from '../../util/random.ts';
import { addNoise, alphaBarAt, ddimUpdateRows, type NoiseSchedule } from './schedule.ts';
import { checkChunk, checkEta, checkModelOutput, chunkSize, SamplerError, type ChunkShape, type Denoiser } from './types.ts';

export interface StreamingOptions extends ChunkShape {
  schedule: NoiseSchedule;
  /** denoiser calls per control step (m), >= 1 */
  stepsPerAction: number;
  /** levels of the DDIM grid (K), m <= K <= m H; default m H */
  levels?: number;
  /** DDIM eta for the per-position updates; default 0 (deterministic) */
  eta?: number;
  /** seeded noise source */
  rng: Rng;
}

export interface StreamingStep {
  /** the emitted clean action, model space, [A] */
  action: Float32Array;
  /** denoiser calls spent on this step (= stepsPerAction) */
  nfe: number;
}

export class StreamingBuffer {
  readonly horizon: number;
  readonly actionDim: number;
  readonly stepsPerAction: number;
  /** K: number of noisy levels */
  readonly levels: number;
  /** r: timestep stride between levels */
  readonly stride: number;
  private readonly schedule: NoiseSchedule;
  private readonly eta: number;
  private readonly rng: Rng;
  private readonly size: number;
  private readonly x: Float32Array;
  private readonly noise: Float32Array;
  private readonly tBuf: Float32Array;
  private readonly tNext: Float32Array;
  /** current level per position */
  private readonly level: Int32Array;
  private ready = false;

  constructor(o: StreamingOptions) {
    this.size = chunkSize(o, 'streaming');
    this.horizon = o.horizon;
    this.actionDim = o.actionDim;
    const m = o.stepsPerAction;
    if (!Number.isInteger(m) || m < 1) throw new SamplerError(`streaming stepsPerAction must be a positive integer, got ${m}`);
    this.stepsPerAction = m;
    const K = o.levels ?? m * o.horizon;
    const T = o.schedule.numTrainTimesteps;
    if (!Number.isInteger(K) || K < m || K > m * o.horizon) {
      throw new SamplerError(`streaming levels must be an integer in ${m}..${m * o.horizon} (stepsPerAction..stepsPerAction*horizon), got ${K}`);
    }
    if (K > T) throw new SamplerError(`streaming levels ${K} exceed num_train_timesteps ${T}: lower stepsPerAction or levels`);
    this.levels = K;
    this.stride = Math.floor(T / K);
    this.schedule = o.schedule;
    this.eta = checkEta(o.eta ?? 0, 'streaming');
    this.rng = o.rng;
    this.x = new Float32Array(this.size);
    this.noise = new Float32Array(this.size);
    this.tBuf = new Float32Array(o.horizon);
    this.tNext = new Float32Array(o.horizon);
    this.level = new Int32Array(o.horizon);
  }

  /** true once initialised by initFromNoise or initFromSample */
  get initialized(): boolean {
    return this.ready;
  }

  /** target level of position i before a control step */
  profileLevel(i: number): number {
    return Math.min(this.stepsPerAction * (i + 1), this.levels);
  }

  /** current level per position (copy); 0 = clean, l >= 1 = timestep (l - 1) * stride */
  currentLevels(): Int32Array {
    return this.level.slice();
  }

  /** current noisy buffer (copy), [H*A] */
  snapshot(): Float32Array {
    return this.x.slice();
  }

  /** timestep of a level >= 1 */
  timestepOf(level: number): number {
    return (level - 1) * this.stride;
  }

  /** Start from pure noise and run the staircase warm-up (K - m denoiser calls). */
  async initFromNoise(denoiser: Denoiser): Promise<{ nfe: number }> {
    this.rng.fillNormal(this.x);
    this.level.fill(this.levels);
    const target = new Int32Array(this.horizon);
    for (let i = 0; i < this.horizon; i++) target[i] = this.profileLevel(i);
    let nfe = 0;
    for (let c = 0; c < this.levels - this.stepsPerAction; c++) {
      await this.call(denoiser, target);
      nfe++;
    }
    this.ready = true;
    return { nfe };
  }

  /** Start from a clean chunk (e.g. a DDIM sample): noise position i to its staircase level. */
  initFromSample(sample: Float32Array): void {
    checkChunk(sample, this.size, 'streaming initial sample');
    this.rng.fillNormal(this.noise);
    const A = this.actionDim;
    for (let i = 0; i < this.horizon; i++) {
      const l = this.profileLevel(i);
      this.level[i] = l;
      addNoise({ x0: sample, noise: this.noise, alphaBar: alphaBarAt(this.schedule, this.timestepOf(l)), out: this.x, start: i * A, end: (i + 1) * A });
    }
    this.ready = true;
  }

  /**
   * One control step: m denoiser calls, emit the clean first action, shift, append noise.
   * `denoiser` is bound to the current observation.
   */
  async step(denoiser: Denoiser, out: Float32Array = new Float32Array(this.actionDim)): Promise<StreamingStep> {
    if (!this.ready) throw new SamplerError('StreamingBuffer.step called before initFromNoise or initFromSample');
    checkChunk(out, this.actionDim, 'streaming action out (length actionDim)');
    const m = this.stepsPerAction;
    const H = this.horizon;
    const A = this.actionDim;
    const target = new Int32Array(H);
    for (let c = 1; c <= m; c++) {
      for (let i = 0; i < H; i++) target[i] = Math.min(m * (i + 1) - c, this.levels);
      await this.call(denoiser, target);
    }
    out.set(this.x.subarray(0, A));
    this.x.copyWithin(0, A);
    this.level.copyWithin(0, 1);
    const tail = this.x.subarray((H - 1) * A);
    this.rng.fillNormal(tail);
    this.level[H - 1] = this.levels;
    return { action: out, nfe: m };
  }

  /** forget the buffer; the next use needs an init */
  reset(): void {
    this.ready = false;
  }

  /** One denoiser call: every position above its target level drops by one level. */
  private async call(denoiser: Denoiser, target: Int32Array): Promise<void> {
    for (let i = 0; i < this.horizon; i++) {
      if (this.level[i] < 1) throw new SamplerError(`streaming: position ${i} is already clean before a denoiser call (internal level bookkeeping error)`);
      this.tBuf[i] = this.timestepOf(this.level[i]);
      // level 0 maps to a negative timestep: clean
      this.tNext[i] = target[i] >= this.level[i] ? this.tBuf[i] : this.timestepOf(this.level[i] - 1);
    }
    const pred = checkModelOutput(await denoiser(this.x, this.tBuf), this.size, 'streaming denoiser');
    if (this.eta > 0) this.rng.fillNormal(this.noise);
    ddimUpdateRows({ schedule: this.schedule, x: this.x, model: pred, actionDim: this.actionDim, from: this.tBuf, to: this.tNext, eta: this.eta, noise: this.noise });
    for (let i = 0; i < this.horizon; i++) if (target[i] < this.level[i]) this.level[i]--;
  }
}
