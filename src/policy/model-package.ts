/**
 * A loaded model package: manifest, ONNX graphs, tokenizer, and the code that
 * writes an Observation into graph inputs (cameras, language, proprio).
 */
import { join } from 'node:path';
import { camerasForEmbodiment, loadManifest, type Manifest, type EmbodimentSpec, type CameraSpec } from './manifest.ts';
import { OnnxGraph, type GraphOptions } from './onnx-graph.ts';
import { ImagePreprocessor } from '../observation/image.ts';
import { PixelPreprocessor } from '../observation/pixels.ts';
import { WordTokenizer } from '../observation/language.ts';
import { assembleProprio } from '../observation/proprio.ts';
import type { Observation } from '../observation/types.ts';
import { ManifestError, ObservationError } from '../errors.ts';

export interface ModelPackage {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly graphs: ReadonlyMap<string, OnnxGraph>;
  readonly tokenizer: WordTokenizer | null;
  /** per camera: float CHW normalization in JS, or a uint8 HWC fill for graphs with `pixels` */
  readonly cameras: ReadonlyMap<string, CameraPreprocessor>;
}

export type CameraPreprocessor = ImagePreprocessor | PixelPreprocessor;

/** The JS side of one camera input: uint8 pixels when the graph preprocesses itself, else the float tensor. */
export function cameraPreprocessor(c: CameraSpec): CameraPreprocessor {
  if (c.pixels) return new PixelPreprocessor({ height: c.pixels.height, width: c.pixels.width, channels: c.channels, resize: c.resize });
  return new ImagePreprocessor(c);
}

export async function loadModelPackage(dir: string, opts: GraphOptions = {}): Promise<ModelPackage> {
  const manifest = loadManifest(dir);
  const graphs = new Map<string, OnnxGraph>();
  try {
    for (const [name, spec] of Object.entries(manifest.graphs)) graphs.set(name, await OnnxGraph.load(dir, name, spec, opts));
  } catch (e) {
    await Promise.all([...graphs.values()].map((g) => g.release()));
    throw e;
  }
  const tokenizer = manifest.language ? WordTokenizer.fromFile(join(dir, manifest.language.vocab), manifest.language) : null;
  const cameras = new Map(manifest.cameras.map((c) => [c.name, cameraPreprocessor(c)] as const));
  return { dir, manifest, graphs, tokenizer, cameras };
}

export function requireGraph(pkg: ModelPackage, name: string): OnnxGraph {
  const g = pkg.graphs.get(name);
  if (!g) throw new ManifestError(`${pkg.dir}: graph '${name}' is required but not loaded`);
  return g;
}

export function embodimentOf(pkg: ModelPackage, requested: string | undefined): [string, EmbodimentSpec] {
  const entries = Object.entries(pkg.manifest.embodiments);
  if (requested === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new ObservationError(
      `${pkg.manifest.name} drives several embodiments [${entries.map(([n]) => n).join(', ')}]: pass one (--embodiment / InferOptions.embodiment)`,
    );
  }
  const spec = pkg.manifest.embodiments[requested];
  if (!spec) {
    throw new ObservationError(
      `${pkg.manifest.name} has no embodiment '${requested}'; it drives [${entries.map(([n]) => n).join(', ')}]`,
    );
  }
  return [requested, spec];
}

/** per embodiment spec, its cameras: looked up once, as fillObservationInputs runs every step */
const CAMERAS_BY_EMBODIMENT = new WeakMap<EmbodimentSpec, readonly CameraSpec[]>();

/** The manifest cameras that serve `embodiment` (a spec object of pkg.manifest.embodiments). */
export function packageCamerasFor(pkg: ModelPackage, embodiment: EmbodimentSpec): readonly CameraSpec[] {
  let cameras = CAMERAS_BY_EMBODIMENT.get(embodiment);
  if (!cameras) {
    const name = Object.entries(pkg.manifest.embodiments).find(([, e]) => e === embodiment)?.[0];
    cameras = name === undefined ? pkg.manifest.cameras : camerasForEmbodiment(pkg.manifest, name);
    CAMERAS_BY_EMBODIMENT.set(embodiment, cameras);
  }
  return cameras;
}

/**
 * Write the observation into every input of `graph` that the manifest maps:
 * camera tensors (only the cameras serving `embodiment`), token ids + mask, and
 * the embodiment's normalized proprio.
 * Buffers are the graph's own, so this allocates nothing per step.
 */
export function fillObservationInputs(
  pkg: ModelPackage,
  graph: OnnxGraph,
  obs: Observation,
  embodiment: EmbodimentSpec,
): void {
  const cameras = packageCamerasFor(pkg, embodiment);
  for (const cam of cameras) {
    if (!graph.hasInput(cam.input)) continue;
    const frame = obs.images[cam.name];
    if (!frame) {
      throw new ObservationError(
        `observation has no image for camera '${cam.name}' (model ${pkg.manifest.name} needs [${cameras.map((c) => c.name).join(', ')}] for this embodiment; got [${Object.keys(obs.images).join(', ')}])`,
      );
    }
    const pre = pkg.cameras.get(cam.name)!;
    if (pre instanceof PixelPreprocessor) {
      // a frame already in the graph's layout is fed as is (frames are not modified once delivered)
      const exact = pre.exactBytes(frame);
      if (exact) graph.borrowUint8(cam.input, exact);
      else pre.run(frame, graph.uint8Input(cam.input));
    } else pre.run(frame, graph.floatInput(cam.input));
  }
  const lang = pkg.manifest.language;
  if (lang && pkg.tokenizer && graph.hasInput(lang.input)) {
    const ids = graph.inputs[lang.input] as BigInt64Array;
    const mask = lang.mask_input && graph.hasInput(lang.mask_input) ? graph.floatInput(lang.mask_input) : undefined;
    pkg.tokenizer.encode(obs.instruction, ids, mask);
  }
  if (graph.hasInput(embodiment.proprio.input)) {
    assembleProprio(embodiment.proprio, obs.proprio, graph.floatInput(embodiment.proprio.input));
  }
}

export async function releasePackage(pkg: ModelPackage): Promise<void> {
  await Promise.all([...pkg.graphs.values()].map((g) => g.release()));
}
