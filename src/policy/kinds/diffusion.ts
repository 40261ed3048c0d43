/**
 * Diffusion policy: the encoder graph embeds the observation once per control
 * step; the denoiser graph is called by a TypeScript sampler loop that reuses
 * that embedding. Modes: full DDPM, DDIM-k, Streaming Diffusion Policy, RTI warm start.
 */
import type { Observation } from '../../observation/types.ts';
import type { ActionChunk, InferOptions, Policy } from '../types.ts';
import { embodimentOf, fillObservationInputs, releasePackage, requireGraph, type ModelPackage } from '../model-package.ts';
import { actionsSince, inBackground, makeChunk, policyMetadata, rtiExecuteLength } from './common.ts';
import { Rng } from '../../util/random.ts';
import {
  checkEta,
  makeSchedule,
  sampleDdim,
  sampleDdpm,
  sampleRtiDdim,
  type RtiTail,
  StreamingBuffer,
  SamplerError,
  type Denoiser,
  type NoiseSchedule,
} from '../samplers/index.ts';
import type { OnnxGraph } from '../onnx-graph.ts';

export const DIFFUSION_MODES = ['ddpm', 'ddim', 'streaming', 'rti'] as const;
export type DiffusionMode = (typeof DIFFUSION_MODES)[number];

export interface DiffusionOptions {
  mode?: DiffusionMode;
  /** ddim: steps k (default 10); ddpm: steps (default T); rti: warm steps (default RTI_WARM_STEPS); streaming: denoiser calls per action (default 1) */
  steps?: number;
  /** DDIM grid for cold starts and for RTI's warm steps (default 10) */
  ddimSteps?: number;
  /** rti: how the warm start fills the rows the previous chunk did not cover (rti.ts); default 'noise' for denoisers with per-position timesteps, else 'predict' */
  rtiTail?: RtiTail;
  /** DDIM eta for ddim, streaming and rti: 0 deterministic, 1 DDPM-like variance (default STREAMING_ETA for streaming, else 0); ddpm is always ancestral */
  eta?: number;
  seed?: number;
}

/**
 * RTI defaults, chosen on the first (CPU-trained) diffusion-small on spatial (inits 0-2, 30 episodes):
 * warm-starting after 8 of 16 actions with the last 2 of 10 DDIM steps left half of each guess as
 * copies of one action and failed (0-3 %); a quarter of the chunk per warm start with the last 4
 * steps: 17 % (DDIM-10: 37 %), 24 % over 100 episodes (DDIM-10: 27 %) with the gripper warm start
 * binarised (rti.ts). The bundled GPU-trained weights on spatial (100 episodes): 43 % with every
 * row re-noised to t = 30 (tail 'repeat'), 75 % with the uncovered rows started from pure noise
 * (tail 'noise', the default for per-position denoisers), 77 % with them estimated by one extra
 * call (tail 'predict', 1.31 calls per action: the default for other denoisers); DDIM-10 68 %.
 */
export const RTI_WARM_STEPS = 4;

/**
 * Streaming updates are ancestral by default (eta 1), as SDP's buffer takes DDPM steps. Measured:
 * diffusion-small on goal validation layouts (--layouts 9000, 300 episodes) 65.0 % at eta 1, 41.3 % at
 * eta 0 (DDPM-100: 40.3 %). Ancestral steps on a coarse grid draw nearer the mode (tests/samplers/
 * streaming.test.ts: std 0.42 vs 0.45 for eta 0, data std 0.5), as a flow noise scale below 1 does.
 */
export const STREAMING_ETA = 1;

export class DiffusionPolicy implements Policy {
  readonly metadata;
  readonly mode: DiffusionMode;
  private readonly schedule: NoiseSchedule;
  private readonly encoder: OnnxGraph;
  private readonly denoiserGraph: OnnxGraph;
  /** the denoiser graph run inline (foreground) and after a turn of the event loop (background) */
  private readonly denoisers: { inline: Denoiser; background: Denoiser };
  /** the denoiser graph's noisy_actions buffer: DDIM/DDPM sample in it (makeChunk copies the result out) */
  private readonly inPlace: Float32Array;
  private rng: Rng;
  private readonly seed: number;
  private readonly horizon: number;
  private readonly actionDim: number;
  private readonly gripperDims: readonly number[];
  private readonly perPositionInput: boolean;
  /** rti: 'noise' where the denoiser was trained with per-position timesteps, else 'predict' */
  private readonly rtiTail: RtiTail;
  private readonly eta: number;
  private streaming: StreamingBuffer | null = null;
  private previous: { actions: Float32Array; stamp: number } | null = null;

  constructor(
    private readonly pkg: ModelPackage,
    private readonly opts: DiffusionOptions = {},
  ) {
    const m = pkg.manifest;
    const d = m.diffusion!;
    const meta = policyMetadata(m);
    // the streaming buffer has one clean action per call: the rest are still noisy, so execute one;
    // RTI warm-starts from what is left of the previous chunk, so it replans after a quarter of it;
    // both continue from the chunk as it was executed, so they replan rather than blend
    this.metadata =
      opts.mode === 'streaming'
        ? { ...meta, executeLength: 1, schedule: undefined }
        : opts.mode === 'rti'
          ? { ...meta, executeLength: Math.min(meta.executeLength ?? m.chunk_length, rtiExecuteLength(m.chunk_length)), schedule: undefined }
          : meta;
    this.mode = opts.mode ?? 'ddim';
    this.schedule = makeSchedule(d.schedule);
    this.encoder = requireGraph(pkg, d.encoder);
    this.denoiserGraph = requireGraph(pkg, d.denoiser);
    const [, spec] = embodimentOf(pkg, undefined);
    this.horizon = m.chunk_length;
    this.actionDim = spec.action.names.length;
    this.gripperDims = spec.action.gripper_dims;
    this.seed = opts.seed ?? 0;
    this.rng = new Rng(this.seed);
    if (this.mode === 'streaming' && !d.per_position_timesteps) {
      throw new SamplerError(`${m.name}: streaming needs a denoiser trained with per-position timesteps (manifest diffusion.per_position_timesteps is false); use ddim or rti`);
    }
    this.eta = checkEta(opts.eta ?? (this.mode === 'streaming' ? STREAMING_ETA : 0), m.name);
    if (opts.eta !== undefined && this.mode === 'ddpm') throw new SamplerError(`${m.name}: eta applies to the ddim, streaming and rti samplers; ddpm always samples ancestrally`);
    const tSpec = this.denoiserGraph.spec.inputs.find((t) => t.name === 'timesteps');
    this.perPositionInput = (tSpec?.shape.length ?? 1) === 2;
    const perPosition = d.per_position_timesteps && this.perPositionInput;
    this.rtiTail = opts.rtiTail ?? (perPosition ? 'noise' : 'predict');
    if (this.rtiTail === 'noise' && !perPosition) {
      throw new SamplerError(`${m.name}: RTI tail 'noise' needs a denoiser trained with per-position timesteps (manifest diffusion.per_position_timesteps); use 'predict' or 'repeat'`);
    }
    const x = this.denoiserGraph.floatInput('noisy_actions');
    this.inPlace = x;
    const t = this.denoiserGraph.floatInput('timesteps');
    const g = this.denoiserGraph;
    const fill = (xIn: Float32Array, tIn: Float32Array) => {
      // DDIM and DDPM denoise in the graph's own input buffer: nothing to copy then
      if (xIn !== x) x.set(xIn);
      if (this.perPositionInput) t.set(tIn);
      else t[0] = tIn[0]!;
    };
    this.denoisers = {
      inline: (xIn, tIn) => {
        fill(xIn, tIn);
        return g.outputInline('prediction');
      },
      background: (xIn, tIn) => {
        fill(xIn, tIn);
        return g.output('prediction');
      },
    };
  }

  async predictChunk(obs: Observation, opts: InferOptions = {}): Promise<ActionChunk> {
    const t0 = performance.now();
    const [name, spec] = embodimentOf(this.pkg, opts.embodiment);
    fillObservationInputs(this.pkg, this.encoder, obs, spec);
    const background = inBackground(opts);
    const denoiser = background ? this.denoisers.background : this.denoisers.inline;
    const embedding = background ? await this.encoder.output('obs_embedding') : await this.encoder.outputInline('obs_embedding');
    this.denoiserGraph.floatInput('obs_embedding').set(embedding);
    const shape = { horizon: this.horizon, actionDim: this.actionDim };
    const ddimSteps = this.opts.ddimSteps ?? 10;
    let actions: Float32Array;
    let nfe: number;
    switch (this.mode) {
      case 'ddpm': {
        const r = await sampleDdpm({ ...shape, denoiser, schedule: this.schedule, rng: this.rng, steps: this.opts.steps, out: this.inPlace });
        ({ actions, nfe } = r);
        break;
      }
      case 'ddim': {
        const r = await sampleDdim({ ...shape, denoiser, schedule: this.schedule, rng: this.rng, steps: this.opts.steps ?? ddimSteps, eta: this.eta, out: this.inPlace });
        ({ actions, nfe } = r);
        break;
      }
      case 'rti': {
        const prev = this.previous;
        if (!prev) {
          ({ actions, nfe } = await sampleDdim({ ...shape, denoiser, schedule: this.schedule, rng: this.rng, steps: ddimSteps, eta: this.eta }));
        } else {
          // actions executed since the previous chunk's observation
          const shift = actionsSince(prev.stamp, obs.stamp, this.metadata.controlRateHz);
          ({ actions, nfe } = await sampleRtiDdim({
            ...shape,
            denoiser,
            schedule: this.schedule,
            rng: this.rng,
            previous: prev.actions,
            shift,
            gripperDims: this.gripperDims,
            numInferenceSteps: ddimSteps,
            steps: this.opts.steps ?? RTI_WARM_STEPS,
            tail: this.rtiTail,
            eta: this.eta,
          }));
        }
        this.previous = { actions: actions.slice(), stamp: obs.stamp };
        break;
      }
      case 'streaming': {
        const buf = (this.streaming ??= new StreamingBuffer({ ...shape, schedule: this.schedule, stepsPerAction: this.opts.steps ?? 1, eta: this.eta, rng: this.rng }));
        nfe = 0;
        if (!buf.initialized) nfe += (await buf.initFromNoise(denoiser)).nfe;
        const step = await buf.step(denoiser);
        nfe += step.nfe;
        // row 0: the clean action to execute now; rows 1..: the rolling buffer, noisier along the horizon
        actions = new Float32Array(this.horizon * this.actionDim);
        actions.set(step.action);
        actions.set(buf.snapshot().subarray(0, (this.horizon - 1) * this.actionDim), this.actionDim);
        break;
      }
    }
    return makeChunk({ manifest: this.pkg.manifest, embodiment: name, normalized: actions, stamp: obs.stamp, t0, stats: { nfe } });
  }

  /** new episode: forget warm starts and restart the noise sequence, so episodes are reproducible */
  reset(seed?: number): void {
    this.streaming = null;
    this.previous = null;
    this.rng = new Rng(seed ?? this.seed);
  }

  dispose(): Promise<void> {
    return releasePackage(this.pkg);
  }
}
