/** Chunk regression VLA (ACT / OpenVLA-OFT style): one graph maps the observation to a normalized chunk. */
import type { Observation } from '../../observation/types.ts';
import type { ActionChunk, InferOptions, Policy } from '../types.ts';
import { embodimentOf, fillObservationInputs, releasePackage, requireGraph, type ModelPackage } from '../model-package.ts';
import { inBackground, makeChunk, policyMetadata } from './common.ts';

export class ChunkRegressionPolicy implements Policy {
  readonly metadata;

  constructor(private readonly pkg: ModelPackage) {
    this.metadata = policyMetadata(pkg.manifest);
  }

  async predictChunk(obs: Observation, opts: InferOptions = {}): Promise<ActionChunk> {
    const t0 = performance.now();
    const [name, spec] = embodimentOf(this.pkg, opts.embodiment);
    const graph = requireGraph(this.pkg, 'policy');
    fillObservationInputs(this.pkg, graph, obs, spec);
    const out = inBackground(opts) ? await graph.run() : await graph.runInline();
    return makeChunk({ manifest: this.pkg.manifest, embodiment: name, normalized: out['actions']!, stamp: obs.stamp, t0 });
  }

  reset(): void {}

  dispose(): Promise<void> {
    return releasePackage(this.pkg);
  }
}
