/**
 * Universal-action VLA (UniAct): backbone -> logits over the shared codebook ->
 * selected universal action embedding -> the embodiment's own decoder head.
 * Adding a robot is adding a decoder graph + embodiment entry; this code does not change.
 */
import { join } from 'node:path';
import type { Observation } from '../../observation/types.ts';
import type { ActionChunk, InferOptions, Policy } from '../types.ts';
import { embodimentOf, fillObservationInputs, releasePackage, requireGraph, type ModelPackage } from '../model-package.ts';
import { UniversalCodebook, type TokenSelection } from '../../actions/universal.ts';
import { inBackground, makeChunk, policyMetadata } from './common.ts';

export interface UniversalActionOptions {
  selection?: TokenSelection;
}

export class UniversalActionPolicy implements Policy {
  readonly metadata;
  private readonly codebook: UniversalCodebook;
  private readonly selection: TokenSelection;

  constructor(
    private readonly pkg: ModelPackage,
    opts: UniversalActionOptions = {},
  ) {
    this.metadata = policyMetadata(pkg.manifest);
    const ua = pkg.manifest.universal_action!;
    this.codebook = UniversalCodebook.fromFile(join(pkg.dir, ua.codebook), ua.size, ua.dim);
    this.selection = opts.selection ?? { type: 'argmax' };
  }

  async predictChunk(obs: Observation, opts: InferOptions = {}): Promise<ActionChunk> {
    const t0 = performance.now();
    const [name, spec] = embodimentOf(this.pkg, opts.embodiment);
    const backbone = requireGraph(this.pkg, this.pkg.manifest.universal_action!.backbone);
    fillObservationInputs(this.pkg, backbone, obs, spec);
    const background = inBackground(opts);
    const b = background ? await backbone.run() : await backbone.runInline();
    const decoder = requireGraph(this.pkg, spec.decoder!);
    const token = this.codebook.embed(b['ua_logits']!, this.selection, decoder.floatInput('ua_embedding'));
    if (decoder.hasInput('features')) decoder.floatInput('features').set(b['features']!);
    fillObservationInputs(this.pkg, decoder, obs, spec);
    const actions = background ? await decoder.output('actions') : await decoder.outputInline('actions');
    return makeChunk({
      manifest: this.pkg.manifest,
      embodiment: name,
      normalized: actions,
      stamp: obs.stamp,
      t0,
      stats: { universalToken: token },
    });
  }

  reset(): void {}

  dispose(): Promise<void> {
    return releasePackage(this.pkg);
  }
}
