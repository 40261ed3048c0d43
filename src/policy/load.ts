/** Load any model package as a Policy, picking the implementation from the manifest's kind. */
import { loadModelPackage, type ModelPackage } from './model-package.ts';
import type { Policy } from './types.ts';
import { ChunkRegressionPolicy } from './kinds/chunk-regression.ts';
import { UniversalActionPolicy } from './kinds/universal-action.ts';
import { DiffusionPolicy, DIFFUSION_MODES, type DiffusionMode } from './kinds/diffusion.ts';
import { FlowPolicy, FLOW_MODES, type FlowMode } from './kinds/flow.ts';
import type { TokenSelection } from '../actions/universal.ts';
import { ArmatureError } from '../errors.ts';
import { isRtiTail, RTI_TAILS, type RtiTail } from './samplers/rti.ts';

export interface LoadPolicyOptions {
  /** diffusion: ddpm | ddim | streaming | rti; flow: euler | truncated | rti */
  sampler?: string;
  steps?: number;
  /** sampler rti: how the warm start fills the rows the previous chunk did not cover (default: 'noise' for diffusion denoisers with per-position timesteps, else 'predict') */
  rtiTail?: RtiTail;
  /** flow: scale of the source noise (default: the package's flow.noise_scale, else 1 = as trained) */
  noiseScale?: number;
  /** diffusion: DDIM eta for the ddim, streaming and rti samplers (0 = deterministic, 1 = DDPM-like variance; default STREAMING_ETA for streaming, else 0) */
  eta?: number;
  seed?: number;
  /** universal_action: how to pick a codebook entry */
  selection?: TokenSelection;
  intraOpThreads?: number;
}

function checkMode<T extends string>(kind: string, mode: string | undefined, allowed: readonly T[]): T | undefined {
  if (mode === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(mode)) {
    throw new ArmatureError('policy.sampler', `sampler '${mode}' does not apply to a ${kind} policy; choose one of ${allowed.join(', ')}`);
  }
  return mode as T;
}

export async function loadPolicy(dir: string, opts: LoadPolicyOptions = {}): Promise<Policy> {
  return policyFromPackage(await loadModelPackage(dir, { intraOpThreads: opts.intraOpThreads }), opts);
}

/** Wrap an already loaded package (the caller keeps access to its graphs). */
export function policyFromPackage(pkg: ModelPackage, opts: LoadPolicyOptions = {}): Policy {
  const kind = pkg.manifest.kind;
  if (opts.rtiTail !== undefined && !((kind === 'diffusion' || kind === 'flow') && opts.sampler === 'rti')) {
    throw new ArmatureError('policy.rti_tail', `an RTI tail applies to diffusion and flow policies with sampler 'rti'; ${pkg.manifest.name} is ${kind} with sampler '${opts.sampler ?? 'default'}'`);
  }
  if (opts.rtiTail !== undefined && !isRtiTail(opts.rtiTail)) {
    throw new ArmatureError('policy.rti_tail', `unknown RTI tail '${opts.rtiTail}'; choose one of ${RTI_TAILS.join(', ')}`);
  }
  if (opts.noiseScale !== undefined && kind !== 'flow') {
    throw new ArmatureError('policy.noise_scale', `a noise scale applies to flow policies (their samplers start from one noise draw); ${pkg.manifest.name} is ${kind}`);
  }
  if (opts.eta !== undefined && kind !== 'diffusion') {
    throw new ArmatureError('policy.eta', `DDIM eta applies to diffusion policies; ${pkg.manifest.name} is ${kind}`);
  }
  if ((kind === 'chunk_regression' || kind === 'universal_action') && opts.sampler !== undefined) {
    throw new ArmatureError('policy.sampler', `--sampler applies to diffusion and flow policies; ${pkg.manifest.name} is ${kind}`);
  }
  switch (kind) {
    case 'chunk_regression':
      return new ChunkRegressionPolicy(pkg);
    case 'universal_action':
      return new UniversalActionPolicy(pkg, { selection: opts.selection });
    case 'diffusion':
      return new DiffusionPolicy(pkg, { mode: checkMode<DiffusionMode>(kind, opts.sampler, DIFFUSION_MODES), steps: opts.steps, rtiTail: opts.rtiTail, eta: opts.eta, seed: opts.seed });
    case 'flow':
      return new FlowPolicy(pkg, { mode: checkMode<FlowMode>(kind, opts.sampler, FLOW_MODES), steps: opts.steps, rtiTail: opts.rtiTail, noiseScale: opts.noiseScale, seed: opts.seed });
  }
}
