/**
 * Record demonstrations and policy rollouts as a LeRobot v3.0 dataset:
 * many episodes per data parquet (one row group per episode), one mp4 per
 * camera per file (episodes concatenated, located by from/to timestamps),
 * meta/episodes parquet, meta/tasks.parquet, meta/info.json, meta/stats.json.
 * Mirrors lerobot/datasets/dataset_writer.py and dataset_metadata.py.
 */
import { existsSync, mkdirSync, promises as fs, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { ParquetWriter, fileWriter, parquetWriteFile } from 'hyparquet-writer';
import type { RawImage } from '../../src/observation/types.ts';
import { validateRawImage } from '../../src/observation/image.ts';
import {
  CODEBASE_VERSION,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DATA_FILE_SIZE_IN_MB,
  DEFAULT_DATA_PATH,
  DEFAULT_EPISODES_PATH,
  DEFAULT_FEATURES,
  DEFAULT_TOLERANCE_S,
  DEFAULT_VIDEO_FILE_SIZE_IN_MB,
  DEFAULT_VIDEO_PATH,
  DatasetError,
  IMAGE_PREFIX,
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  featureSize,
  formatPath,
  nextChunkFile,
  type EpisodeMeta,
  type FeatureSpec,
  type LeRobotInfo,
  type NumericDtype,
} from './layout.ts';
import { columnValues, pandasIndexMetadata, parquetSchema, type ColumnDef, type LeafType } from './parquet.ts';
import { ImageStatsAccumulator, QUANTILE_KEYS, aggregateStats, statsToJson, vectorStats, type FeatureStats } from './stats.ts';
import { VideoEncoder, concatVideos, probeVideo, resolveCodecOptions, type VideoCodecOptions } from './video.ts';

/** A low-dimensional feature such as observation.state or action. */
export interface LowDimFeatureSpec {
  readonly dtype: NumericDtype;
  /** one dimension, e.g. [8]; [1] is stored as a scalar column as LeRobot does */
  readonly shape: readonly number[];
  /** per-dimension names, e.g. joint names */
  readonly names?: readonly string[] | null;
}

/** Camera size, pixels. */
export interface CameraSpec {
  readonly height: number;
  readonly width: number;
}

export interface CreateDatasetOptions {
  /** dataset root folder (must not exist or be empty, unless overwrite) */
  readonly root: string;
  /** e.g. 'franka_fr3', stored as info.robot_type */
  readonly robotType: string;
  /** recording rate, frames/s (integer, as LeRobot requires) */
  readonly fps: number;
  /** low-dimensional features, e.g. {'observation.state': {dtype: 'float32', shape: [8], names}} */
  readonly features: Readonly<Record<string, LowDimFeatureSpec>>;
  /** camera name -> size; stored as feature `observation.images.<name>` */
  readonly cameras?: Readonly<Record<string, CameraSpec>>;
  /** true: mp4 per camera (dtype 'video'); false: PNG bytes inside the parquet (dtype 'image') */
  readonly video: boolean;
  readonly videoCodec?: VideoCodecOptions;
  /** max files per chunk folder (LeRobot default 1000) */
  readonly chunksSize?: number;
  /** start a new data parquet once the current one reaches this size, MB */
  readonly dataFilesSizeInMb?: number;
  /** start a new mp4 once the current one would reach this size, MB */
  readonly videoFilesSizeInMb?: number;
  /** replace an existing dataset at root (only a folder holding meta/info.json is removed) */
  readonly overwrite?: boolean;
  readonly ffmpegPath?: string;
}

/** One recorded step. */
export interface DatasetFrame {
  /** low-dimensional feature name -> values (length = product of its shape), e.g. rad for joints */
  readonly values: Readonly<Record<string, ArrayLike<number>>>;
  /** camera name (as in `cameras`) -> frame; rgb8, bgr8, rgba8 or bgra8 */
  readonly images?: Readonly<Record<string, RawImage>>;
  /** language instruction of this step */
  readonly task: string;
  /**
   * time since the episode start, s. LeRobot requires frame_index / fps
   * (videos are looked up by it); omit it to use that, or pass it to have it checked.
   */
  readonly timestamp?: number;
}

export interface SavedEpisode {
  readonly episodeIndex: number;
  readonly length: number;
}

interface CameraState {
  readonly name: string;
  /** feature key, observation.images.<name> */
  readonly key: string;
  readonly width: number;
  readonly height: number;
  encoder: VideoEncoder | null;
  pngs: Array<{ bytes: Uint8Array; path: string }>;
  stats: ImageStatsAccumulator;
  chunk: number;
  file: number;
  /** an mp4 exists at (chunk, file) */
  hasFile: boolean;
  /** end of the last episode in the current mp4, s */
  endS: number;
}

interface LowDimState {
  readonly key: string;
  readonly spec: LowDimFeatureSpec;
  readonly size: number;
  values: number[];
}

const MB = 1024 * 1024;

function parquetLeaf(dtype: NumericDtype): LeafType {
  return dtype === 'float32' ? 'FLOAT' : dtype === 'float64' ? 'DOUBLE' : 'INT64';
}

/** Convert a raw frame to tightly packed rgb24. */
export function toRgb24(img: RawImage, expect: CameraSpec, camera: string): Uint8Array {
  const bpp = validateRawImage(img);
  if (img.width !== expect.width || img.height !== expect.height) {
    throw new DatasetError(
      `camera '${camera}' frame is ${img.width}x${img.height}, but the dataset declares ${expect.width}x${expect.height}: resize the frame or declare the camera's real size`,
    );
  }
  const enc = img.encoding;
  if (enc !== 'rgb8' && enc !== 'bgr8' && enc !== 'rgba8' && enc !== 'bgra8') {
    throw new DatasetError(`camera '${camera}' frame encoding '${enc}' cannot be recorded: convert it to rgb8`);
  }
  const swap = enc === 'bgr8' || enc === 'bgra8';
  const out = new Uint8Array(img.width * img.height * 3);
  const d = img.data;
  for (let y = 0; y < img.height; y++) {
    let s = y * img.step;
    let o = y * img.width * 3;
    if (bpp === 3 && !swap) {
      out.set(d.subarray(s, s + img.width * 3), o);
      continue;
    }
    for (let x = 0; x < img.width; x++, s += bpp, o += 3) {
      out[o] = d[s + (swap ? 2 : 0)];
      out[o + 1] = d[s + 1];
      out[o + 2] = d[s + (swap ? 0 : 2)];
    }
  }
  return out;
}

/** RGB (colour type 2) PNG, as PIL writes for LeRobot image features. */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  // PNG.sync.write reads only width, height and data. A `new PNG()` per frame (pngjs 7) stayed
  // reachable after a full GC, ~98 KB each: a long --png recording grew by an episode's frames
  // per episode; with the plain object 8,000 encodes stay flat.
  const image: Pick<PNG, 'width' | 'height' | 'data'> = { width, height, data: Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength) };
  return new Uint8Array(PNG.sync.write(image as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 6 }));
}

function checkName(key: string): void {
  if (key.length === 0 || key.includes('/')) {
    throw new DatasetError(`feature name '${key}' is invalid: use a non-empty name without '/', e.g. 'observation.state'`);
  }
}

export class LeRobotDatasetWriter {
  readonly root: string;
  readonly fps: number;
  readonly info: LeRobotInfo;
  private readonly lowDim: LowDimState[];
  private readonly cameras: CameraState[];
  private readonly video: boolean;
  private readonly codec: VideoCodecOptions;
  private readonly ffmpegPath: string | undefined;
  private readonly tmpDir: string;

  private readonly tasks = new Map<string, number>();
  private readonly episodes: EpisodeMeta[] = [];
  private readonly episodeStats: Array<Record<string, FeatureStats>> = [];
  private frameTasks: string[] = [];
  private timestamps: number[] = [];
  private totalFrames = 0;

  private dataWriter: ParquetWriter | null = null;
  private dataWriterOut: { offset: number } | null = null;
  private dataChunk = 0;
  private dataFile = 0;
  private finalized = false;
  private busy = false;

  private constructor(opts: CreateDatasetOptions, info: LeRobotInfo, lowDim: LowDimState[], cameras: CameraState[]) {
    this.root = opts.root;
    this.fps = opts.fps;
    this.info = info;
    this.lowDim = lowDim;
    this.cameras = cameras;
    this.video = opts.video;
    this.codec = opts.videoCodec ?? {};
    this.ffmpegPath = opts.ffmpegPath;
    this.tmpDir = path.join(opts.root, '.armature-tmp');
  }

  /** Validate the options, prepare the root folder and return a writer. */
  static async create(opts: CreateDatasetOptions): Promise<LeRobotDatasetWriter> {
    if (!Number.isInteger(opts.fps) || opts.fps <= 0) {
      throw new DatasetError(`fps must be a positive integer (LeRobot stores integer fps), got ${opts.fps}`);
    }
    const features: Record<string, FeatureSpec> = {};
    const lowDim: LowDimState[] = [];
    for (const [key, spec] of Object.entries(opts.features)) {
      checkName(key);
      if (key in DEFAULT_FEATURES || key === 'task') {
        throw new DatasetError(`feature '${key}' is reserved: LeRobot fills it in; remove it from features`);
      }
      if (key.startsWith(IMAGE_PREFIX)) {
        throw new DatasetError(`feature '${key}' looks like a camera: declare cameras under 'cameras' instead`);
      }
      if (spec.shape.length !== 1 || !Number.isInteger(spec.shape[0]) || spec.shape[0] <= 0) {
        throw new DatasetError(`feature '${key}' has shape [${spec.shape.join(', ')}]: only 1-D shapes such as [8] are supported`);
      }
      if (spec.dtype !== 'float32' && spec.dtype !== 'float64' && spec.dtype !== 'int64') {
        throw new DatasetError(`feature '${key}' has dtype '${String(spec.dtype)}': use float32, float64 or int64`);
      }
      if (spec.names && spec.names.length !== spec.shape[0]) {
        throw new DatasetError(`feature '${key}' has ${spec.names.length} names for shape [${spec.shape[0]}]: give one name per dimension`);
      }
      features[key] = { dtype: spec.dtype, shape: [spec.shape[0]], names: spec.names ? [...spec.names] : null };
      lowDim.push({ key, spec, size: spec.shape[0], values: [] });
    }
    const cameras: CameraState[] = [];
    for (const [name, cam] of Object.entries(opts.cameras ?? {})) {
      const key = name.startsWith(IMAGE_PREFIX) ? name : IMAGE_PREFIX + name;
      checkName(key);
      if (!Number.isInteger(cam.width) || !Number.isInteger(cam.height) || cam.width <= 0 || cam.height <= 0) {
        throw new DatasetError(`camera '${name}' size ${cam.width}x${cam.height} is invalid: give positive integer width and height`);
      }
      const c = resolveCodecOptions(opts.videoCodec);
      if (opts.video && c.pixFmt === 'yuv420p' && (cam.width % 2 || cam.height % 2)) {
        throw new DatasetError(`camera '${name}' is ${cam.width}x${cam.height}: yuv420p video needs even sizes; crop/pad the camera or record with video: false`);
      }
      features[key] = { dtype: opts.video ? 'video' : 'image', shape: [cam.height, cam.width, 3], names: ['height', 'width', 'channels'] };
      cameras.push({
        name, key, width: cam.width, height: cam.height, encoder: null, pngs: [], stats: new ImageStatsAccumulator(),
        chunk: 0, file: 0, hasFile: false, endS: 0,
      });
    }
    for (const [key, spec] of Object.entries(DEFAULT_FEATURES)) features[key] = { ...spec, shape: [...spec.shape] };

    const info: LeRobotInfo = {
      codebase_version: CODEBASE_VERSION,
      fps: opts.fps,
      features,
      total_episodes: 0,
      total_frames: 0,
      total_tasks: 0,
      chunks_size: opts.chunksSize ?? DEFAULT_CHUNK_SIZE,
      data_files_size_in_mb: opts.dataFilesSizeInMb ?? DEFAULT_DATA_FILE_SIZE_IN_MB,
      video_files_size_in_mb: opts.videoFilesSizeInMb ?? DEFAULT_VIDEO_FILE_SIZE_IN_MB,
      data_path: DEFAULT_DATA_PATH,
      video_path: opts.video && cameras.length > 0 ? DEFAULT_VIDEO_PATH : null,
      robot_type: opts.robotType,
      splits: {},
    };
    if (!(info.chunks_size >= 1) || !(info.data_files_size_in_mb > 0) || !(info.video_files_size_in_mb > 0)) {
      throw new DatasetError('chunksSize must be >= 1 and dataFilesSizeInMb / videoFilesSizeInMb must be > 0');
    }

    if (existsSync(opts.root) && readdirSync(opts.root).length > 0) {
      if (!opts.overwrite) {
        throw new DatasetError(`dataset root ${opts.root} exists and is not empty: choose a new root or pass overwrite: true`);
      }
      if (!existsSync(path.join(opts.root, INFO_PATH))) {
        throw new DatasetError(`refusing to overwrite ${opts.root}: it holds no ${INFO_PATH}, so it does not look like a dataset`);
      }
      rmSync(opts.root, { recursive: true, force: true });
    }
    mkdirSync(path.join(opts.root, 'meta'), { recursive: true });
    return new LeRobotDatasetWriter(opts, info, lowDim, cameras);
  }

  /** Frames added to the episode being recorded. */
  get pendingFrames(): number {
    return this.frameTasks.length;
  }

  get totalEpisodes(): number {
    return this.episodes.length;
  }

  /** Append one step to the current episode. Await it: video frames stream into ffmpeg with backpressure. */
  async addFrame(frame: DatasetFrame): Promise<void> {
    this.assertOpen('addFrame');
    const frameIndex = this.frameTasks.length;
    if (typeof frame.task !== 'string' || frame.task.length === 0) {
      throw new DatasetError(`frame ${frameIndex}: task must be a non-empty instruction string`);
    }
    const expectedTs = frameIndex / this.fps;
    if (frame.timestamp !== undefined && Math.abs(frame.timestamp - expectedTs) > DEFAULT_TOLERANCE_S) {
      throw new DatasetError(
        `frame ${frameIndex}: timestamp ${frame.timestamp} s is not frame_index / fps = ${expectedTs} s (tolerance ${DEFAULT_TOLERANCE_S} s): record at a constant ${this.fps} Hz, or omit timestamp`,
      );
    }
    for (const key of Object.keys(frame.values)) {
      if (!this.lowDim.some((f) => f.key === key)) {
        throw new DatasetError(`frame ${frameIndex}: value '${key}' is not a declared feature (${this.lowDim.map((f) => f.key).join(', ')}): declare it in create({features})`);
      }
    }
    const imgs = frame.images ?? {};
    for (const name of Object.keys(imgs)) {
      if (!this.cameras.some((c) => c.name === name)) {
        throw new DatasetError(`frame ${frameIndex}: camera '${name}' is not declared (${this.cameras.map((c) => c.name).join(', ') || 'none'}): declare it in create({cameras})`);
      }
    }
    // validate everything before mutating any buffer
    const rows = this.lowDim.map((f) => {
      const v = frame.values[f.key];
      if (v === undefined) throw new DatasetError(`frame ${frameIndex}: feature '${f.key}' is missing`);
      if (v.length !== f.size) throw new DatasetError(`frame ${frameIndex}: feature '${f.key}' has ${v.length} values, expected ${f.size}`);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) throw new DatasetError(`frame ${frameIndex}: feature '${f.key}'[${i}] is ${v[i]}: only finite numbers can be recorded`);
        if (f.spec.dtype === 'int64' && !Number.isInteger(v[i])) throw new DatasetError(`frame ${frameIndex}: int64 feature '${f.key}'[${i}] is ${v[i]}`);
      }
      return v;
    });
    const rgbs = this.cameras.map((c) => {
      const img = imgs[c.name];
      if (!img) throw new DatasetError(`frame ${frameIndex}: camera '${c.name}' image is missing: every frame needs every camera`);
      return toRgb24(img, c, c.name);
    });

    this.lowDim.forEach((f, j) => {
      const v = rows[j];
      for (let i = 0; i < v.length; i++) f.values.push(f.spec.dtype === 'float32' ? Math.fround(v[i]) : v[i]);
    });
    this.frameTasks.push(frame.task);
    this.timestamps.push(Math.fround(expectedTs));
    for (let j = 0; j < this.cameras.length; j++) {
      const c = this.cameras[j];
      const rgb = rgbs[j];
      c.stats.add(rgb);
      if (this.video) {
        if (!c.encoder) {
          c.encoder = await VideoEncoder.start({
            ...this.codec,
            file: path.join(this.tmpDir, `${c.name}-episode-${String(this.episodes.length).padStart(6, '0')}.mp4`),
            width: c.width,
            height: c.height,
            fps: this.fps,
            ffmpegPath: this.ffmpegPath,
          });
        }
        await c.encoder.write(rgb);
      } else {
        c.pngs.push({ bytes: encodeRgbPng(rgb, c.width, c.height), path: `frame-${String(frameIndex).padStart(6, '0')}.png` });
      }
    }
  }

  /** Drop the frames of the current episode (e.g. a failed demonstration). */
  async discardEpisode(): Promise<void> {
    for (const c of this.cameras) {
      if (c.encoder) await c.encoder.abort();
    }
    this.resetEpisode();
  }

  private resetEpisode(): void {
    for (const f of this.lowDim) f.values = [];
    for (const c of this.cameras) {
      c.encoder = null;
      c.pngs = [];
      c.stats = new ImageStatsAccumulator();
    }
    this.frameTasks = [];
    this.timestamps = [];
  }

  /** Write the current episode: its rows, its videos and its metadata. */
  async saveEpisode(): Promise<SavedEpisode> {
    this.assertOpen('saveEpisode');
    const n = this.frameTasks.length;
    if (n === 0) throw new DatasetError('saveEpisode: the episode has no frames: call addFrame first');
    if (this.busy) throw new DatasetError('saveEpisode: another saveEpisode is still running: await it first');
    this.busy = true;
    try {
      return await this.saveEpisodeInner(n);
    } finally {
      this.busy = false;
    }
  }

  private async saveEpisodeInner(n: number): Promise<SavedEpisode> {
    const episodeIndex = this.episodes.length;
    const from = this.totalFrames;
    const episodeTasks: string[] = [];
    for (const t of this.frameTasks) {
      if (!episodeTasks.includes(t)) episodeTasks.push(t);
      if (!this.tasks.has(t)) this.tasks.set(t, this.tasks.size);
    }
    const taskIndex = this.frameTasks.map((t) => this.tasks.get(t) as number);
    const frameIndex = Array.from({ length: n }, (_, i) => i);
    const index = Array.from({ length: n }, (_, i) => from + i);
    const episodeCol = new Array<number>(n).fill(episodeIndex);

    // stats, as compute_episode_stats: every numeric feature, cameras per channel in [0, 1]
    const stats: Record<string, FeatureStats> = {};
    for (const f of this.lowDim) stats[f.key] = vectorStats(f.values, n, f.size);
    for (const c of this.cameras) stats[c.key] = c.stats.result();
    stats.timestamp = vectorStats(this.timestamps, n, 1);
    stats.frame_index = vectorStats(frameIndex, n, 1);
    stats.episode_index = vectorStats(episodeCol, n, 1);
    stats.index = vectorStats(index, n, 1);
    stats.task_index = vectorStats(taskIndex, n, 1);

    // data parquet: one row group per episode, as LeRobot's writer
    const columnData: Array<{ name: string; data: unknown[] }> = [];
    for (const f of this.lowDim) {
      const rows: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) rows[i] = f.size === 1 && f.spec.shape[0] === 1 ? f.values[i] : f.values.slice(i * f.size, (i + 1) * f.size);
      columnData.push({ name: f.key, data: rows });
    }
    if (!this.video) for (const c of this.cameras) columnData.push({ name: c.key, data: c.pngs });
    columnData.push(
      { name: 'timestamp', data: this.timestamps },
      { name: 'frame_index', data: frameIndex },
      { name: 'episode_index', data: episodeCol },
      { name: 'index', data: index },
      { name: 'task_index', data: taskIndex },
    );
    this.rotateDataFileIfFull();
    if (!this.dataWriter) this.openDataWriter();
    const defs = this.dataColumns();
    (this.dataWriter as ParquetWriter).write({
      columnData: columnData.map((c, i) => ({ name: c.name, data: columnValues(defs[i], c.data) })) as Parameters<ParquetWriter['write']>[0]['columnData'],
      rowGroupSize: n,
    });

    // videos: close this episode's encoder, then append its mp4 to the camera's current file
    const videos: Record<string, EpisodeMeta['videos'][string]> = {};
    if (this.video) {
      for (const c of this.cameras) {
        const enc = c.encoder as VideoEncoder;
        await enc.close();
        videos[c.key] = await this.appendEpisodeVideo(c, enc.target.file);
      }
    }

    const meta: EpisodeMeta = {
      episodeIndex,
      tasks: episodeTasks,
      length: n,
      dataChunkIndex: this.dataChunk,
      dataFileIndex: this.dataFile,
      datasetFromIndex: from,
      datasetToIndex: from + n,
      videos,
    };
    this.episodes.push(meta);
    this.episodeStats.push(stats);
    this.totalFrames += n;
    this.resetEpisode();
    return { episodeIndex, length: n };
  }

  private dataColumns(): ColumnDef[] {
    const cols: ColumnDef[] = this.lowDim.map((f) => ({
      name: f.key,
      layout: f.spec.shape[0] === 1 ? { kind: 'scalar', leaf: parquetLeaf(f.spec.dtype) } : { kind: 'list', leaf: parquetLeaf(f.spec.dtype), depth: 1 },
    }));
    if (!this.video) for (const c of this.cameras) cols.push({ name: c.key, layout: { kind: 'image' } });
    cols.push(
      { name: 'timestamp', layout: { kind: 'scalar', leaf: 'FLOAT' } },
      { name: 'frame_index', layout: { kind: 'scalar', leaf: 'INT64' } },
      { name: 'episode_index', layout: { kind: 'scalar', leaf: 'INT64' } },
      { name: 'index', layout: { kind: 'scalar', leaf: 'INT64' } },
      { name: 'task_index', layout: { kind: 'scalar', leaf: 'INT64' } },
    );
    return cols;
  }

  private dataPath(chunk: number, file: number): string {
    return path.join(this.root, formatPath(this.info.data_path, { chunk_index: chunk, file_index: file }));
  }

  private openDataWriter(): void {
    const file = this.dataPath(this.dataChunk, this.dataFile);
    mkdirSync(path.dirname(file), { recursive: true });
    const out = fileWriter(file);
    this.dataWriterOut = out;
    this.dataWriter = new ParquetWriter({ writer: out, schema: parquetSchema(this.dataColumns()), createdBy: 'armature' });
  }

  private rotateDataFileIfFull(): void {
    if (!this.dataWriter || !this.dataWriterOut) return;
    if (this.dataWriterOut.offset < this.info.data_files_size_in_mb * MB) return;
    this.dataWriter.finish();
    this.dataWriter = null;
    this.dataWriterOut = null;
    ({ chunk: this.dataChunk, file: this.dataFile } = nextChunkFile(this.dataChunk, this.dataFile, this.info.chunks_size));
  }

  private videoPath(c: CameraState): string {
    return path.join(
      this.root,
      formatPath(this.info.video_path as string, { video_key: c.key, chunk_index: c.chunk, file_index: c.file }),
    );
  }

  private async appendEpisodeVideo(c: CameraState, tmp: string): Promise<EpisodeMeta['videos'][string]> {
    const probe = await probeVideo(tmp, { ffmpegPath: this.ffmpegPath });
    const epSize = statSync(tmp).size;
    if (c.hasFile && statSync(this.videoPath(c)).size + epSize >= this.info.video_files_size_in_mb * MB) {
      ({ chunk: c.chunk, file: c.file } = nextChunkFile(c.chunk, c.file, this.info.chunks_size));
      c.hasFile = false;
    }
    const target = this.videoPath(c);
    let fromS: number;
    if (!c.hasFile) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(tmp, target);
      c.hasFile = true;
      fromS = 0;
    } else {
      await concatVideos({ inputs: [target, tmp], output: target, ffmpegPath: this.ffmpegPath });
      await fs.rm(tmp, { force: true });
      fromS = c.endS;
    }
    c.endS = fromS + probe.durationS;
    if (this.episodes.length === 0) {
      const codec = resolveCodecOptions(this.codec);
      const spec = this.info.features[c.key];
      this.info.features[c.key] = {
        ...spec,
        info: {
          'video.height': probe.height,
          'video.width': probe.width,
          'video.codec': probe.codec,
          'video.pix_fmt': probe.pixFmt,
          'video.fps': Math.round(probe.fps),
          'video.channels': 3,
          'video.g': codec.gop,
          'video.crf': codec.crf,
          'video.preset': codec.preset,
          'video.fast_decode': 0,
          has_audio: false,
          is_depth_map: false,
        },
      };
    }
    return { chunkIndex: c.chunk, fileIndex: c.file, fromTimestamp: fromS, toTimestamp: c.endS };
  }

  /**
   * Close the data parquet (writes its footer) and write meta/: info.json,
   * stats.json, tasks.parquet and episodes parquet. Idempotent.
   */
  async finalize(): Promise<LeRobotInfo> {
    if (this.finalized) return this.info;
    if (this.frameTasks.length > 0) {
      throw new DatasetError(`finalize: ${this.frameTasks.length} frames of an unsaved episode are pending: call saveEpisode() or discardEpisode() first`);
    }
    this.dataWriter?.finish();
    this.dataWriter = null;
    this.dataWriterOut = null;

    const info = this.info;
    info.total_episodes = this.episodes.length;
    info.total_frames = this.totalFrames;
    info.total_tasks = this.tasks.size;
    info.splits = this.episodes.length > 0 ? { train: `0:${this.episodes.length}` } : {};
    if (this.tasks.size > 0) this.writeTasks();
    if (this.episodes.length > 0) this.writeEpisodes();
    writeFileSync(path.join(this.root, INFO_PATH), JSON.stringify(info, null, 4));
    if (this.episodeStats.length > 0) {
      const keys = Object.keys(this.episodeStats[0]);
      const agg: Record<string, FeatureStats> = {};
      for (const k of keys) agg[k] = aggregateStats(this.episodeStats.map((s) => s[k]));
      writeFileSync(path.join(this.root, STATS_PATH), JSON.stringify(statsToJson(agg), null, 4));
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
    this.finalized = true;
    return info;
  }

  private writeTasks(): void {
    const entries = [...this.tasks.entries()].sort((a, b) => a[1] - b[1]);
    parquetWriteFile({
      filename: path.join(this.root, TASKS_PATH),
      schema: parquetSchema([
        { name: 'task_index', layout: { kind: 'scalar', leaf: 'INT64' } },
        { name: 'task', layout: { kind: 'scalar', leaf: 'STRING' } },
      ]),
      columnData: [
        { name: 'task_index', data: entries.map((e) => BigInt(e[1])) },
        { name: 'task', data: entries.map((e) => e[0]) },
      ],
      // pandas restores `task` as the index, which LeRobot's load_tasks relies on
      kvMetadata: [pandasIndexMetadata([{ name: 'task_index', pandasType: 'int64' }, { name: 'task', pandasType: 'unicode' }], 'task')],
      createdBy: 'armature',
    });
  }

  private writeEpisodes(): void {
    const eps = this.episodes;
    const cols: ColumnDef[] = [];
    const data: unknown[][] = [];
    const add = (def: ColumnDef, values: unknown[]): void => {
      cols.push(def);
      data.push(values);
    };
    const int = (name: string, f: (e: EpisodeMeta) => number): void => add({ name, layout: { kind: 'scalar', leaf: 'INT64' } }, eps.map(f));
    int('episode_index', (e) => e.episodeIndex);
    add({ name: 'tasks', layout: { kind: 'list', leaf: 'STRING', depth: 1 } }, eps.map((e) => [...e.tasks]));
    int('length', (e) => e.length);
    int('data/chunk_index', (e) => e.dataChunkIndex);
    int('data/file_index', (e) => e.dataFileIndex);
    int('dataset_from_index', (e) => e.datasetFromIndex);
    int('dataset_to_index', (e) => e.datasetToIndex);
    if (this.video) {
      for (const c of this.cameras) {
        int(`videos/${c.key}/chunk_index`, (e) => e.videos[c.key].chunkIndex);
        int(`videos/${c.key}/file_index`, (e) => e.videos[c.key].fileIndex);
        add({ name: `videos/${c.key}/from_timestamp`, layout: { kind: 'scalar', leaf: 'DOUBLE' } }, eps.map((e) => e.videos[c.key].fromTimestamp));
        add({ name: `videos/${c.key}/to_timestamp`, layout: { kind: 'scalar', leaf: 'DOUBLE' } }, eps.map((e) => e.videos[c.key].toTimestamp));
      }
    }
    for (const key of Object.keys(this.episodeStats[0])) {
      const kind = this.episodeStats[0][key].kind;
      const depth = kind === 'image' ? 3 : 1;
      const json = this.episodeStats.map((s) => statsToJson({ [key]: s[key] })[key]);
      for (const stat of ['min', 'max', 'mean', 'std', 'count', ...QUANTILE_KEYS]) {
        const isCount = stat === 'count';
        add(
          { name: `stats/${key}/${stat}`, layout: { kind: 'list', leaf: isCount ? 'INT64' : 'DOUBLE', depth: isCount ? 1 : depth } },
          json.map((j) => j[stat]),
        );
      }
    }
    add({ name: 'meta/episodes/chunk_index', layout: { kind: 'scalar', leaf: 'INT64' } }, eps.map(() => 0));
    add({ name: 'meta/episodes/file_index', layout: { kind: 'scalar', leaf: 'INT64' } }, eps.map(() => 0));
    const file = path.join(this.root, formatPath(DEFAULT_EPISODES_PATH, { chunk_index: 0, file_index: 0 }));
    mkdirSync(path.dirname(file), { recursive: true });
    parquetWriteFile({
      filename: file,
      schema: parquetSchema(cols),
      columnData: cols.map((c, i) => ({ name: c.name, data: columnValues(c, data[i]) })) as Parameters<typeof parquetWriteFile>[0]['columnData'],
      rowGroupSize: Math.max(1, eps.length),
      createdBy: 'armature',
    });
  }

  private assertOpen(what: string): void {
    if (this.finalized) throw new DatasetError(`${what}: the dataset at ${this.root} is finalized: create a new writer to record more`);
  }
}
