/**
 * Read a LeRobot v3.0 dataset: meta/info.json, tasks, episodes, stats, the
 * data parquet rows of an episode, and its camera frames (decoded from mp4
 * with ffmpeg on demand, or from PNG bytes in the parquet).
 */
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema as readSchema } from 'hyparquet';
import { PNG } from 'pngjs';
import type { RawImage } from '../../src/observation/types.ts';
import {
  CODEBASE_VERSION,
  DEFAULT_FEATURES,
  EPISODES_DIR,
  DatasetError,
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  featureSize,
  formatPath,
  type EpisodeMeta,
  type EpisodeVideoMeta,
  type FeatureSpec,
  type LeRobotInfo,
} from './layout.ts';
import type { StatsJson } from './stats.ts';
import { decodeVideo } from './video.ts';

/** All rows of one episode, column-wise. */
export interface EpisodeData {
  readonly episodeIndex: number;
  readonly length: number;
  /** low-dimensional feature -> length*dim values, row-major (Float64Array for float64/int64) */
  readonly values: Readonly<Record<string, Float32Array | Float64Array>>;
  /** s since the episode start */
  readonly timestamp: Float32Array;
  readonly frameIndex: Int32Array;
  /** global frame index */
  readonly index: Float64Array;
  readonly taskIndex: Int32Array;
  /** instruction of each frame */
  readonly tasks: readonly string[];
  /** camera feature key -> rgb24 frames (empty when images were not requested) */
  readonly images: Readonly<Record<string, Uint8Array[]>>;
}

/** One step of an episode, as iterated by `frames()`. */
export interface RecordedFrame {
  readonly episodeIndex: number;
  readonly frameIndex: number;
  readonly index: number;
  /** s since the episode start */
  readonly timestamp: number;
  readonly task: string;
  readonly values: Readonly<Record<string, Float32Array | Float64Array>>;
  /** camera feature key (observation.images.<cam>) -> rgb8 frame */
  readonly images: Readonly<Record<string, RawImage>>;
}

type Row = Record<string, unknown>;

/** dtypes read as numbers (others, e.g. LeRobot's 'string' language columns, are skipped) */
const NUMERIC_DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

function num(v: unknown, what: string): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new DatasetError(`${what} is ${String(v)}, expected a number`);
}

function validateInfo(raw: unknown, file: string): LeRobotInfo {
  if (typeof raw !== 'object' || raw === null) throw new DatasetError(`${file} is not a JSON object: rewrite it with LeRobotDatasetWriter or LeRobot`);
  const info = raw as Partial<LeRobotInfo>;
  if (info.codebase_version !== CODEBASE_VERSION) {
    throw new DatasetError(
      `${file} has codebase_version ${JSON.stringify(info.codebase_version)}, but this reader reads ${CODEBASE_VERSION}: convert older datasets with 'python -m lerobot.scripts.convert_dataset_v21_to_v30 --repo-id=<id>'`,
    );
  }
  const need: Array<keyof LeRobotInfo> = ['fps', 'features', 'total_episodes', 'total_frames', 'total_tasks', 'chunks_size', 'data_path'];
  const missing = need.filter((k) => info[k] === undefined);
  if (missing.length > 0) throw new DatasetError(`${file} lacks ${missing.join(', ')}: it is not a complete LeRobot v3.0 info.json`);
  for (const [key, spec] of Object.entries(info.features as Record<string, FeatureSpec>)) {
    if (!spec || typeof spec.dtype !== 'string' || !Array.isArray(spec.shape)) {
      throw new DatasetError(`${file}: feature '${key}' needs dtype and shape`);
    }
  }
  if (Object.values(info.features as Record<string, FeatureSpec>).some((f) => f.dtype === 'video') && !info.video_path) {
    throw new DatasetError(`${file} declares video features but no video_path template`);
  }
  return { video_path: null, robot_type: null, splits: {}, data_files_size_in_mb: 100, video_files_size_in_mb: 200, ...info } as LeRobotInfo;
}

function parquetFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const chunk of readdirSync(dir).sort()) {
    const cdir = path.join(dir, chunk);
    if (!existsSync(cdir)) continue;
    try {
      for (const f of readdirSync(cdir).sort()) if (f.endsWith('.parquet')) out.push(path.join(cdir, f));
    } catch {
      // not a folder
    }
  }
  return out;
}

async function readRows(file: string, opts: { columns?: string[]; rowStart?: number; rowEnd?: number } = {}): Promise<Row[]> {
  const buf = await asyncBufferFromFile(file);
  return (await parquetReadObjects({ file: buf, utf8: false, ...opts })) as Row[];
}

async function columnNames(file: string): Promise<string[]> {
  const buf = await asyncBufferFromFile(file);
  let md;
  try {
    md = await parquetMetadataAsync(buf);
  } catch (cause) {
    throw new DatasetError(`${file} is not a readable parquet file (unfinished footer? was finalize() called?)`, { cause });
  }
  return readSchema(md).children.map((c) => c.element.name);
}

export class LeRobotDatasetReader {
  private constructor(
    readonly root: string,
    readonly info: LeRobotInfo,
    /** task_index -> instruction */
    readonly tasks: readonly string[],
    readonly episodes: readonly EpisodeMeta[],
    readonly stats: StatsJson | null,
    private readonly ffmpegPath: string | undefined,
  ) {}

  /** Open and validate a dataset root. */
  static async open(root: string, opts: { ffmpegPath?: string } = {}): Promise<LeRobotDatasetReader> {
    const infoFile = path.join(root, INFO_PATH);
    if (!existsSync(infoFile)) {
      throw new DatasetError(`no ${INFO_PATH} under ${root}: not a LeRobot dataset root; point at the folder that holds meta/, data/ and videos/`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(await fs.readFile(infoFile, 'utf8'));
    } catch (cause) {
      throw new DatasetError(`${infoFile} is not valid JSON: rewrite it`, { cause });
    }
    const info = validateInfo(raw, infoFile);

    let tasks: string[] = [];
    if (info.total_tasks > 0) {
      const tfile = path.join(root, TASKS_PATH);
      if (!existsSync(tfile)) throw new DatasetError(`${tfile} is missing but info.json counts ${info.total_tasks} tasks`);
      const names = await columnNames(tfile);
      const taskCol = names.includes('task') ? 'task' : names.includes('__index_level_0__') ? '__index_level_0__' : null;
      if (!taskCol || !names.includes('task_index')) {
        throw new DatasetError(`${tfile} needs columns 'task' (the pandas index) and 'task_index', has ${names.join(', ')}`);
      }
      const rows = await readRows(tfile);
      tasks = new Array<string>(rows.length);
      for (const r of rows) tasks[num(r.task_index, `${tfile} task_index`)] = String(r[taskCol]);
    }

    const episodes: EpisodeMeta[] = [];
    if (info.total_episodes > 0) {
      const files = parquetFilesUnder(path.join(root, EPISODES_DIR));
      if (files.length === 0) throw new DatasetError(`no episode metadata under ${path.join(root, EPISODES_DIR)} (chunk-XXX/file-XXX.parquet)`);
      const videoKeys = Object.entries(info.features).filter(([, f]) => f.dtype === 'video').map(([k]) => k);
      const need = ['episode_index', 'tasks', 'length', 'data/chunk_index', 'data/file_index', 'dataset_from_index', 'dataset_to_index'];
      for (const k of videoKeys) need.push(...['chunk_index', 'file_index', 'from_timestamp', 'to_timestamp'].map((s) => `videos/${k}/${s}`));
      for (const file of files) {
        const names = await columnNames(file);
        const missing = need.filter((c) => !names.includes(c));
        if (missing.length > 0) throw new DatasetError(`${file} lacks episode columns ${missing.join(', ')}`);
        for (const r of await readRows(file, { columns: need })) {
          const videos: Record<string, EpisodeVideoMeta> = {};
          for (const k of videoKeys) {
            videos[k] = {
              chunkIndex: num(r[`videos/${k}/chunk_index`], `${file} videos/${k}/chunk_index`),
              fileIndex: num(r[`videos/${k}/file_index`], `${file} videos/${k}/file_index`),
              fromTimestamp: num(r[`videos/${k}/from_timestamp`], `${file} from_timestamp`),
              toTimestamp: num(r[`videos/${k}/to_timestamp`], `${file} to_timestamp`),
            };
          }
          episodes.push({
            episodeIndex: num(r.episode_index, `${file} episode_index`),
            tasks: (r.tasks as unknown[]).map(String),
            length: num(r.length, `${file} length`),
            dataChunkIndex: num(r['data/chunk_index'], `${file} data/chunk_index`),
            dataFileIndex: num(r['data/file_index'], `${file} data/file_index`),
            datasetFromIndex: num(r.dataset_from_index, `${file} dataset_from_index`),
            datasetToIndex: num(r.dataset_to_index, `${file} dataset_to_index`),
            videos,
          });
        }
      }
      episodes.sort((a, b) => a.episodeIndex - b.episodeIndex);
      if (episodes.length !== info.total_episodes) {
        throw new DatasetError(`${root}: info.json counts ${info.total_episodes} episodes but meta/episodes holds ${episodes.length}`);
      }
    }

    const statsFile = path.join(root, STATS_PATH);
    const stats = existsSync(statsFile) ? (JSON.parse(await fs.readFile(statsFile, 'utf8')) as StatsJson) : null;
    return new LeRobotDatasetReader(root, info, tasks, episodes, stats, opts.ffmpegPath);
  }

  get fps(): number {
    return this.info.fps;
  }

  /** feature keys stored as mp4 */
  get videoKeys(): string[] {
    return Object.entries(this.info.features).filter(([, f]) => f.dtype === 'video').map(([k]) => k);
  }

  /** feature keys stored as PNG bytes in the parquet */
  get imageKeys(): string[] {
    return Object.entries(this.info.features).filter(([, f]) => f.dtype === 'image').map(([k]) => k);
  }

  /** low-dimensional features other than LeRobot's bookkeeping columns */
  get lowDimKeys(): string[] {
    return Object.entries(this.info.features)
      .filter(([k, f]) => NUMERIC_DTYPES.has(f.dtype) && !(k in DEFAULT_FEATURES))
      .map(([k]) => k);
  }

  episode(episodeIndex: number): EpisodeMeta {
    const ep = this.episodes[episodeIndex];
    if (!ep || ep.episodeIndex !== episodeIndex) {
      throw new DatasetError(`episode ${episodeIndex} is not in ${this.root} (it has ${this.episodes.length} episodes, 0..${this.episodes.length - 1})`);
    }
    return ep;
  }

  /** Absolute path of the parquet holding an episode's rows. */
  dataFilePath(episodeIndex: number): string {
    const ep = this.episode(episodeIndex);
    return path.join(this.root, formatPath(this.info.data_path, { chunk_index: ep.dataChunkIndex, file_index: ep.dataFileIndex }));
  }

  /** Absolute path of the mp4 holding an episode's frames of one camera. */
  videoFilePath(episodeIndex: number, videoKey: string): string {
    const v = this.episode(episodeIndex).videos[videoKey];
    if (!v || !this.info.video_path) throw new DatasetError(`'${videoKey}' is not a video feature of ${this.root} (video features: ${this.videoKeys.join(', ') || 'none'})`);
    return path.join(this.root, formatPath(this.info.video_path, { video_key: videoKey, chunk_index: v.chunkIndex, file_index: v.fileIndex }));
  }

  /** Read an episode's rows, and by default decode its camera frames. */
  async readEpisode(episodeIndex: number, opts: { images?: boolean } = {}): Promise<EpisodeData> {
    const ep = this.episode(episodeIndex);
    const file = this.dataFilePath(episodeIndex);
    if (!existsSync(file)) throw new DatasetError(`${file} is missing: episode ${episodeIndex} points at it`);
    const names = await columnNames(file);
    const wantImages = opts.images ?? true;
    const needed = [...this.lowDimKeys, ...Object.keys(DEFAULT_FEATURES), ...this.imageKeys];
    const missing = needed.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      throw new DatasetError(`${file} lacks columns ${missing.join(', ')} declared in meta/info.json features: the data file and info.json disagree`);
    }
    // episodes sharing a file are stored back to back; the file starts at its first episode's global index
    const fileStart = Math.min(
      ...this.episodes.filter((e) => e.dataChunkIndex === ep.dataChunkIndex && e.dataFileIndex === ep.dataFileIndex).map((e) => e.datasetFromIndex),
    );
    const columns = [...this.lowDimKeys, ...Object.keys(DEFAULT_FEATURES), ...(wantImages ? this.imageKeys : [])];
    const rows = await readRows(file, { columns, rowStart: ep.datasetFromIndex - fileStart, rowEnd: ep.datasetToIndex - fileStart });
    const n = ep.length;
    if (rows.length !== n) throw new DatasetError(`${file}: episode ${episodeIndex} should have ${n} rows, read ${rows.length}`);

    const values: Record<string, Float32Array | Float64Array> = {};
    for (const key of this.lowDimKeys) {
      const spec = this.info.features[key];
      const dim = featureSize(spec);
      const out = spec.dtype === 'float32' ? new Float32Array(n * dim) : new Float64Array(n * dim);
      rows.forEach((r, i) => {
        const v = r[key];
        if (Array.isArray(v)) {
          if (v.length !== dim) throw new DatasetError(`${file}: '${key}' row ${i} has ${v.length} values, info.json says ${dim}`);
          for (let d = 0; d < dim; d++) out[i * dim + d] = num(v[d], key);
        } else out[i * dim] = num(v, key);
      });
      values[key] = out;
    }
    const timestamp = Float32Array.from(rows, (r) => num(r.timestamp, 'timestamp'));
    const frameIndex = Int32Array.from(rows, (r) => num(r.frame_index, 'frame_index'));
    const index = Float64Array.from(rows, (r) => num(r.index, 'index'));
    const taskIndex = Int32Array.from(rows, (r) => num(r.task_index, 'task_index'));
    rows.forEach((r, i) => {
      if (num(r.episode_index, 'episode_index') !== episodeIndex) {
        throw new DatasetError(`${file}: row ${i} of episode ${episodeIndex} has episode_index ${String(r.episode_index)}: episode metadata and data disagree`);
      }
    });
    const tasks = Array.from(taskIndex, (t) => {
      const s = this.tasks[t];
      if (s === undefined) throw new DatasetError(`${file}: task_index ${t} is not in ${TASKS_PATH}`);
      return s;
    });

    const images: Record<string, Uint8Array[]> = {};
    if (wantImages) {
      for (const key of this.imageKeys) images[key] = rows.map((r, i) => decodePngCell(r[key], `${file} ${key} row ${i}`));
      for (const key of this.videoKeys) images[key] = await this.decodeEpisodeVideo(ep, key);
    }
    return { episodeIndex, length: n, values, timestamp, frameIndex, index, taskIndex, tasks, images };
  }

  /** Decode one camera's frames of an episode from its mp4. */
  async decodeEpisodeVideo(ep: EpisodeMeta, videoKey: string): Promise<Uint8Array[]> {
    const file = this.videoFilePath(ep.episodeIndex, videoKey);
    const v = ep.videos[videoKey];
    // start half a frame early so float rounding cannot skip the first frame
    const decoded = await decodeVideo(file, { startS: Math.max(0, v.fromTimestamp - 0.5 / this.fps), maxFrames: ep.length, ffmpegPath: this.ffmpegPath });
    if (decoded.frames.length !== ep.length) {
      throw new DatasetError(`${file}: episode ${ep.episodeIndex} needs ${ep.length} frames from ${v.fromTimestamp} s, decoded ${decoded.frames.length}`);
    }
    return decoded.frames;
  }

  /** Iterate an episode step by step. */
  async *frames(episodeIndex: number, opts: { images?: boolean } = {}): AsyncGenerator<RecordedFrame> {
    const d = await this.readEpisode(episodeIndex, opts);
    for (let i = 0; i < d.length; i++) {
      const values: Record<string, Float32Array | Float64Array> = {};
      for (const [k, arr] of Object.entries(d.values)) {
        const dim = featureSize(this.info.features[k]);
        values[k] = arr.subarray(i * dim, (i + 1) * dim);
      }
      const images: Record<string, RawImage> = {};
      for (const [k, frames] of Object.entries(d.images)) {
        const [height, width] = this.info.features[k].shape;
        images[k] = { type: 'raw', encoding: 'rgb8', width, height, step: width * 3, data: frames[i], stamp: d.timestamp[i] };
      }
      yield {
        episodeIndex,
        frameIndex: d.frameIndex[i],
        index: d.index[i],
        timestamp: d.timestamp[i],
        task: d.tasks[i],
        values,
        images,
      };
    }
  }
}

function decodePngCell(cell: unknown, what: string): Uint8Array {
  const bytes = (cell as { bytes?: unknown } | null)?.bytes;
  if (!(bytes instanceof Uint8Array)) throw new DatasetError(`${what}: expected an image struct {bytes, path} with PNG bytes`);
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    out[o] = png.data[i];
    out[o + 1] = png.data[i + 1];
    out[o + 2] = png.data[i + 2];
  }
  return out;
}
