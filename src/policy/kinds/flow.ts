/**
 * Flow-matching policy with several exits (A1): backbone stage k produces
 * features h_k, head k is the velocity field v(x_t, t, h_k). Modes: 'euler'
 * (every stage, last head), 'truncated' (early exit when consecutive exits agree,
 * each exit warm-started from the previous one) and 'rti' (warm start from the
 * previous chunk, shifted).
 */
import type { Observation } from '../../observation/types.ts';
import type { ActionChunk, InferOptions, Policy } from '../types.ts';
import { embodimentOf, fillObservationInputs, releasePackage, requireGraph, type ModelPackage } from '../model-package.ts';
import { actionsSince, inBackground, makeChunk, policyMetadata, rtiExecuteLength } from './common.ts';
import { Rng } from '../../util/random.ts';
import { checkNoiseScale, sampleFlow, sampleRtiFlow, sampleWithEarlyExit, SamplerError, type RtiTail, type VelocityField } from '../samplers/index.ts';
import type { OnnxGraph } from '../onnx-graph.ts';
import type { EmbodimentSpec } from '../manifest.ts';

export const FLOW_MODES = ['euler', 'truncated', 'rti'] as const;
export type FlowMode = (typeof FLOW_MODES)[number];

export interface FlowOptions {
  mode?: FlowMode;
  /** Euler steps for a cold start (default: manifest flow.steps); rti: warm steps (default 3) */
  steps?: number;
  /** truncated: flow time at which a later exit starts from the previous exit's actions (default 0.6) */
  warmStartTime?: number;
  /** truncated: max abs disagreement (normalized units) between consecutive exits to stop (default 0.05) */
  tolerance?: number;
  /** rti: flow time of the warm start (default 0.7) */
  rtiTime?: number;
  /** rti: how the warm start fills the rows the previous chunk did not cover (default 'predict', rti.ts) */
  rtiTail?: RtiTail;
  /** scale of the source noise every mode starts from (default: manifest flow.noise_scale, else 1 = as trained; below 1 samples nearer the mode) */
  noiseScale?: number;
  seed?: number;
}

interface Exit {
  stage: OnnxGraph;
  head: OnnxGraph;
}

export class FlowPolicy implements Policy {
  readonly metadata;
  readonly mode: FlowMode;
  private readonly exits: Exit[];
  /** per exit, its head run inline (foreground) and after a turn of the event loop (background) */
  private readonly velocities: Array<{ inline: VelocityField; background: VelocityField }>;
  private rng: Rng;
  private readonly seed: number;
  private readonly noiseScale: number;
  private readonly horizon: number;
  private readonly actionDim: number;
  private readonly gripperDims: readonly number[];
  private previous: { actions: Float32Array; stamp: number } | null = null;

  constructor(
    private readonly pkg: ModelPackage,
    private readonly opts: FlowOptions = {},
  ) {
    const m = pkg.manifest;
    this.mode = opts.mode ?? 'euler';
    if (opts.rtiTail === 'noise') throw new SamplerError(`${m.name}: RTI tail 'noise' needs per-position noise levels, which a flow head (one time per chunk) does not take; use 'predict' or 'repeat'`);
    this.noiseScale = checkNoiseScale(opts.noiseScale ?? m.flow!.noise_scale ?? 1, m.name);
    const meta = policyMetadata(m);
    // RTI warm-starts from what is left of the previous chunk as executed, so it replans after a quarter of it (as diffusion RTI)
    this.metadata = this.mode === 'rti' ? { ...meta, executeLength: Math.min(meta.executeLength ?? m.chunk_length, rtiExecuteLength(m.chunk_length)), schedule: undefined } : meta;
    this.exits = m.flow!.exits.map((e) => ({ stage: requireGraph(pkg, e.stage), head: requireGraph(pkg, e.head) }));
    this.velocities = this.exits.map(({ head }) => {
      const x = head.floatInput('actions');
      const t = head.floatInput('time');
      const fill = (xIn: Float32Array, tIn: number) => {
        // the Euler sampler integrates in this head's own input buffer: nothing to copy then
        if (xIn !== x) x.set(xIn);
        t[0] = tIn;
      };
      return {
        inline: (xIn: Float32Array, tIn: number) => {
          fill(xIn, tIn);
          return head.outputInline('velocity');
        },
        background: (xIn: Float32Array, tIn: number) => {
          fill(xIn, tIn);
          return head.output('velocity');
        },
      };
    });
    const [, spec] = embodimentOf(pkg, undefined);
    this.horizon = m.chunk_length;
    this.actionDim = spec.action.names.length;
    this.gripperDims = spec.action.gripper_dims;
    this.seed = opts.seed ?? 0;
    this.rng = new Rng(this.seed);
  }

  /** Run backbone stage k (stage 0 reads the observation) and hand its features to head k. */
  private async runStage(k: number, obs: Observation, spec: EmbodimentSpec, background: boolean): Promise<void> {
    const { stage, head } = this.exits[k]!;
    // stage k > 0 continues from the features stage k - 1 left in head k - 1's input
    if (k === 0) fillObservationInputs(this.pkg, stage, obs, spec);
    else stage.floatInput('features_in').set(this.exits[k - 1]!.head.floatInput('features'));
    head.floatInput('features').set(background ? await stage.output('features') : await stage.outputInline('features'));
  }

  async predictChunk(obs: Observation, opts: InferOptions = {}): Promise<ActionChunk> {
    const t0 = performance.now();
    const [name, spec] = embodimentOf(this.pkg, opts.embodiment);
    const shape = { horizon: this.horizon, actionDim: this.actionDim };
    const last = this.exits.length - 1;
    const coldSteps = this.pkg.manifest.flow!.steps;
    let actions: Float32Array;
    let nfe: number;
    let exitIndex = last;
    const background = inBackground(opts);
    const velocity = (k: number) => (background ? this.velocities[k]!.background : this.velocities[k]!.inline);
    if (this.mode === 'truncated') {
      const r = await sampleWithEarlyExit({
        ...shape,
        exits: this.exits.map((_, k) => ({ velocity: velocity(k), prepare: () => this.runStage(k, obs, spec, background) })),
        steps: this.opts.steps ?? coldSteps,
        warmStartTime: this.opts.warmStartTime ?? 0.6,
        tolerance: this.opts.tolerance ?? 0.05,
        rng: this.rng,
        noiseScale: this.noiseScale,
      });
      ({ actions, nfe, exitIndex } = r);
    } else {
      for (let k = 0; k <= last; k++) await this.runStage(k, obs, spec, background);
      const prev = this.previous;
      if (this.mode === 'rti' && prev) {
        const shift = actionsSince(prev.stamp, obs.stamp, this.metadata.controlRateHz);
        ({ actions, nfe } = await sampleRtiFlow({
          ...shape,
          velocity: velocity(last),
          previous: prev.actions,
          shift,
          gripperDims: this.gripperDims,
          t0: this.opts.rtiTime ?? 0.7,
          steps: this.opts.steps ?? 3,
          tail: this.opts.rtiTail ?? 'predict',
          rng: this.rng,
          noiseScale: this.noiseScale,
        }));
      } else {
        // integrate in the last head's input buffer (makeChunk copies the result out)
        const out = this.exits[last]!.head.floatInput('actions');
        ({ actions, nfe } = await sampleFlow({ ...shape, velocity: velocity(last), steps: coldSteps, rng: this.rng, out, noiseScale: this.noiseScale }));
      }
      if (this.mode === 'rti') this.previous = { actions: actions.slice(), stamp: obs.stamp };
    }
    return makeChunk({ manifest: this.pkg.manifest, embodiment: name, normalized: actions, stamp: obs.stamp, t0, stats: { nfe, exitIndex } });
  }

  reset(seed?: number): void {
    this.previous = null;
    this.rng = new Rng(seed ?? this.seed);
  }

  dispose(): Promise<void> {
    return releasePackage(this.pkg);
  }
}
