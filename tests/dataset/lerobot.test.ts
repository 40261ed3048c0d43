import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawImage } from '../../src/observation/types.ts';
import { Rng } from '../../src/util/random.ts';
import {
  DEFAULT_DATA_PATH,
  DEFAULT_VIDEO_PATH,
  DatasetError,
  formatPath,
  type LeRobotInfo,
} from '../../sim/dataset/layout.ts';
import { LeRobotDatasetReader } from '../../sim/dataset/lerobot-reader.ts';
import { LeRobotDatasetWriter } from '../../sim/dataset/lerobot-writer.ts';
import { hasFfmpeg, probeFrameTimestamps } from '../../sim/dataset/video.ts';

const W = 64;
const H = 64;
const FPS = 30;
const N = 30;
const TASKS = ['pick up the red cube', 'place the cube in the bowl'];
const CAMS = ['agentview', 'wrist'] as const;

/** Smooth moving pattern: a gradient drifting with t plus a moving bright square. */
function pattern(cam: number, ep: number, t: number): Uint8Array {
  const f = new Uint8Array(W * H * 3);
  const sx = (8 + 2 * t + 10 * ep) % (W - 12);
  const sy = (20 + cam * 15 + t) % (H - 12);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const inSq = x >= sx && x < sx + 12 && y >= sy && y < sy + 12;
      f[i] = inSq ? 240 : (x * 3 + t * 4 + cam * 40) & 255;
      f[i + 1] = inSq ? 230 : 40 + y * 2 + ep * 30;
      f[i + 2] = inSq ? 20 : 128 + Math.round(60 * Math.sin((x + y + t * 2) / 9));
    }
  }
  return f;
}

function raw(data: Uint8Array, t: number): RawImage {
  return { type: 'raw', encoding: 'rgb8', width: W, height: H, step: W * 3, data, stamp: t / FPS };
}

interface Synthetic {
  state: Float32Array[][];
  action: Float32Array[][];
  frames: Uint8Array[][][]; // [ep][cam][t]
}

function synthetic(episodes: number): Synthetic {
  const rng = new Rng(7);
  const out: Synthetic = { state: [], action: [], frames: [] };
  for (let ep = 0; ep < episodes; ep++) {
    out.state.push(Array.from({ length: N }, (_, t) => Float32Array.from({ length: 8 }, (_, d) => Math.sin(0.1 * t + d) + 0.01 * rng.normal())));
    out.action.push(Array.from({ length: N }, () => Float32Array.from({ length: 7 }, () => rng.normal())));
    out.frames.push(CAMS.map((_, c) => Array.from({ length: N }, (_, t) => pattern(c, ep, t))));
  }
  return out;
}

async function record(root: string, data: Synthetic, opts: { video: boolean; chunksSize?: number; tinyFiles?: boolean }): Promise<LeRobotInfo> {
  const w = await LeRobotDatasetWriter.create({
    root,
    robotType: 'franka_fr3',
    fps: FPS,
    features: {
      'observation.state': { dtype: 'float32', shape: [8], names: ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'gripper'] },
      action: { dtype: 'float32', shape: [7], names: null },
    },
    cameras: { agentview: { height: H, width: W }, wrist: { height: H, width: W } },
    video: opts.video,
    videoCodec: { threads: 1 },
    chunksSize: opts.chunksSize,
    dataFilesSizeInMb: opts.tinyFiles ? 1e-6 : undefined,
    videoFilesSizeInMb: opts.tinyFiles ? 1e-6 : undefined,
  });
  for (let ep = 0; ep < data.state.length; ep++) {
    for (let t = 0; t < N; t++) {
      await w.addFrame({
        values: { 'observation.state': data.state[ep][t], action: data.action[ep][t] },
        images: { agentview: raw(data.frames[ep][0][t], t), wrist: raw(data.frames[ep][1][t], t) },
        task: TASKS[ep % 2],
        timestamp: t / FPS,
      });
    }
    await w.saveEpisode();
  }
  return w.finalize();
}

function mae(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function meanStd(rows: Float32Array[], d: number): { mean: number; std: number; min: number; max: number } {
  const v = rows.map((r) => r[d]);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

const ffmpegOk = await hasFfmpeg();
if (!ffmpegOk) console.warn('tests/dataset: video tests skipped: ffmpeg/ffprobe not found (apt-get install ffmpeg)');

/** ARMATURE_PYTHON points at an interpreter with pyarrow+pandas (and optionally datasets) */
const PYTHON = process.env.ARMATURE_PYTHON ?? 'python3';
let pyarrowOk = false;
try {
  execFileSync(PYTHON, ['-c', 'import pyarrow, pandas'], { stdio: 'ignore' });
  pyarrowOk = true;
} catch {
  console.warn(`tests/dataset: python cross-check skipped: ${PYTHON} cannot import pyarrow+pandas (Debian bookworm has no python3-pyarrow; pip install pyarrow pandas datasets, or set ARMATURE_PYTHON)`);
}
const PY_CHECK = fileURLToPath(new URL('./check_lerobot_layout.py', import.meta.url));

const tmpRoots: string[] = [];
function tmpRoot(name: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `armature-ds-${name}-`));
  tmpRoots.push(d);
  return path.join(d, 'ds');
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!ffmpegOk)('LeRobot v3.0 dataset with videos', () => {
  const data = synthetic(2);
  let root = '';
  let info: LeRobotInfo;
  let reader: LeRobotDatasetReader;

  beforeAll(async () => {
    root = tmpRoot('video');
    info = await record(root, data, { video: true });
    reader = await LeRobotDatasetReader.open(root);
  });

  it('writes info.json in the LeRobot v3.0 layout', () => {
    const disk = JSON.parse(readFileSync(path.join(root, 'meta/info.json'), 'utf8')) as LeRobotInfo;
    expect(disk).toEqual(info);
    expect(disk.codebase_version).toBe('v3.0');
    expect(disk.robot_type).toBe('franka_fr3');
    expect(disk.fps).toBe(30);
    expect(disk.total_episodes).toBe(2);
    expect(disk.total_frames).toBe(60);
    expect(disk.total_tasks).toBe(2);
    expect(disk.chunks_size).toBe(1000);
    expect(disk.splits).toEqual({ train: '0:2' });
    expect(disk.data_path).toBe('data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet');
    expect(disk.video_path).toBe('videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4');
    expect(Object.keys(disk.features)).toEqual([
      'observation.state', 'action', 'observation.images.agentview', 'observation.images.wrist',
      'timestamp', 'frame_index', 'episode_index', 'index', 'task_index',
    ]);
    expect(disk.features['observation.state']).toEqual({ dtype: 'float32', shape: [8], names: ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'gripper'] });
    expect(disk.features.timestamp).toEqual({ dtype: 'float32', shape: [1], names: null });
    expect(disk.features.index).toEqual({ dtype: 'int64', shape: [1], names: null });
    const cam = disk.features['observation.images.wrist'];
    expect(cam.dtype).toBe('video');
    expect(cam.shape).toEqual([64, 64, 3]);
    expect(cam.names).toEqual(['height', 'width', 'channels']);
    expect(cam.info).toMatchObject({ 'video.codec': 'h264', 'video.pix_fmt': 'yuv420p', 'video.fps': 30, 'video.height': 64, 'video.width': 64, is_depth_map: false });
  });

  it('puts files where the templates say', () => {
    expect(existsSync(path.join(root, formatPath(DEFAULT_DATA_PATH, { chunk_index: 0, file_index: 0 })))).toBe(true);
    expect(existsSync(path.join(root, 'data/chunk-000/file-000.parquet'))).toBe(true);
    for (const cam of CAMS) {
      const p = formatPath(DEFAULT_VIDEO_PATH, { video_key: `observation.images.${cam}`, chunk_index: 0, file_index: 0 });
      expect(p).toBe(`videos/observation.images.${cam}/chunk-000/file-000.mp4`);
      expect(existsSync(path.join(root, p))).toBe(true);
    }
    expect(existsSync(path.join(root, 'meta/tasks.parquet'))).toBe(true);
    expect(existsSync(path.join(root, 'meta/episodes/chunk-000/file-000.parquet'))).toBe(true);
    expect(existsSync(path.join(root, 'meta/stats.json'))).toBe(true);
    expect(existsSync(path.join(root, '.armature-tmp'))).toBe(false);
  });

  it('stores both episodes in one data parquet, one row group each, with LeRobot columns', async () => {
    const file = await asyncBufferFromFile(path.join(root, 'data/chunk-000/file-000.parquet'));
    const md = await parquetMetadataAsync(file);
    expect(Number(md.num_rows)).toBe(60);
    expect(md.row_groups.map((g) => Number(g.num_rows))).toEqual([30, 30]);
    const rows = await parquetReadObjects({ file, rowStart: 29, rowEnd: 31 });
    expect(Object.keys(rows[0])).toEqual(['observation.state', 'action', 'timestamp', 'frame_index', 'episode_index', 'index', 'task_index']);
    expect(rows[1]).toMatchObject({ frame_index: 0n, episode_index: 1n, index: 30n, task_index: 1n, timestamp: 0 });
    expect(rows[0].timestamp).toBeCloseTo(29 / 30, 6);
  });

  it('writes tasks.parquet with the pandas index LeRobot loads, and episode metadata', async () => {
    const tfile = await asyncBufferFromFile(path.join(root, 'meta/tasks.parquet'));
    const tmd = await parquetMetadataAsync(tfile);
    const pandas = JSON.parse(tmd.key_value_metadata?.find((k) => k.key === 'pandas')?.value ?? '{}') as { index_columns: string[] };
    expect(pandas.index_columns).toEqual(['task']);
    expect(await parquetReadObjects({ file: tfile })).toEqual([
      { task_index: 0n, task: TASKS[0] },
      { task_index: 1n, task: TASKS[1] },
    ]);
    expect(reader.tasks).toEqual(TASKS);
    const efile = await asyncBufferFromFile(path.join(root, 'meta/episodes/chunk-000/file-000.parquet'));
    const eps = await parquetReadObjects({ file: efile });
    expect(eps[1]).toMatchObject({
      episode_index: 1n, tasks: [TASKS[1]], length: 30n, 'data/chunk_index': 0n, 'data/file_index': 0n,
      dataset_from_index: 30n, dataset_to_index: 60n,
      'videos/observation.images.agentview/chunk_index': 0n, 'videos/observation.images.agentview/file_index': 0n,
      'meta/episodes/chunk_index': 0n, 'meta/episodes/file_index': 0n,
    });
    expect(eps[1]['videos/observation.images.agentview/from_timestamp']).toBeCloseTo(1, 6);
    expect(eps[1]['videos/observation.images.agentview/to_timestamp']).toBeCloseTo(2, 6);
    expect((eps[0]['stats/observation.state/mean'] as number[]).length).toBe(8);
    expect(eps[0]['stats/observation.images.wrist/mean']).toHaveLength(3);
    expect((eps[0]['stats/observation.images.wrist/mean'] as number[][][])[0][0]).toHaveLength(1);
    expect(eps[0]['stats/action/count']).toEqual([30n]);
  });

  it('puts every video frame at from_timestamp + i/fps within LeRobot tolerance (1e-4 s)', async () => {
    for (const cam of CAMS) {
      const key = `observation.images.${cam}`;
      const ts = await probeFrameTimestamps(reader.videoFilePath(0, key));
      expect(ts.length).toBe(60);
      for (const ep of reader.episodes) {
        const v = ep.videos[key];
        for (let i = 0; i < ep.length; i++) {
          const want = v.fromTimestamp + i / FPS;
          const nearest = ts.reduce((best, t) => (Math.abs(t - want) < Math.abs(best - want) ? t : best), Infinity);
          expect(Math.abs(nearest - want)).toBeLessThanOrEqual(1e-4);
        }
      }
    }
  });

  it('reads back identical low-dimensional data and tasks', async () => {
    for (let ep = 0; ep < 2; ep++) {
      const d = await reader.readEpisode(ep, { images: false });
      expect(d.length).toBe(N);
      const state = d.values['observation.state'];
      const action = d.values.action;
      expect(state).toBeInstanceOf(Float32Array);
      for (let t = 0; t < N; t++) {
        expect(Array.from(state.subarray(t * 8, t * 8 + 8))).toEqual(Array.from(data.state[ep][t]));
        expect(Array.from(action.subarray(t * 7, t * 7 + 7))).toEqual(Array.from(data.action[ep][t]));
      }
      expect(Array.from(d.frameIndex)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(Array.from(d.index)).toEqual(Array.from({ length: N }, (_, i) => ep * N + i));
      expect(d.timestamp[N - 1]).toBeCloseTo((N - 1) / FPS, 6);
      expect(new Set(d.tasks)).toEqual(new Set([TASKS[ep]]));
      expect(Array.from(new Set(d.taskIndex))).toEqual([ep]);
    }
  });

  it('decodes camera frames close to the originals, in the right order', async () => {
    for (let ep = 0; ep < 2; ep++) {
      const d = await reader.readEpisode(ep);
      for (let c = 0; c < CAMS.length; c++) {
        const frames = d.images[`observation.images.${CAMS[c]}`];
        expect(frames).toHaveLength(N);
        let total = 0;
        for (let t = 0; t < N; t++) {
          const e = mae(frames[t], data.frames[ep][c][t]);
          total += e;
          expect(e).toBeLessThan(8);
          // the neighbour frame must match worse: catches off-by-one lookups
          if (t + 1 < N) expect(mae(frames[t], data.frames[ep][c][t + 1])).toBeGreaterThan(e);
        }
        expect(total / N).toBeLessThan(5);
      }
    }
  });

  it('iterates frames as RawImage steps', async () => {
    const steps = [];
    for await (const s of reader.frames(1)) steps.push(s);
    expect(steps).toHaveLength(N);
    expect(steps[5].task).toBe(TASKS[1]);
    expect(steps[5].index).toBe(35);
    expect(steps[5].images['observation.images.agentview']).toMatchObject({ encoding: 'rgb8', width: 64, height: 64, step: 192 });
    expect(Array.from(steps[5].values.action)).toEqual(Array.from(data.action[1][5]));
  });

  it('writes stats.json matching directly computed mean/std/min/max', () => {
    const stats = JSON.parse(readFileSync(path.join(root, 'meta/stats.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const allState = [...data.state[0], ...data.state[1]];
    const s = stats['observation.state'] as Record<string, number[]>;
    expect(Object.keys(s)).toEqual(['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99']);
    expect(s.count).toEqual([60]);
    for (let d = 0; d < 8; d++) {
      const want = meanStd(allState, d);
      expect(s.mean[d]).toBeCloseTo(want.mean, 9);
      expect(s.std[d]).toBeCloseTo(want.std, 9);
      expect(s.min[d]).toBe(want.min);
      expect(s.max[d]).toBe(want.max);
      expect(s.q01[d]).toBeLessThanOrEqual(s.q50[d]);
      expect(s.q50[d]).toBeLessThanOrEqual(s.q99[d]);
    }
    const ts = stats.timestamp as Record<string, number[]>;
    expect(ts.mean[0]).toBeCloseTo(14.5 / 30, 6);
    expect((stats.index as Record<string, number[]>).max).toEqual([59]);
    // images: per channel in [0, 1], shape (3, 1, 1), from the original frames
    const img = stats['observation.images.wrist'] as Record<string, number[][][]>;
    expect(img.mean).toHaveLength(3);
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      let sq = 0;
      let n = 0;
      for (const ep of data.frames) for (const f of ep[1]) for (let i = ch; i < f.length; i += 3) { sum += f[i]; sq += f[i] * f[i]; n++; }
      const mean = sum / n;
      expect(img.mean[ch][0][0]).toBeCloseTo(mean / 255, 9);
      expect(img.std[ch][0][0]).toBeCloseTo(Math.sqrt(sq / n - mean * mean) / 255, 6);
    }
    expect(img.count).toEqual([60]);
  });

  it.skipIf(!pyarrowOk)('is readable by pyarrow/pandas/datasets the way LeRobot loads it', () => {
    const out = execFileSync(PYTHON, [PY_CHECK, root, ...TASKS], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^ok/);
  });
});

describe('LeRobot v3.0 dataset with PNG images in the parquet', () => {
  it('round-trips frames exactly as HF Image structs {bytes, path}', async () => {
    const data = synthetic(2);
    const root = tmpRoot('png');
    const info = await record(root, data, { video: false });
    expect(info.video_path).toBeNull();
    expect(info.features['observation.images.agentview'].dtype).toBe('image');
    expect(existsSync(path.join(root, 'videos'))).toBe(false);
    const file = await asyncBufferFromFile(path.join(root, 'data/chunk-000/file-000.parquet'));
    const rows = await parquetReadObjects({ file, rowStart: 0, rowEnd: 1, columns: ['observation.images.wrist'], utf8: false });
    const cell = rows[0]['observation.images.wrist'] as { bytes: Uint8Array; path: string };
    expect(cell.path).toBe('frame-000000.png');
    expect(Array.from(cell.bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // 'PNG'
    expect(cell.bytes[25]).toBe(2); // colour type RGB, as PIL writes
    const reader = await LeRobotDatasetReader.open(root);
    const d = await reader.readEpisode(1);
    for (let t = 0; t < N; t++) expect(mae(d.images['observation.images.agentview'][t], data.frames[1][0][t])).toBe(0);
    expect(Array.from(d.values.action.subarray(0, 7))).toEqual(Array.from(data.action[1][0]));
    if (pyarrowOk) expect(execFileSync(PYTHON, [PY_CHECK, root, ...TASKS], { encoding: 'utf8' }).trim()).toMatch(/^ok/);
  });
});

describe.skipIf(!ffmpegOk)('file rotation across chunks', () => {
  it('starts new data and video files when full, and the reader follows the indices', async () => {
    const data = synthetic(3);
    const root = tmpRoot('rotate');
    await record(root, data, { video: true, chunksSize: 2, tinyFiles: true });
    for (const rel of ['data/chunk-000/file-000.parquet', 'data/chunk-000/file-001.parquet', 'data/chunk-001/file-000.parquet',
      'videos/observation.images.wrist/chunk-000/file-001.mp4', 'videos/observation.images.wrist/chunk-001/file-000.mp4']) {
      expect(existsSync(path.join(root, rel)), rel).toBe(true);
    }
    const reader = await LeRobotDatasetReader.open(root);
    expect(reader.episodes.map((e) => [e.dataChunkIndex, e.dataFileIndex])).toEqual([[0, 0], [0, 1], [1, 0]]);
    expect(reader.episodes[2].videos['observation.images.wrist']).toMatchObject({ chunkIndex: 1, fileIndex: 0, fromTimestamp: 0 });
    const d = await reader.readEpisode(2);
    expect(Array.from(d.values['observation.state'].subarray(8, 16))).toEqual(Array.from(data.state[2][1]));
    expect(mae(d.images['observation.images.wrist'][10], data.frames[2][1][10])).toBeLessThan(8);
  });
});

describe('layout validation errors', () => {
  it('names a missing meta/info.json', async () => {
    const root = tmpRoot('empty');
    await expect(LeRobotDatasetReader.open(root)).rejects.toThrow(/no meta\/info\.json .*not a LeRobot dataset root/);
  });

  it('rejects another codebase_version with the conversion command', async () => {
    const data = synthetic(1);
    const root = tmpRoot('v21');
    await record(root, data, { video: false });
    const p = path.join(root, 'meta/info.json');
    const info = JSON.parse(readFileSync(p, 'utf8')) as LeRobotInfo;
    writeFileSync(p, JSON.stringify({ ...info, codebase_version: 'v2.1' }));
    const err = await LeRobotDatasetReader.open(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/codebase_version "v2\.1".*v3\.0.*convert_dataset_v21_to_v30/);
  });

  it('names parquet columns that info.json declares but the data lacks', async () => {
    const data = synthetic(1);
    const root = tmpRoot('cols');
    await record(root, data, { video: false });
    const p = path.join(root, 'meta/info.json');
    const info = JSON.parse(readFileSync(p, 'utf8')) as LeRobotInfo;
    info.features['observation.velocity'] = { dtype: 'float32', shape: [7], names: null };
    writeFileSync(p, JSON.stringify(info));
    const reader = await LeRobotDatasetReader.open(root);
    await expect(reader.readEpisode(0)).rejects.toThrow(/lacks columns observation\.velocity/);
  });

  it('rejects frames that do not match the declared features', async () => {
    const w = await LeRobotDatasetWriter.create({
      root: tmpRoot('bad'),
      robotType: 'test',
      fps: 10,
      features: { 'observation.state': { dtype: 'float32', shape: [2] } },
      cameras: { cam: { height: 4, width: 4 } },
      video: false,
    });
    const img = (w2: number): RawImage => ({ type: 'raw', encoding: 'rgb8', width: w2, height: 4, step: w2 * 3, data: new Uint8Array(w2 * 12), stamp: 0 });
    await expect(w.addFrame({ values: { 'observation.state': [1, 2, 3] }, images: { cam: img(4) }, task: 'a' })).rejects.toThrow(/has 3 values, expected 2/);
    await expect(w.addFrame({ values: { 'observation.state': [1, 2] }, images: { cam: img(6) }, task: 'a' })).rejects.toThrow(/6x4.*declares 4x4/);
    await expect(w.addFrame({ values: { 'observation.state': [1, 2] }, task: 'a' })).rejects.toThrow(/camera 'cam' image is missing/);
    await expect(w.addFrame({ values: { 'observation.state': [1, 2] }, images: { cam: img(4) }, task: 'a', timestamp: 0.05 })).rejects.toThrow(/constant 10 Hz/);
    await expect(w.saveEpisode()).rejects.toThrow(/no frames/);
    await w.addFrame({ values: { 'observation.state': [1, 2] }, images: { cam: img(4) }, task: 'a' });
    expect(w.pendingFrames).toBe(1);
    await expect(w.finalize()).rejects.toThrow(/saveEpisode\(\) or discardEpisode\(\)/);
    await w.discardEpisode();
    const info = await w.finalize();
    expect(info.total_episodes).toBe(0);
    await expect(w.addFrame({ values: { 'observation.state': [1, 2] }, images: { cam: img(4) }, task: 'a' })).rejects.toThrow(/finalized/);
  });

  it('refuses to write over a non-empty folder without overwrite', async () => {
    const root = tmpRoot('exists');
    await record(root, synthetic(1), { video: false });
    await expect(record(root, synthetic(1), { video: false })).rejects.toThrow(/exists and is not empty/);
  });
});
