import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseManifest, loadManifest, type Manifest } from '../../src/policy/manifest.ts';
import { cameraPreprocessor, fillObservationInputs, loadModelPackage, releasePackage, type ModelPackage } from '../../src/policy/model-package.ts';
import { checkGoldens } from '../../src/policy/golden.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import type { OnnxGraph } from '../../src/policy/onnx-graph.ts';
import { ImagePreprocessor, encodePng } from '../../src/observation/image.ts';
import { PixelPreprocessor } from '../../src/observation/pixels.ts';
import { rawExampleObservation } from '../../src/runtime/bench-util.ts';
import type { Observation, RawImage } from '../../src/observation/types.ts';
import type { Policy } from '../../src/policy/types.ts';
import { ManifestError } from '../../src/errors.ts';
import { Rng } from '../../src/util/random.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'pixel_input.onnx');
const PACKAGES = ['vla-chunk-tiny', 'uniact-tiny', 'diffusion-tiny', 'flow-tiny'];
type Json = Record<string, any>;
const vlaManifest = (): Json => JSON.parse(readFileSync(join(MODELS, 'vla-chunk-tiny', 'manifest.json'), 'utf8'));

/** The same manifest as an old-style package: float CHW camera inputs, no pixels blocks. */
function floatVariant(): Json {
  const m = vlaManifest();
  for (const c of m.cameras) delete c.pixels;
  for (const t of m.graphs.policy.inputs) if (t.name.startsWith('image_')) Object.assign(t, { dtype: 'float32', shape: ['batch', 3, 64, 64] });
  return m;
}

const open: Policy[] = [];
afterAll(async () => {
  await Promise.all(open.map((p) => p.dispose()));
});

describe('manifest cameras[].pixels', () => {
  it.each(PACKAGES)('%s takes uint8 HWC 128x128 pixels and pools to 64x64 in the graph', async (name) => {
    const m = loadManifest(join(MODELS, name));
    expect(m.cameras.length).toBeGreaterThan(0);
    const pkg = await loadModelPackage(join(MODELS, name));
    try {
      for (const c of m.cameras) {
        expect(c.pixels).toEqual({ dtype: 'uint8', layout: 'hwc', height: 128, width: 128 });
        expect([c.height, c.width]).toEqual([64, 64]);
        const inputs = Object.values(m.graphs).flatMap((g) => g.inputs.filter((t) => t.name === c.input));
        expect(inputs.length).toBe(1);
        expect(inputs[0]).toEqual({ name: c.input, dtype: 'uint8', shape: ['batch', 128, 128, 3] });
        expect(pkg.cameras.get(c.name)).toBeInstanceOf(PixelPreprocessor);
      }
    } finally {
      await releasePackage(pkg);
    }
  });

  it('keeps old float CHW packages valid, preprocessed in JS', () => {
    const m = parseManifest(floatVariant());
    expect(m.cameras[0]!.pixels).toBeUndefined();
    expect(cameraPreprocessor(m.cameras[0]!)).toBeInstanceOf(ImagePreprocessor);
  });

  it('rejects a pixels block whose graph input is float CHW, naming the field and the fix', () => {
    const m = floatVariant();
    m.cameras[0].pixels = { dtype: 'uint8', layout: 'hwc', height: 128, width: 128 };
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(ManifestError);
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(
      /x\/manifest.json: graphs\.policy\.inputs \(image_agentview\) for cameras\[0\] \(agentview\): is float32 \[batch, 3, 64, 64\], but the camera needs uint8 \[batch, 128, 128, 3\] \(HWC pixels, from cameras.pixels\); export the graph with a uint8 HWC pixel input/,
    );
  });

  it('rejects a uint8 graph input without a pixels block, and a size mismatch', () => {
    const m = vlaManifest();
    delete m.cameras[1].pixels;
    expect(() => parseManifest(m)).toThrow(/cameras\[1\] \(eye_in_hand\): is uint8 \[batch, 128, 128, 3\], but the camera needs float32 \[batch, 3, 64, 64\] \(normalized CHW\); add a cameras.pixels block/);
    const n = vlaManifest();
    n.cameras[0].pixels.height = 96;
    expect(() => parseManifest(n)).toThrow(/cameras\[0\] \(agentview\): is uint8 \[batch, 128, 128, 3\], but the camera needs uint8 \[batch, 96, 128, 3\]/);
  });

  it('validates the pixels block itself', () => {
    const bad = (edit: (p: Json) => void): Json => {
      const m = vlaManifest();
      edit(m.cameras[0].pixels);
      return m;
    };
    expect(() => parseManifest(bad((p) => (p.dtype = 'float32')))).toThrow(/cameras\.0\.pixels\.dtype/);
    expect(() => parseManifest(bad((p) => (p.layout = 'chw')))).toThrow(/cameras\.0\.pixels\.layout/);
    expect(() => parseManifest(bad((p) => (p.width = 0)))).toThrow(/cameras\.0\.pixels\.width/);
    expect(() => parseManifest(bad((p) => (p.channels = 'rgb')))).toThrow(/cameras\.0\.pixels.*[Uu]nrecognized key/);
  });

  it('checks the declared pixel shape against the ONNX graph at load time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-pixels-'));
    cpSync(join(MODELS, 'vla-chunk-tiny'), dir, { recursive: true });
    const m = vlaManifest();
    m.cameras[0].pixels.height = 96;
    m.graphs.policy.inputs[0].shape = ['batch', 96, 128, 3];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(loadModelPackage(dir)).rejects.toThrow(/input 'image_agentview' dim 1 is 128 in the graph, manifest says 96/);
  });
});

describe('uint8 graph inputs at run time', () => {
  it('exposes camera inputs as uint8 buffers only', async () => {
    const pkg = await loadModelPackage(join(MODELS, 'vla-chunk-tiny'));
    try {
      const g = pkg.graphs.get('policy')!;
      expect(g.uint8Input('image_agentview').length).toBe(128 * 128 * 3);
      expect(() => g.floatInput('image_agentview')).toThrow(/has no float32 input 'image_agentview'/);
      expect(() => g.uint8Input('state')).toThrow(/has no uint8 input 'state'/);
    } finally {
      await releasePackage(pkg);
    }
  });

  it('feeds borrowed bytes without copying, then its own buffer again once that is asked for', async () => {
    const pkg = await loadModelPackage(join(MODELS, 'vla-chunk-tiny'));
    try {
      const g = pkg.graphs.get('policy')!;
      const own = g.uint8Input('image_agentview');
      expect(() => g.borrowUint8('image_agentview', new Uint8Array(10))).toThrow(/input 'image_agentview' takes 49152 bytes, got 10/);
      const a = new Uint8Array(own.length).fill(200);
      g.borrowUint8('image_agentview', a);
      const withA = Array.from((await g.run()).actions!);
      g.uint8Input('image_agentview').fill(0); // back to the own buffer, now black
      const black = Array.from((await g.run()).actions!);
      expect(black).not.toEqual(withA);
      g.uint8Input('image_agentview').fill(200);
      expect(Array.from((await g.run()).actions!)).toEqual(withA);
    } finally {
      await releasePackage(pkg);
    }
  });

  it('fills uint8 pixels for pixel packages and float CHW tensors for old packages', () => {
    const obs = rawExampleObservation(join(MODELS, 'vla-chunk-tiny'));
    const frame = obs.images.agentview as RawImage;
    const run = (manifest: Manifest): Record<string, Float32Array | Uint8Array> => {
      const inputs: Record<string, Float32Array | Uint8Array> = {};
      const borrowed: Record<string, Uint8Array> = {};
      for (const t of manifest.graphs.policy!.inputs) {
        const n = t.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
        inputs[t.name] = t.dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
      }
      // a stand-in graph: only the buffer accessors fillObservationInputs uses
      const graph = {
        inputs,
        hasInput: (n: string) => n in inputs && n.startsWith('image_'),
        floatInput: (n: string) => inputs[n] as Float32Array,
        uint8Input: (n: string) => inputs[n] as Uint8Array,
        borrowUint8: (n: string, bytes: Uint8Array) => (borrowed[n] = bytes),
      } as unknown as OnnxGraph;
      const pkg: ModelPackage = { dir: '', manifest, graphs: new Map(), tokenizer: null, cameras: new Map(manifest.cameras.map((c) => [c.name, cameraPreprocessor(c)])) };
      fillObservationInputs(pkg, graph, obs, manifest.embodiments.franka!);
      return { ...inputs, ...borrowed };
    };
    // an rgb8 128x128 frame is exactly the graph's input: fed without a copy
    const px = run(parseManifest(vlaManifest()));
    expect(px.image_agentview).toBe(frame.data);
    const fl = run(parseManifest(floatVariant()));
    const cam = parseManifest(floatVariant()).cameras[0]!;
    expect(Array.from(fl.image_agentview!)).toEqual(Array.from(new ImagePreprocessor(cam).run(frame)));
  });

  it('the exported PixelInput graph computes what ImagePreprocessor computes in JS', async () => {
    const session = await ort.InferenceSession.create(FIXTURE);
    try {
      const cam = parseManifest(floatVariant()).cameras[0]!;
      const rng = new Rng(5);
      const data = new Uint8Array(128 * 128 * 3);
      for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
      const frame: RawImage = { type: 'raw', encoding: 'rgb8', width: 128, height: 128, step: 384, data, stamp: 0 };
      const out = await session.run({ pixels: new ort.Tensor('uint8', data, [1, 128, 128, 3]) });
      const got = out.image!;
      expect(got.dims).toEqual([1, 3, 64, 64]);
      const want = new ImagePreprocessor(cam).run(frame);
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs((got.data as Float32Array)[i]! - want[i]!));
      expect(err).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });

  it('rejects a uint8 golden value outside 0..255', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-golden-'));
    cpSync(join(MODELS, 'vla-chunk-tiny'), dir, { recursive: true });
    const file = join(dir, 'golden', 'policy.json');
    const golden = JSON.parse(readFileSync(file, 'utf8'));
    expect(golden.inputs.image_agentview.dtype).toBe('uint8');
    golden.inputs.image_agentview.data[7] = 300;
    writeFileSync(file, JSON.stringify(golden));
    const pkg = await loadModelPackage(dir);
    try {
      await expect(checkGoldens(pkg)).rejects.toThrow(/golden tensor 'image_agentview' is uint8 but holds values outside the integers 0\.\.255/);
    } finally {
      await releasePackage(pkg);
    }
  });
});

describe('a pixel package gives the same actions whatever encoding or size the camera sends', () => {
  /** Re-encode every camera of an observation with `f`. */
  const mapImages = (obs: Observation, f: (r: RawImage) => Observation['images'][string]): Observation => ({
    ...obs,
    images: Object.fromEntries(Object.entries(obs.images).map(([k, v]) => [k, f(v as RawImage)])),
  });
  const toBgra = (r: RawImage): RawImage => {
    const step = r.width * 4 + 8;
    const data = new Uint8Array(step * r.height);
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const s = y * r.step + x * 3;
        const o = y * step + x * 4;
        data.set([r.data[s + 2]!, r.data[s + 1]!, r.data[s]!, 255], o);
      }
    }
    return { ...r, encoding: 'bgra8', step, data };
  };
  /** 2x nearest upscale: its exact 2x bilinear downscale is the original frame. */
  const upscale2 = (r: RawImage): RawImage => {
    const W = r.width * 2;
    const data = new Uint8Array(W * 3 * r.height * 2);
    for (let y = 0; y < r.height * 2; y++) {
      for (let x = 0; x < W; x++) data.set(r.data.subarray((y >> 1) * r.step + (x >> 1) * 3, (y >> 1) * r.step + (x >> 1) * 3 + 3), (y * W + x) * 3);
    }
    return { ...r, width: W, height: r.height * 2, step: W * 3, data };
  };

  it('rgb8, bgra8 with padding, PNG and a 2x larger frame agree exactly', async () => {
    const policy = await loadPolicy(join(MODELS, 'vla-chunk-tiny'));
    open.push(policy);
    const obs = rawExampleObservation(join(MODELS, 'vla-chunk-tiny'));
    const base = Array.from((await policy.predictChunk(obs)).actions);
    for (const variant of [
      mapImages(obs, toBgra),
      mapImages(obs, (r) => ({ type: 'compressed', format: 'png', data: encodePng(r), stamp: r.stamp })),
      mapImages(obs, upscale2),
      // borrowed again after conversions, and from a view into a larger buffer
      obs,
      mapImages(obs, (r) => {
        const big = new Uint8Array(r.data.length + 13);
        big.set(r.data, 5);
        return { ...r, data: big.subarray(5, 5 + r.data.length) };
      }),
    ]) {
      expect(Array.from((await policy.predictChunk(variant)).actions)).toEqual(base);
    }
    // a different picture must change the actions (the images do reach the graph)
    const dark = mapImages(obs, (r) => ({ ...r, data: r.data.map((v) => v >> 2) }));
    const other = (await policy.predictChunk(dark)).actions;
    expect(other.reduce((s, v, i) => s + Math.abs(v - base[i]!), 0)).toBeGreaterThan(1e-4);
  });
});
