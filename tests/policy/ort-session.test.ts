import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../../src/policy/manifest.ts';
import { OnnxGraph } from '../../src/policy/onnx-graph.ts';
import { ManifestError } from '../../src/errors.ts';
import { loadModelPackage, releasePackage, type ModelPackage } from '../../src/policy/model-package.ts';
import { policyFromPackage, type LoadPolicyOptions } from '../../src/policy/load.ts';
import { loadObservationFile } from '../../src/observation/example.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { SessionKind } from '../../src/policy/onnx-graph.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const open: ModelPackage[] = [];
async function load(name: string, session: SessionKind): Promise<ModelPackage> {
  const pkg = await loadModelPackage(join(MODELS, name), { session });
  open.push(pkg);
  return pkg;
}
afterAll(async () => {
  await Promise.all(open.map((p) => releasePackage(p)));
});

const example = (name: string): Observation => loadObservationFile(join(MODELS, name, 'example', 'observation.json'));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Two chunks in a row (the second at a later stamp, so RTI warm-starts), foreground or background. */
async function twoChunks(pkg: ModelPackage, opts: LoadPolicyOptions, background: boolean): Promise<number[][]> {
  const policy = policyFromPackage(pkg, { seed: 3, ...opts });
  const obs = example(pkg.manifest.name);
  const embodiment = Object.keys(pkg.manifest.embodiments)[0]!;
  const infer = { embodiment, background };
  const a = await policy.predictChunk(obs, infer);
  const b = await policy.predictChunk({ ...obs, stamp: obs.stamp + 0.2 }, infer);
  return [bits(a.actions), bits(b.actions)];
}

describe('graphs run on the native onnxruntime session, synchronously', () => {
  it('loads the native session by default, and the public API when asked, without a fallback reason', async () => {
    const native = await load('diffusion-tiny', 'native');
    const pub = await load('diffusion-tiny', 'public');
    for (const g of native.graphs.values()) expect([g.sessionKind, g.fallbackReason]).toEqual(['native', null]);
    for (const g of pub.graphs.values()) expect([g.sessionKind, g.fallbackReason]).toEqual(['public', null]);
    // inline runs return a plain value on the native session, a promise on the public one
    expect(native.graphs.get('denoiser')!.outputInline('prediction')).toBeInstanceOf(Float32Array);
    const p = pub.graphs.get('denoiser')!.outputInline('prediction');
    expect(p).toBeInstanceOf(Promise);
    await p;
  });

  it.each(['diffusion-tiny', 'flow-tiny'])('%s: every graph gives bit-identical outputs natively and through session.run', async (name) => {
    const native = await load(name, 'native');
    const pub = await load(name, 'public');
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (const [graphName, g] of native.graphs) {
      const h = pub.graphs.get(graphName)!;
      for (const [input, data] of Object.entries(g.inputs)) {
        if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) data[i] = rand();
        else if (data instanceof Uint8Array) for (let i = 0; i < data.length; i++) data[i] = (rand() * 128 + 128) | 0;
        else for (let i = 0; i < data.length; i++) data[i] = BigInt((rand() * 8 + 8) | 0);
        h.inputs[input]!.set(data as never);
      }
      const a = g.runInline() as Record<string, Float32Array>;
      const b = await h.run();
      const c = await g.run();
      for (const t of g.spec.outputs) {
        expect(bits(a[t.name]!), `${graphName}.${t.name}`).toEqual(bits(b[t.name]!));
        expect(bits(c[t.name]!), `${graphName}.${t.name}`).toEqual(bits(b[t.name]!));
      }
    }
  });

  const modes: Array<[string, LoadPolicyOptions]> = [
    ['vla-chunk-tiny', {}],
    ['uniact-tiny', {}],
    ['diffusion-tiny', { sampler: 'ddim' }],
    ['diffusion-tiny', { sampler: 'ddpm', steps: 20 }],
    ['diffusion-tiny', { sampler: 'streaming' }],
    ['diffusion-tiny', { sampler: 'rti' }],
    ['flow-tiny', { sampler: 'euler' }],
    ['flow-tiny', { sampler: 'truncated' }],
    ['flow-tiny', { sampler: 'rti' }],
  ];
  it.each(modes)('%s %j: chunks are bit-identical native (foreground and background) and on the public API', async (name, opts) => {
    const fg = await twoChunks(await load(name, 'native'), opts, false);
    const bg = await twoChunks(await load(name, 'native'), opts, true);
    const pub = await twoChunks(await load(name, 'public'), opts, false);
    expect(fg).toEqual(pub);
    expect(bg).toEqual(pub);
  });

  it('background inference (as the async executor asks for) lets the event loop turn between graph calls; foreground does not', async () => {
    const pkg = await load('diffusion-tiny', 'native');
    const obs = example('diffusion-tiny');
    const turnedDuring = async (background: boolean) => {
      const policy = policyFromPackage(pkg, { seed: 0 });
      let turned = false;
      const chunk = policy.predictChunk(obs, { background });
      setImmediate(() => (turned = true));
      await chunk;
      return turned;
    };
    expect(await turnedDuring(true)).toBe(true);
    expect(await turnedDuring(false)).toBe(false);
  });

  it('a graph file onnxruntime cannot parse is a ManifestError naming the file, not a silent fallback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-ort-'));
    const spec = loadManifest(join(MODELS, 'diffusion-tiny')).graphs['encoder']!;
    writeFileSync(join(dir, spec.file), 'not an onnx model');
    const err = await OnnxGraph.load(dir, 'encoder', spec).catch((e: unknown) => e);
    rmSync(dir, { recursive: true });
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toMatch(/graph 'encoder': onnxruntime cannot load .*encoder\.onnx/);
  });
});
