/**
 * LeRobot dataset v3.0 layout: paths, meta/info.json shape and feature specs,
 * as written and read by huggingface/lerobot (src/lerobot/datasets/utils.py,
 * feature_utils.py, dataset_metadata.py).
 */
import { ArmatureError } from '../../src/errors.ts';

/** A dataset folder is malformed, or a frame does not match the declared features. */
export class DatasetError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('dataset.invalid', message, options);
  }
}

export const CODEBASE_VERSION = 'v3.0';
export const INFO_PATH = 'meta/info.json';
export const STATS_PATH = 'meta/stats.json';
export const TASKS_PATH = 'meta/tasks.parquet';
export const EPISODES_DIR = 'meta/episodes';
export const DEFAULT_DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const DEFAULT_VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
export const DEFAULT_EPISODES_PATH = 'meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_DATA_FILE_SIZE_IN_MB = 100;
export const DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200;
/** LeRobot's default timestamp tolerance when looking frames up in videos, s */
export const DEFAULT_TOLERANCE_S = 1e-4;
/** prefix LeRobot gives camera features */
export const IMAGE_PREFIX = 'observation.images.';

/** numeric dtypes of low-dimensional features */
export type NumericDtype = 'float32' | 'float64' | 'int64';
export type FeatureDtype = NumericDtype | 'image' | 'video';

/** One entry of info.json `features`. */
export interface FeatureSpec {
  readonly dtype: FeatureDtype;
  readonly shape: readonly number[];
  /** per-dimension names, e.g. ['x', 'y', 'z'] (LeRobot also allows {motors: [...]}) */
  readonly names: readonly string[] | Readonly<Record<string, readonly string[]>> | null;
  /** video stream facts ('video.codec', 'video.fps', ...) for video features */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** The frame bookkeeping columns LeRobot adds to every dataset (lerobot.utils.constants.DEFAULT_FEATURES). */
export const DEFAULT_FEATURES: Readonly<Record<string, FeatureSpec>> = {
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
};

/** meta/info.json (lerobot DatasetInfo). */
export interface LeRobotInfo {
  codebase_version: string;
  fps: number;
  features: Record<string, FeatureSpec>;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  chunks_size: number;
  data_files_size_in_mb: number;
  video_files_size_in_mb: number;
  data_path: string;
  video_path: string | null;
  robot_type: string | null;
  splits: Record<string, string>;
}

/**
 * Fill a LeRobot path template, e.g.
 * `data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet`.
 * Supports `{name}` and zero-padded integers `{name:0Nd}` (the only forms LeRobot uses).
 */
export function formatPath(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)(?::0(\d+)d)?\}/g, (_m, key: string, width: string | undefined) => {
    const v = values[key];
    if (v === undefined) throw new DatasetError(`path template '${template}' needs '${key}', which was not given`);
    if (width === undefined) return String(v);
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new DatasetError(`path template '${template}': '${key}' must be an integer, got ${String(v)}`);
    }
    return String(v).padStart(Number(width), '0');
  });
}

/** Next (chunk, file) pair: files fill a chunk folder up to chunks_size (lerobot update_chunk_file_indices). */
export function nextChunkFile(chunk: number, file: number, chunksSize: number): { chunk: number; file: number } {
  return file === chunksSize - 1 ? { chunk: chunk + 1, file: 0 } : { chunk, file: file + 1 };
}

/** Number of scalars in one frame of a feature. */
export function featureSize(spec: FeatureSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

export function isVisual(spec: FeatureSpec): boolean {
  return spec.dtype === 'image' || spec.dtype === 'video';
}

/** Per-episode record in meta/episodes/chunk-XXX/file-XXX.parquet. */
export interface EpisodeMeta {
  readonly episodeIndex: number;
  readonly tasks: readonly string[];
  /** frames */
  readonly length: number;
  readonly dataChunkIndex: number;
  readonly dataFileIndex: number;
  /** global frame index range [from, to) */
  readonly datasetFromIndex: number;
  readonly datasetToIndex: number;
  /** video feature key -> where the episode lives in which mp4 */
  readonly videos: Readonly<Record<string, EpisodeVideoMeta>>;
}

export interface EpisodeVideoMeta {
  readonly chunkIndex: number;
  readonly fileIndex: number;
  /** start of the episode in the mp4, s */
  readonly fromTimestamp: number;
  /** end of the episode in the mp4, s */
  readonly toTimestamp: number;
}
