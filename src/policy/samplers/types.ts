/**
 * Shared types for the diffusion and flow samplers.
 *
 * Samplers are written against abstract model functions so they can be tested with
 * analytic models; the ONNX-backed policies bind the observation embedding inside
 * these functions (computed once per control step, reused across denoising steps).
 * A model function returns its output now (a graph run inline) or a promise of it
 * (a graph run after a turn of the event loop); samplers await either.
 * Action chunks are normalized model-space arrays, row-major [horizon x actionDim].
 */
import { ArmatureError } from '../../errors.ts';

/**
 * Diffusion denoiser.
 * @param x noisy chunk, [H*A]
 * @param t per-position diffusion timestep, [H], float in [0, T)
 * @returns prediction [H*A]: epsilon or clean sample, per the schedule's `prediction`
 */
export type Denoiser = (x: Float32Array, t: Float32Array) => Float32Array | Promise<Float32Array>;

/**
 * Flow-matching velocity field.
 * @param x chunk at flow time t, [H*A]
 * @param t flow time: 0 = noise, 1 = data
 * @returns velocity dx/dt, [H*A]
 */
export type VelocityField = (x: Float32Array, t: number) => Float32Array | Promise<Float32Array>;

/** Shape of the action chunk a sampler produces. */
export interface ChunkShape {
  /** actions per chunk (H) */
  horizon: number;
  /** action dimension (A) */
  actionDim: number;
}

/** What every sampler returns. */
export interface SampleResult {
  /** clean chunk, model space, [H*A] */
  actions: Float32Array;
  /** model evaluations used (denoiser or velocity calls) */
  nfe: number;
}

/** A sampler was called with bad options or a model returned bad output. */
export class SamplerError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sampler.invalid', message, options);
  }
}

/** Validate a chunk shape and return H*A. */
export function chunkSize(shape: ChunkShape, who: string): number {
  const { horizon, actionDim } = shape;
  if (!Number.isInteger(horizon) || horizon < 1) throw new SamplerError(`${who}: horizon must be a positive integer, got ${horizon}`);
  if (!Number.isInteger(actionDim) || actionDim < 1) throw new SamplerError(`${who}: actionDim must be a positive integer, got ${actionDim}`);
  return horizon * actionDim;
}

/** Check that a model output has the chunk's length and finite values; name the call in the error. */
export function checkModelOutput(out: Float32Array, size: number, what: string): Float32Array {
  checkOutputLength(out, size, what);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new SamplerError(`${what} returned a non-finite value at index ${i}: check the model inputs (normalization) and the exported graph`);
  }
  return out;
}

/**
 * Check a model output's length only (a per-call check inside sampler loops). Non-finite values
 * are caught once, on the result, by checkFiniteResult: NaN or Inf in any model output always
 * reaches the result through the updates (0 * NaN is NaN), so one scan per chunk suffices.
 */
export function checkOutputLength(out: Float32Array, size: number, what: string): Float32Array {
  if (!(out instanceof Float32Array) || out.length !== size) {
    throw new SamplerError(`${what} returned ${out instanceof Float32Array ? `length ${out.length}` : typeof out}, expected a Float32Array of length ${size} (horizon * actionDim): check the graph's output shape`);
  }
  return out;
}

/** Reject a sampled chunk holding NaN/Inf, naming the sampler whose model outputs caused it. */
export function checkFiniteResult(x: Float32Array, what: string): Float32Array {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new SamplerError(`${what}: the result has a non-finite value at index ${i}, so a model output was NaN/Inf: check the model inputs (normalization) and the exported graph`);
  }
  return x;
}

/** Reject a DDIM eta that is not a finite number >= 0 (0 deterministic, 1 DDPM-like); `who` names the sampler or package. */
export function checkEta(eta: number, who: string): number {
  if (!(eta >= 0 && Number.isFinite(eta))) throw new SamplerError(`${who}: DDIM eta must be a finite number >= 0, got ${eta}`);
  return eta;
}

/** Check that a caller-supplied chunk has the right length. */
export function checkChunk(x: Float32Array, size: number, name: string): void {
  if (x.length !== size) throw new SamplerError(`${name} has length ${x.length}, expected ${size} (horizon * actionDim)`);
}
