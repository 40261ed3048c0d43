/**
 * MP4 encode/decode through ffmpeg child processes (raw rgb24 frames over
 * pipes). Used by the LeRobot dataset writer/reader and for rollout videos in
 * evaluation reports.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArmatureError } from '../../src/errors.ts';

/** ffmpeg is missing, failed, or a video file is unusable. */
export class VideoError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('video.failed', message, options);
  }
}

/** Encoder settings; the defaults follow LeRobot's (yuv420p, keyframe every 2 frames). */
export interface VideoCodecOptions {
  /** ffmpeg encoder: 'libx264' (fast, default) or 'libsvtav1' (LeRobot's default) */
  readonly codec?: 'libx264' | 'libsvtav1';
  readonly pixFmt?: 'yuv420p' | 'yuv444p';
  /** keyframe interval, frames (small = fast random access) */
  readonly gop?: number;
  /** quality: lower is better and larger */
  readonly crf?: number;
  /** encoder preset ('veryfast' for x264, 0..13 for svt-av1) */
  readonly preset?: string | number;
  /** encoder threads; undefined lets ffmpeg decide */
  readonly threads?: number;
}

export interface ResolvedCodecOptions {
  readonly codec: 'libx264' | 'libsvtav1';
  readonly pixFmt: 'yuv420p' | 'yuv444p';
  readonly gop: number;
  readonly crf: number;
  readonly preset: string | number;
  readonly threads: number | undefined;
}

export function resolveCodecOptions(o: VideoCodecOptions = {}): ResolvedCodecOptions {
  const codec = o.codec ?? 'libx264';
  return {
    codec,
    pixFmt: o.pixFmt ?? 'yuv420p',
    gop: o.gop ?? 2,
    crf: o.crf ?? (codec === 'libx264' ? 20 : 30),
    preset: o.preset ?? (codec === 'libx264' ? 'veryfast' : 12),
    threads: o.threads,
  };
}

export interface VideoTarget extends VideoCodecOptions {
  /** output .mp4 path (parent folders are created) */
  readonly file: string;
  /** pixels */
  readonly width: number;
  readonly height: number;
  /** frames per second (integer in LeRobot datasets) */
  readonly fps: number;
  /** ffmpeg binary, default 'ffmpeg' on PATH */
  readonly ffmpegPath?: string;
}

export interface EncodeVideoOptions extends VideoTarget {
  /** tightly packed rgb24 frames, width*height*3 bytes each */
  readonly frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface DecodedVideo {
  readonly width: number;
  readonly height: number;
  /** tightly packed rgb24 frames in presentation order */
  readonly frames: Uint8Array[];
}

export interface VideoProbe {
  readonly width: number;
  readonly height: number;
  /** ffmpeg codec name, e.g. 'h264', 'av1' */
  readonly codec: string;
  readonly pixFmt: string;
  /** frames per second (r_frame_rate) */
  readonly fps: number;
  /** stream duration, s */
  readonly durationS: number;
}

const FFMPEG_HINT = 'install ffmpeg: apt-get install ffmpeg (or pass ffmpegPath)';

function spawnTool(bin: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Wait for a child to exit; turn ENOENT and non-zero exits into VideoErrors. */
async function waitTool(
  child: ChildProcessWithoutNullStreams,
  bin: string,
  what: string,
  stderr: () => string,
): Promise<void> {
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new VideoError(`'${bin}' not found while ${what}: ${FFMPEG_HINT}`, { cause: err }));
      else reject(new VideoError(`could not run '${bin}' while ${what}: ${err.message}`, { cause: err }));
    });
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new VideoError(`${bin} failed (exit ${code}) while ${what}: ${stderr().trim().slice(-800) || 'no output'}`);
  }
}

function collectStderr(child: ChildProcessWithoutNullStreams): () => string {
  let text = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    text = (text + s).slice(-4000);
  });
  return () => text;
}

function ffprobeFor(ffmpegPath: string | undefined): string {
  if (!ffmpegPath || ffmpegPath === 'ffmpeg') return 'ffprobe';
  return path.join(path.dirname(ffmpegPath), path.basename(ffmpegPath).replace('ffmpeg', 'ffprobe'));
}

/** Run a tool to completion and return stdout as text. */
async function runText(bin: string, args: readonly string[], what: string): Promise<string> {
  const child = spawnTool(bin, args);
  child.stdin.end();
  const err = collectStderr(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    out += s;
  });
  await waitTool(child, bin, what, err);
  return out;
}

function encoderArgs(t: VideoTarget): string[] {
  const c = resolveCodecOptions(t);
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${t.width}x${t.height}`, '-r', String(t.fps), '-i', 'pipe:0',
    '-an', '-c:v', c.codec, '-pix_fmt', c.pixFmt, '-g', String(c.gop), '-crf', String(c.crf),
    '-preset', String(c.preset),
  ];
  // no B-frames: the first frame is at pts 0 and every frame at k/fps, which
  // LeRobot's timestamp lookup (tolerance 1e-4 s) relies on after concatenation
  if (c.codec === 'libx264') args.push('-bf', '0');
  if (c.threads !== undefined) args.push('-threads', String(c.threads));
  args.push('-movflags', '+faststart', '-y', t.file);
  return args;
}

/**
 * A running ffmpeg encoder fed one frame at a time, for recording while a
 * rollout runs without holding its frames in memory.
 */
export class VideoEncoder {
  private frameCount = 0;
  private closed = false;
  private readonly frameBytes: number;
  private readonly done: Promise<void>;
  private failure: unknown = null;

  private constructor(
    readonly target: VideoTarget,
    private readonly child: ChildProcessWithoutNullStreams,
    stderr: () => string,
  ) {
    this.frameBytes = target.width * target.height * 3;
    const bin = target.ffmpegPath ?? 'ffmpeg';
    this.done = waitTool(child, bin, `encoding ${target.file}`, stderr);
    this.done.catch((e: unknown) => {
      this.failure = e;
    });
    // EPIPE when ffmpeg dies early: the exit status carries the real reason
    child.stdin.on('error', () => undefined);
  }

  static async start(target: VideoTarget): Promise<VideoEncoder> {
    const c = resolveCodecOptions(target);
    if (!Number.isInteger(target.width) || !Number.isInteger(target.height) || target.width <= 0 || target.height <= 0) {
      throw new VideoError(`video ${target.file}: width/height must be positive integers, got ${target.width}x${target.height}`);
    }
    if (c.pixFmt === 'yuv420p' && (target.width % 2 !== 0 || target.height % 2 !== 0)) {
      throw new VideoError(
        `video ${target.file}: ${target.width}x${target.height} has an odd side, which yuv420p cannot encode: use even camera sizes or pixFmt 'yuv444p'`,
      );
    }
    if (!(target.fps > 0)) throw new VideoError(`video ${target.file}: fps must be > 0, got ${target.fps}`);
    await fs.mkdir(path.dirname(target.file), { recursive: true });
    const child = spawnTool(target.ffmpegPath ?? 'ffmpeg', encoderArgs(target));
    return new VideoEncoder(target, child, collectStderr(child));
  }

  get framesWritten(): number {
    return this.frameCount;
  }

  /** Append one tightly packed rgb24 frame; resolves once ffmpeg accepted it (backpressure). */
  async write(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new VideoError(`video ${this.target.file}: write after close`);
    if (this.failure) throw this.failure;
    if (frame.length !== this.frameBytes) {
      throw new VideoError(
        `video ${this.target.file}: frame has ${frame.length} bytes, expected ${this.frameBytes} (${this.target.width}x${this.target.height} rgb24)`,
      );
    }
    this.frameCount++;
    if (!this.child.stdin.write(frame)) {
      await Promise.race([once(this.child.stdin, 'drain'), this.done]);
      if (this.failure) throw this.failure;
    }
  }

  /** Flush and wait for the file to be complete. */
  async close(): Promise<{ frames: number }> {
    if (!this.closed) {
      this.closed = true;
      this.child.stdin.end();
    }
    await this.done;
    if (this.frameCount === 0) throw new VideoError(`video ${this.target.file}: no frames were written`);
    return { frames: this.frameCount };
  }

  /** Stop ffmpeg and delete the partial file. */
  async abort(): Promise<void> {
    this.closed = true;
    this.child.stdin.destroy();
    this.child.kill('SIGKILL');
    await this.done.catch(() => undefined);
    await fs.rm(this.target.file, { force: true });
  }
}

/** Encode rgb24 frames to an mp4 (h264 yuv420p by default). */
export async function encodeVideo(opts: EncodeVideoOptions): Promise<{ frames: number }> {
  const { frames, ...target } = opts;
  const enc = await VideoEncoder.start(target);
  try {
    for await (const f of frames) await enc.write(f);
  } catch (e) {
    await enc.abort();
    throw e;
  }
  return enc.close();
}

function parseRate(r: string): number {
  const [a, b] = r.split('/').map(Number);
  return b ? a / b : a;
}

/** Stream properties of the first video stream. */
export async function probeVideo(file: string, opts: { ffmpegPath?: string } = {}): Promise<VideoProbe> {
  await assertFile(file);
  const bin = ffprobeFor(opts.ffmpegPath);
  const out = await runText(
    bin,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,codec_name,pix_fmt,r_frame_rate,duration:format=duration', '-of', 'json', file],
    `probing ${file}`,
  );
  const j = JSON.parse(out) as { streams?: Array<Record<string, string | number>>; format?: { duration?: string } };
  const s = j.streams?.[0];
  if (!s) throw new VideoError(`${file} has no video stream: re-record it`);
  const dur = Number(s.duration ?? j.format?.duration);
  return {
    width: Number(s.width),
    height: Number(s.height),
    codec: String(s.codec_name),
    pixFmt: String(s.pix_fmt),
    fps: parseRate(String(s.r_frame_rate)),
    durationS: dur,
  };
}

/** Presentation timestamps of every frame (from packets, no decoding), s, sorted. */
export async function probeFrameTimestamps(file: string, opts: { ffmpegPath?: string } = {}): Promise<Float64Array> {
  await assertFile(file);
  const out = await runText(
    ffprobeFor(opts.ffmpegPath),
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file],
    `reading frame timestamps of ${file}`,
  );
  const ts = out
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter((l) => l.length > 0 && l !== 'N/A')
    .map(Number);
  return Float64Array.from(ts).sort();
}

async function assertFile(file: string): Promise<void> {
  try {
    await fs.access(file);
  } catch (e) {
    throw new VideoError(`video file ${file} does not exist: check the dataset's video_path and episodes metadata`, { cause: e });
  }
}

export interface DecodeVideoOptions {
  /** seek to this time first, s; frames before it are dropped (accurate seek) */
  readonly startS?: number;
  /** stop after this many frames */
  readonly maxFrames?: number;
  readonly ffmpegPath?: string;
}

/** Decode an mp4 to rgb24 frames (all, or a window). */
export async function decodeVideo(file: string, opts: DecodeVideoOptions = {}): Promise<DecodedVideo> {
  const probe = await probeVideo(file, opts);
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (opts.startS !== undefined && opts.startS > 0) args.push('-ss', opts.startS.toFixed(6));
  args.push('-i', file);
  if (opts.maxFrames !== undefined) args.push('-frames:v', String(opts.maxFrames));
  args.push('-an', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const child = spawnTool(bin, args);
  child.stdin.end();
  const err = collectStderr(child);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  await waitTool(child, bin, `decoding ${file}`, err);
  const all = Buffer.concat(chunks);
  const n = probe.width * probe.height * 3;
  if (all.length % n !== 0) {
    throw new VideoError(`decoding ${file}: got ${all.length} bytes, not a whole number of ${probe.width}x${probe.height} frames`);
  }
  const frames: Uint8Array[] = [];
  for (let off = 0; off < all.length; off += n) frames.push(new Uint8Array(all.buffer, all.byteOffset + off, n).slice());
  return { width: probe.width, height: probe.height, frames };
}

/**
 * Concatenate mp4 files with identical encoding into `output` without
 * re-encoding (ffmpeg concat demuxer, as LeRobot does). `output` may be one of
 * the inputs.
 */
export async function concatVideos(opts: { inputs: readonly string[]; output: string; ffmpegPath?: string }): Promise<void> {
  if (opts.inputs.length === 0) throw new VideoError(`concatenating into ${opts.output}: no input videos`);
  for (const f of opts.inputs) await assertFile(f);
  const dir = path.dirname(opts.output);
  const stamp = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const list = path.join(dir, `.concat-${stamp}.txt`);
  const tmpOut = path.join(dir, `.concat-${stamp}.mp4`);
  const esc = (p: string): string => path.resolve(p).replace(/'/g, `'\\''`);
  await fs.writeFile(list, `ffconcat version 1.0\n${opts.inputs.map((p) => `file '${esc(p)}'`).join('\n')}\n`);
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  try {
    const child = spawnTool(bin, [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'concat', '-safe', '0', '-i', list,
      '-c', 'copy', '-movflags', '+faststart', '-y', tmpOut,
    ]);
    child.stdin.end();
    const err = collectStderr(child);
    child.stdout.resume();
    await waitTool(child, bin, `concatenating into ${opts.output}`, err);
    await fs.rename(tmpOut, opts.output);
  } finally {
    await fs.rm(list, { force: true });
    await fs.rm(tmpOut, { force: true });
  }
}

/** Throw a VideoError naming the fix if ffmpeg cannot be run. */
export async function assertFfmpeg(ffmpegPath = 'ffmpeg'): Promise<void> {
  await runText(ffmpegPath, ['-hide_banner', '-version'], 'checking ffmpeg');
}

/** true if ffmpeg and ffprobe can be run (for skipping tests with a reason). */
export async function hasFfmpeg(ffmpegPath = 'ffmpeg'): Promise<boolean> {
  try {
    await assertFfmpeg(ffmpegPath);
    await runText(ffprobeFor(ffmpegPath), ['-version'], 'checking ffprobe');
    return true;
  } catch {
    return false;
  }
}
