/**
 * Flatten one or more LeRobot datasets into plain binary arrays that the
 * PyTorch training scripts read with numpy.memmap: no parquet or video decoder
 * is needed on the Python side, and every epoch reads frames straight from disk.
 *
 * Layout of `<out>/`:
 *   arrays.json            index: counts, feature names, episodes, instructions
 *   state.f32              [N, stateDim] float32, row-major
 *   action.f32             [N, actionDim] float32
 *   episode.i32            [N] episode number (0.. over all datasets)
 *   images.<camera>.u8     [N, size, size, 3] rgb8, average-pooled by an integer factor
 *
 * Pooling here is the same 2x2 (or kxk) average the policies' graphs apply to
 * 128 px frames (rounded to uint8), so training sees the resolution the graph
 * feeds its encoder.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { LeRobotDatasetReader } from './lerobot-reader.ts';
import { DatasetError } from './layout.ts';

export interface TrainingArraysOptions {
  /** LeRobot dataset roots, read in order */
  readonly datasets: readonly string[];
  readonly out: string;
  /** side of the stored square frames, px; must divide the recorded size */
  readonly imageSize: number;
  readonly onEpisode?: (e: { dataset: string; episode: number; frames: number }) => void;
}

export interface TrainingArraysIndex {
  readonly format: 'armature.arrays/1';
  readonly frames: number;
  readonly state: { readonly dim: number; readonly names: readonly string[] };
  readonly action: { readonly dim: number; readonly names: readonly string[] };
  /** camera name (without `observation.images.`) */
  readonly cameras: readonly string[];
  readonly imageSize: number;
  readonly fps: number;
  readonly robotType: string;
  /** instruction per task index */
  readonly tasks: readonly string[];
  readonly episodes: readonly { readonly start: number; readonly length: number; readonly task: number; readonly dataset: string }[];
}

const IMAGE_PREFIX = 'observation.images.';

/** Average-pool an rgb8 square frame by an integer factor into `out` (rounded). */
export function poolRgb(src: Uint8Array, size: number, factor: number, out: Uint8Array): void {
  const o = size / factor;
  const inv = 1 / (factor * factor);
  for (let y = 0; y < o; y++) {
    for (let x = 0; x < o; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < factor; dy++) {
        let i = ((y * factor + dy) * size + x * factor) * 3;
        for (let dx = 0; dx < factor; dx++, i += 3) {
          r += src[i]!;
          g += src[i + 1]!;
          b += src[i + 2]!;
        }
      }
      const j = (y * o + x) * 3;
      out[j] = Math.round(r * inv);
      out[j + 1] = Math.round(g * inv);
      out[j + 2] = Math.round(b * inv);
    }
  }
}

/** Queue a copy of `bytes` (callers reuse their buffers) and wait for drain when the stream is full. */
function write(stream: WriteStream, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(Buffer.from(bytes), (e) => (e ? reject(e) : undefined));
    if (ok) resolve();
    else stream.once('drain', resolve);
  });
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

export async function exportTrainingArrays(o: TrainingArraysOptions): Promise<TrainingArraysIndex> {
  if (o.datasets.length === 0) throw new DatasetError('no datasets given: pass at least one LeRobot dataset root');
  const readers = await Promise.all(o.datasets.map((d) => LeRobotDatasetReader.open(d)));
  const first = readers[0]!;
  const feature = (r: LeRobotDatasetReader, key: string): { names: string[]; dim: number } => {
    const f = r.info.features[key];
    if (!f) throw new DatasetError(`${r.root} has no '${key}' feature; record it with \`armature record\``);
    return { names: Array.isArray(f.names) ? [...(f.names as readonly string[])] : [], dim: f.shape.reduce((a, b) => a * b, 1) };
  };
  const stateF = feature(first, 'observation.state');
  const actionF = feature(first, 'action');
  const cameraKeys = [...first.imageKeys, ...first.videoKeys].filter((k) => k.startsWith(IMAGE_PREFIX)).sort();
  for (const r of readers) {
    const keys = [...r.imageKeys, ...r.videoKeys].filter((k) => k.startsWith(IMAGE_PREFIX)).sort();
    if (keys.join() !== cameraKeys.join() || feature(r, 'observation.state').dim !== stateF.dim || feature(r, 'action').dim !== actionF.dim) {
      throw new DatasetError(`${r.root} has cameras ${keys.join(', ')} / state ${feature(r, 'observation.state').dim} / action ${feature(r, 'action').dim}, unlike ${first.root}: merge only datasets of one robot and action space`);
    }
  }
  const recorded = first.info.features[cameraKeys[0]!]?.shape[0] ?? 0;
  if (recorded % o.imageSize !== 0) {
    throw new DatasetError(`frames are ${recorded} px; --image-size ${o.imageSize} must divide it`);
  }
  const factor = recorded / o.imageSize;
  mkdirSync(o.out, { recursive: true });
  const cameras = cameraKeys.map((k) => k.slice(IMAGE_PREFIX.length));
  const streams = {
    state: createWriteStream(path.join(o.out, 'state.f32')),
    action: createWriteStream(path.join(o.out, 'action.f32')),
    episode: createWriteStream(path.join(o.out, 'episode.i32')),
    images: cameras.map((c) => createWriteStream(path.join(o.out, `images.${c}.u8`))),
  };
  const tasks: string[] = [];
  const episodes: { start: number; length: number; task: number; dataset: string }[] = [];
  const pooled = new Uint8Array(o.imageSize * o.imageSize * 3);
  let frames = 0;
  try {
    for (const r of readers) {
      for (const meta of r.episodes) {
        const ep = await r.readEpisode(meta.episodeIndex);
        const instruction = ep.tasks[0] ?? '';
        let task = tasks.indexOf(instruction);
        if (task < 0) task = tasks.push(instruction) - 1;
        const state = Float32Array.from(ep.values['observation.state']!);
        const action = Float32Array.from(ep.values['action']!);
        await write(streams.state, new Uint8Array(state.buffer));
        await write(streams.action, new Uint8Array(action.buffer));
        await write(streams.episode, new Uint8Array(new Int32Array(ep.length).fill(episodes.length).buffer));
        for (const [ci, key] of cameraKeys.entries()) {
          const imgs = ep.images[key];
          if (!imgs || imgs.length !== ep.length) throw new DatasetError(`${r.root} episode ${meta.episodeIndex}: camera '${key}' has ${imgs?.length ?? 0} frames for ${ep.length} rows`);
          for (const img of imgs) {
            if (factor === 1) await write(streams.images[ci]!, img);
            else {
              poolRgb(img, recorded, factor, pooled);
              await write(streams.images[ci]!, pooled);
            }
          }
        }
        episodes.push({ start: frames, length: ep.length, task, dataset: path.basename(r.root) });
        frames += ep.length;
        o.onEpisode?.({ dataset: r.root, episode: meta.episodeIndex, frames: ep.length });
      }
    }
  } finally {
    await Promise.all([close(streams.state), close(streams.action), close(streams.episode), ...streams.images.map(close)]);
  }
  const index: TrainingArraysIndex = {
    format: 'armature.arrays/1',
    frames,
    state: { dim: stateF.dim, names: stateF.names },
    action: { dim: actionF.dim, names: actionF.names },
    cameras,
    imageSize: o.imageSize,
    fps: first.info.fps,
    robotType: first.info.robot_type ?? '',
    tasks,
    episodes,
  };
  writeFileSync(path.join(o.out, 'arrays.json'), JSON.stringify(index, null, 1) + '\n');
  return index;
}
