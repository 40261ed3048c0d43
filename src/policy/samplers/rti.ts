/**
 * Real-Time Iteration warm starts (RTI-DP, Duan, Yin & Kragic, arXiv 2508.05396): reuse the
 * previous solution, shifted by the actions executed since, as the initial guess of the next
 * denoising, and run only the last few steps. No retraining or distillation.
 *
 * Discrete (gripper) dimensions: a warm start that carries the previous +-1 gripper command
 * tends to lock it in, because a few low-noise steps cannot move a dimension across the gap
 * between the two modes. The RTI-DP code has two variants:
 * - 'clip' (RTI-DP-clip): the stored guess's gripper dims are snapped to sign(g) / factor
 *   (their configs use factor 1, i.e. plain binarisation);
 * - 'scale' (RTI-DP-scale): the policy is trained on data whose gripper actions are divided by
 *   10, so in model space the gripper modes sit at +-0.1, close to each other relative to the
 *   noise, and a switch stays reachable.
 * Both snap the emitted gripper action to +-1 afterwards; that belongs to action decoding, not here.
 * Here `gripper.mode` 'sign' maps g -> sign(g) / factor and 'scale' maps g -> g / factor, applied to
 * the warm-start guess only. The default { mode: 'sign', factor: 1 } is RTI-DP-clip as their configs
 * run it, for models trained on unscaled gripper actions (all of ours). A larger factor weakens the
 * previous gripper state so the prior can switch it (see the two-point test), but for a model that
 * never saw gripper values near 0 the guess is off its data: diffusion-small on spatial (100
 * episodes, 4 warm steps every 4 actions) reached 14 % with factor 10 and 24 % with factor 1
 * (DDIM-10: 27 %). Use factor > 1 / 'scale' with models trained on scaled gripper actions.
 *
 * Re-noising: RTI-DP feeds the shifted guess directly as x at its first RTI timestep (no fresh
 * noise; their DDPM steps add variance noise as they go). By default we instead draw
 * x_{t_k} ~ q(x_t | guess) with fresh noise, which puts the guess on the marginal the model was
 * trained on; `renoise: false` reproduces RTI-DP.
 *
 * Tail: the last `shift` rows of the guess only repeat the previous chunk's last action. RTI-DP
 * re-noises them to the same low level as the rest, so new actions can only grow out of that copy.
 * `tail` (below) chooses other starts for them: pure noise for a denoiser trained on per-position
 * timesteps, or the model's one-step estimate.
 */
import type { Rng } from '../../util/random.ts';
import { runDdim } from './ddim.ts';
import { drawNoise, integrateFlow, interpolate } from './flow.ts';
import { addNoise, alphaBarAt, ddimTimesteps, ddimUpdate, ddimUpdateRows, type NoiseSchedule } from './schedule.ts';
import { checkChunk, checkEta, checkFiniteResult, checkOutputLength, chunkSize, SamplerError, type ChunkShape, type Denoiser, type SampleResult, type VelocityField } from './types.ts';

/** How discrete gripper dims of the previous chunk enter the warm start. */
export interface GripperWarmStart {
  /** 'sign': g -> sign(g) / factor (RTI-DP-clip); 'scale': g -> g / factor */
  mode: 'sign' | 'scale';
  /** divisor >= 1; larger = weaker commitment to the previous gripper state */
  factor: number;
}

export const DEFAULT_GRIPPER_WARM_START: Readonly<GripperWarmStart> = Object.freeze({ mode: 'sign', factor: 1 });

export interface ShiftOptions extends ChunkShape {
  /** previous clean chunk, [H*A] */
  previous: Float32Array;
  /** actions executed since it was computed, >= 0 */
  shift: number;
  out?: Float32Array;
}

/** out[i] = previous[min(i + shift, H - 1)]: drop executed actions, repeat the last one at the end. */
export function shiftChunk(o: ShiftOptions): Float32Array {
  const size = chunkSize(o, 'shiftChunk');
  checkChunk(o.previous, size, 'previous chunk');
  if (!Number.isInteger(o.shift) || o.shift < 0) throw new SamplerError(`shift must be a non-negative integer (actions executed), got ${o.shift}`);
  const out = o.out ?? new Float32Array(size);
  checkChunk(out, size, 'shiftChunk out');
  const { horizon: H, actionDim: A } = o;
  if (out === o.previous) throw new SamplerError('shiftChunk: out must not alias previous');
  for (let i = 0; i < H; i++) {
    const src = Math.min(i + o.shift, H - 1);
    out.set(o.previous.subarray(src * A, (src + 1) * A), i * A);
  }
  return out;
}

/** Apply the gripper warm-start mapping in place to dims `gripperDims` of every row. */
export function scaleGripperDims(chunk: Float32Array, o: { actionDim: number; gripperDims: readonly number[]; gripper?: GripperWarmStart }): Float32Array {
  const g = o.gripper ?? DEFAULT_GRIPPER_WARM_START;
  if (!(g.factor >= 1)) throw new SamplerError(`gripper warm-start factor must be >= 1, got ${g.factor}`);
  const A = o.actionDim;
  for (const d of o.gripperDims) {
    if (!Number.isInteger(d) || d < 0 || d >= A) throw new SamplerError(`gripper dim ${d} is outside 0..${A - 1}: check the manifest's action.gripper_dims`);
    for (let i = d; i < chunk.length; i += A) {
      const v = chunk[i];
      chunk[i] = g.mode === 'sign' ? (v > 0 ? 1 : v < 0 ? -1 : 0) / g.factor : v / g.factor;
    }
  }
  return chunk;
}

interface WarmStartCommon extends ChunkShape {
  previous: Float32Array;
  shift: number;
  /** indices of discrete gripper dims (manifest action.gripper_dims) */
  gripperDims?: readonly number[];
  gripper?: GripperWarmStart;
  rng: Rng;
  /** reuse this buffer for the result (length H*A) */
  out?: Float32Array;
}

/** The shifted previous chunk with gripper dims mapped: the RTI initial guess (clean). */
export function rtiGuess(o: Omit<WarmStartCommon, 'rng'>): Float32Array {
  const guess = shiftChunk({ previous: o.previous, shift: o.shift, horizon: o.horizon, actionDim: o.actionDim, out: o.out });
  return scaleGripperDims(guess, { actionDim: o.actionDim, gripperDims: o.gripperDims ?? [], gripper: o.gripper });
}

/**
 * How the warm start fills the rows the previous chunk did not cover (the last `shift`):
 * - 'repeat' (RTI-DP): copies of its last action, re-noised like every other row, so new actions
 *   can only grow out of that copy;
 * - 'noise': pure noise, brought to clean in the same k calls as the covered rows (in larger
 *   steps). Noise rising along the horizon is in distribution only for a denoiser trained with
 *   per-position timesteps, so diffusion only;
 * - 'predict': the model's one-step estimate from pure noise (one extra call per chunk), then
 *   re-noised like the covered rows; any model.
 */
export const RTI_TAILS = ['repeat', 'noise', 'predict'] as const;
export type RtiTail = (typeof RTI_TAILS)[number];

export function isRtiTail(v: string): v is RtiTail {
  return (RTI_TAILS as readonly string[]).includes(v);
}

/**
 * Start level per position on the K-level DDIM grid (level l >= 1 is timestep (l - 1) floor(T / K),
 * 0 is clean): k for every row, except the uncovered tail at K (pure noise) with tail 'noise'.
 */
export function rtiStartLevels(o: { horizon: number; shift: number; steps: number; numInferenceSteps: number; tail: RtiTail }): Int32Array {
  const out = new Int32Array(o.horizon).fill(o.steps);
  if (o.tail === 'noise') for (let i = Math.max(0, o.horizon - o.shift); i < o.horizon; i++) out[i] = o.numInferenceSteps;
  return out;
}

/** Level of a position that starts at `start` after call j of k (j = 1..k): evenly spaced, 0 after the last. */
export function levelAfterCall(start: number, j: number, k: number): number {
  return Math.round((start * (k - j)) / k);
}

export interface RtiDdimOptions extends WarmStartCommon {
  denoiser: Denoiser;
  schedule: NoiseSchedule;
  /** K: the DDIM grid a cold start would use */
  numInferenceSteps: number;
  /** k: run only the last k of the K DDIM steps, starting at timestep (k - 1) floor(T / K) */
  steps: number;
  eta?: number;
  /** re-noise the guess to the first RTI timestep with fresh noise (default true); false = RTI-DP */
  renoise?: boolean;
  /** the uncovered rows (default 'repeat'); 'noise' needs per-position timesteps */
  tail?: RtiTail;
}

/**
 * Warm-started DDIM: guess = shift(previous) with gripper mapping, x_{t_k} = q(x_t | guess),
 * then the last k DDIM steps. nfe = k (+1 with tail 'predict'). Noise: H*A normals for the
 * prediction's start (tail 'predict'), H*A for re-noising, then DDIM's.
 */
export async function sampleRtiDdim(o: RtiDdimOptions): Promise<SampleResult> {
  const size = chunkSize(o, 'RTI');
  const grid = ddimTimesteps(o.schedule.numTrainTimesteps, o.numInferenceSteps);
  if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > grid.length) {
    throw new SamplerError(`RTI steps must be an integer in 1..${grid.length} (numInferenceSteps), got ${o.steps}`);
  }
  const tail = o.tail ?? 'repeat';
  if (tail !== 'repeat' && o.renoise === false) throw new SamplerError(`RTI tail '${tail}' re-noises the guess: renoise: false only applies to tail 'repeat'`);
  const x = rtiGuess({ ...o, out: o.out ?? new Float32Array(size) });
  if (tail === 'noise') {
    const nfe = await runPerPositionWarmStart({ ...o, x });
    return { actions: x, nfe };
  }
  let extra = 0;
  if (tail === 'predict') extra = await predictTailDdim(o, x, grid[0]!);
  const timesteps = grid.slice(grid.length - o.steps);
  if (o.renoise ?? true) {
    const noise = o.rng.fillNormal(new Float32Array(size)) as Float32Array;
    addNoise({ x0: x, noise, alphaBar: alphaBarAt(o.schedule, timesteps[0]), out: x });
  }
  const nfe = await runDdim({ denoiser: o.denoiser, schedule: o.schedule, x, timesteps, eta: o.eta, rng: o.rng, horizon: o.horizon, actionDim: o.actionDim });
  return { actions: x, nfe: nfe + extra };
}

/** Overwrite the guess's uncovered rows with the clean estimate of one call on pure noise at timestep `top`; returns the calls (0 or 1). */
async function predictTailDdim(o: RtiDdimOptions, guess: Float32Array, top: number): Promise<number> {
  const { horizon: H, actionDim: A } = o;
  const from = Math.max(0, H - o.shift) * A;
  if (from >= H * A) return 0;
  const z = o.rng.fillNormal(new Float32Array(H * A)) as Float32Array;
  const pred = checkOutputLength(await o.denoiser(z, new Float32Array(H).fill(top)), H * A, 'RTI tail prediction');
  // a DDIM step to alpha-bar 1 is the clean estimate x0
  ddimUpdate({ schedule: o.schedule, x: z, model: pred, out: guess, alphaBar: alphaBarAt(o.schedule, top), alphaBarPrev: 1, eta: 0, start: from, end: H * A });
  return 1;
}

/**
 * Tail 'noise': the covered rows are drawn from q(x_t | guess_i) at level k and the uncovered ones
 * are pure noise (level K); k denoiser calls take every row to clean, each on its own evenly spaced
 * levels. Covered rows follow exactly the last k steps of the K-step DDIM grid.
 */
async function runPerPositionWarmStart(o: RtiDdimOptions & { x: Float32Array }): Promise<number> {
  const { horizon: H, actionDim: A, schedule, x } = o;
  const K = o.numInferenceSteps;
  const k = o.steps;
  const r = Math.floor(schedule.numTrainTimesteps / K);
  const start = rtiStartLevels({ horizon: H, shift: o.shift, steps: k, numInferenceSteps: K, tail: 'noise' });
  const tOf = (level: number): number => (level - 1) * r;
  const noise = o.rng.fillNormal(new Float32Array(H * A)) as Float32Array;
  for (let i = 0; i < H; i++) {
    if (i >= H - o.shift) x.set(noise.subarray(i * A, (i + 1) * A), i * A);
    else addNoise({ x0: x, noise, alphaBar: alphaBarAt(schedule, tOf(start[i]!)), out: x, start: i * A, end: (i + 1) * A });
  }
  const eta = checkEta(o.eta ?? 0, 'RTI');
  const tBuf = new Float32Array(H);
  const tNext = new Float32Array(H);
  for (let j = 0; j < k; j++) {
    // level 0 maps to a negative timestep: clean
    for (let i = 0; i < H; i++) {
      tBuf[i] = tOf(levelAfterCall(start[i]!, j, k));
      tNext[i] = tOf(levelAfterCall(start[i]!, j + 1, k));
    }
    const pred = checkOutputLength(await o.denoiser(x, tBuf), H * A, `RTI denoiser call ${j + 1} of ${k}`);
    if (eta > 0) o.rng.fillNormal(noise);
    ddimUpdateRows({ schedule, x, model: pred, actionDim: A, from: tBuf, to: tNext, eta, noise });
  }
  checkFiniteResult(x, "RTI warm start with tail 'noise'");
  return k;
}

export interface RtiFlowOptions extends WarmStartCommon {
  velocity: VelocityField;
  /** flow time to start from, (0, 1); the guess enters as (1 - t0) noise + t0 guess */
  t0: number;
  /** Euler steps from t0 to 1 */
  steps: number;
  /** the uncovered rows: 'repeat' (default) or 'predict' (x1 = z + v(z, 0), one extra call); a flow head takes one time per chunk, so no 'noise' */
  tail?: RtiTail;
  /** scale of the source noise (default 1), see drawNoise */
  noiseScale?: number;
}

/** Warm-started flow matching from the shifted previous chunk; nfe = steps (+1 with tail 'predict'). */
export async function sampleRtiFlow(o: RtiFlowOptions): Promise<SampleResult> {
  const size = chunkSize(o, 'RTI flow');
  if (!(o.t0 > 0 && o.t0 < 1)) throw new SamplerError(`RTI flow t0 must be in (0, 1), got ${o.t0}`);
  const tail = o.tail ?? 'repeat';
  if (tail === 'noise') throw new SamplerError("RTI flow: tail 'noise' needs per-position noise levels, which a flow head (one time per chunk) does not take; use 'predict' or 'repeat'");
  const guess = rtiGuess({ ...o, out: new Float32Array(size) });
  const x = o.out ?? new Float32Array(size);
  checkChunk(x, size, 'RTI flow out');
  let extra = 0;
  const from = Math.max(0, o.horizon - o.shift) * o.actionDim;
  if (tail === 'predict' && from < size) {
    // one Euler step over the whole flow: the one-step estimate of the chunk
    drawNoise(o.rng, x, o.noiseScale);
    const v = checkOutputLength(await o.velocity(x, 0), size, 'velocity field');
    for (let i = from; i < size; i++) guess[i] = x[i]! + v[i]!;
    extra = 1;
  }
  drawNoise(o.rng, x, o.noiseScale);
  interpolate(x, guess, o.t0, x);
  const nfe = await integrateFlow({ velocity: o.velocity, x, t0: o.t0, steps: o.steps, horizon: o.horizon, actionDim: o.actionDim });
  return { actions: x, nfe: nfe + extra };
}
