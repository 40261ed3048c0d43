/**
 * Camera frame -> model image tensor, float32 CHW [C, H, W], in one pass.
 *
 * Geometry: resizing uses half-pixel centres (src = (dst + 0.5) * srcSize / dstSize - 0.5,
 * clamped to the image), i.e. cv2.resize INTER_LINEAR / torch interpolate(bilinear,
 * align_corners=False, antialias=False). Depth (16UC1) is resized by nearest neighbour with
 * the same centres (cv2 INTER_NEAREST_EXACT / torch 'nearest-exact'), so depths are never
 * blended across edges. 'center_crop' first crops the source to the target aspect ratio
 * (offset floor((size - crop) / 2)), then resizes the crop.
 *
 * Values: out = (pixel * scale - mean[c]) / std[c]; mono from colour is ITU-R BT.601 luma
 * (0.299 R + 0.587 G + 0.114 B), computed in float without rounding to 8 bits.
 *
 * Sampling tables (source offsets and weights) are built once per source size and cached, so
 * the per-frame work for raw frames is only multiply-adds and allocates nothing when the caller
 * passes `out`.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ObservationError } from '../errors.ts';
import {
  COMPRESSED_FORMATS,
  RAW_ENCODINGS,
  type CameraFrame,
  type CompressedImage,
  type RawEncoding,
  type RawImage,
} from './types.ts';

export type ChannelOrder = 'rgb' | 'bgr' | 'mono';
export type ResizeMode = 'stretch' | 'center_crop';

/** Target tensor description; `CameraSpec` from the manifest is assignable to it. */
export interface ImageSpec {
  /** target height, px */
  readonly height: number;
  /** target width, px */
  readonly width: number;
  /** channel order of the output tensor */
  readonly channels: ChannelOrder;
  /** default 'stretch' */
  readonly resize?: ResizeMode;
  /** pixel scale applied before mean/std; default 1/255 (for 16UC1 depth in mm, use e.g. 0.001 to get m) */
  readonly scale?: number;
  /** per output channel, after scaling */
  readonly mean: readonly number[];
  /** per output channel, after scaling, > 0 */
  readonly std: readonly number[];
}

/** Pixel rectangle in source coordinates. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const SUPPORTED = `${RAW_ENCODINGS.join(', ')} (raw) or ${COMPRESSED_FORMATS.join(', ')} (compressed)`;

/** Bytes per pixel of a raw encoding; throws ObservationError listing the supported ones. */
export function bytesPerPixel(encoding: string): number {
  switch (encoding) {
    case 'rgb8':
    case 'bgr8':
      return 3;
    case 'rgba8':
    case 'bgra8':
      return 4;
    case 'mono8':
      return 1;
    case '16UC1':
      return 2;
    default:
      throw new ObservationError(`camera frame encoding '${encoding}' is not supported: use one of ${SUPPORTED}`);
  }
}

/** Check size, step and data length of a raw frame; returns its bytes per pixel. Allocates nothing when valid. */
export function validateRawImage(raw: RawImage): number {
  const bpp = bytesPerPixel(raw.encoding);
  const { width, height, step } = raw;
  if (!(width > 0) || !(height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new ObservationError(
      `camera frame has zero or invalid size ${width}x${height} (${raw.encoding}): width and height must be positive integers; check the driver's image dimensions`,
    );
  }
  if (!Number.isInteger(step) || step < width * bpp) {
    throw new ObservationError(
      `camera frame step ${step} is smaller than width * bytes per pixel = ${width} * ${bpp} = ${width * bpp} (${raw.encoding}): step is the row length in bytes and must be at least that`,
    );
  }
  if (raw.data.length < height * step) {
    throw new ObservationError(
      `camera frame data is too short: ${raw.data.length} bytes, but height * step = ${height} * ${step} = ${height * step} (${raw.encoding} ${width}x${height}); the frame is truncated or its step/height are wrong`,
    );
  }
  return bpp;
}

/**
 * Source region used for a target of `width` x `height`: the whole frame for 'stretch', the
 * largest centred rectangle with the target aspect ratio for 'center_crop'.
 */
export function resizeRegion(opts: {
  srcWidth: number;
  srcHeight: number;
  width: number;
  height: number;
  resize: ResizeMode;
}): Rect {
  const { srcWidth: sw, srcHeight: sh, width: tw, height: th } = opts;
  if (opts.resize === 'stretch') return { x: 0, y: 0, width: sw, height: sh };
  if (sw * th > sh * tw) {
    // source is wider than the target: keep full height, crop columns
    const cw = Math.max(1, Math.min(sw, Math.round((sh * tw) / th)));
    return { x: Math.floor((sw - cw) / 2), y: 0, width: cw, height: sh };
  }
  const ch = Math.max(1, Math.min(sh, Math.round((sw * th) / tw)));
  return { x: 0, y: Math.floor((sh - ch) / 2), width: sw, height: ch };
}

/**
 * Per-axis sampling table: for each target index, the two source indices (within
 * [start, start + length - 1]) and the weight of the second one. Nearest uses i0 only.
 */
export interface AxisTable {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  /** weight of i1; weight of i0 is 1 - w */
  readonly w: Float64Array;
}

/** Bilinear (half-pixel centres) or nearest sampling positions for one axis. */
export function axisTable(opts: { start: number; length: number; target: number; nearest: boolean }): AxisTable {
  const { start, length, target, nearest } = opts;
  const i0 = new Int32Array(target);
  const i1 = new Int32Array(target);
  const w = new Float64Array(target);
  const ratio = length / target;
  const last = length - 1;
  for (let d = 0; d < target; d++) {
    if (nearest) {
      const s = Math.min(last, Math.floor((d + 0.5) * ratio));
      i0[d] = i1[d] = start + s;
      continue;
    }
    let s = (d + 0.5) * ratio - 0.5;
    if (s < 0) s = 0;
    let a = Math.floor(s);
    if (a >= last) {
      a = last;
      s = last;
    }
    const b = Math.min(a + 1, last);
    i0[d] = start + a;
    i1[d] = start + b;
    w[d] = s - a;
  }
  return { i0, i1, w };
}

/** Sampling table for one source geometry; x offsets are in bytes within a row. */
export interface SampleTable {
  readonly srcWidth: number;
  readonly srcHeight: number;
  readonly bpp: number;
  readonly nearest: boolean;
  /** byte offsets of the two x taps within a row */
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  readonly wx: Float64Array;
  /** source rows of the two y taps */
  readonly y0: Int32Array;
  readonly y1: Int32Array;
  readonly wy: Float64Array;
  /**
   * true when every output pixel averages exactly a 2x2 source block (a 2x bilinear
   * downscale at pixel centres), so the hot loop can skip the weights
   */
  readonly half: boolean;
}

const MAX_CACHED_TABLES = 16;

const RGB_ORDER = [0, 1, 2] as const;
const BGR_ORDER = [2, 1, 0] as const;
const MONO_ORDER = [0, 0, 0] as const;

/** Offsets of R, G, B within a source pixel (mono: all 0); shared constants, so nothing is allocated per frame. */
export function rgbOffsets(encoding: RawEncoding): readonly [number, number, number] {
  switch (encoding) {
    case 'rgb8':
    case 'rgba8':
      return RGB_ORDER;
    case 'bgr8':
    case 'bgra8':
      return BGR_ORDER;
    default:
      return MONO_ORDER;
  }
}

/**
 * Sampling tables for one target size, built once per source geometry and cached (at most 16);
 * the common case (same geometry as the last frame) allocates nothing.
 */
export class SampleTableCache {
  private readonly tables = new Map<string, SampleTable>();
  private last: SampleTable | null = null;

  constructor(private readonly target: { readonly width: number; readonly height: number; readonly resize: ResizeMode }) {}

  get(srcWidth: number, srcHeight: number, bpp: number, nearest: boolean): SampleTable {
    const l = this.last;
    if (l !== null && l.srcWidth === srcWidth && l.srcHeight === srcHeight && l.bpp === bpp && l.nearest === nearest) return l;
    const key = `${srcWidth}x${srcHeight}x${bpp}${nearest ? 'n' : 'b'}`;
    let t = this.tables.get(key);
    if (t === undefined) {
      const { width, height, resize } = this.target;
      const r = resizeRegion({ srcWidth, srcHeight, width, height, resize });
      const xs = axisTable({ start: r.x, length: r.width, target: width, nearest });
      const ys = axisTable({ start: r.y, length: r.height, target: height, nearest });
      for (let i = 0; i < width; i++) {
        xs.i0[i] *= bpp;
        xs.i1[i] *= bpp;
      }
      const half = !nearest && r.width === 2 * width && r.height === 2 * height;
      t = { srcWidth, srcHeight, bpp, nearest, x0: xs.i0, x1: xs.i1, wx: xs.w, y0: ys.i0, y1: ys.i1, wy: ys.w, half };
      if (this.tables.size >= MAX_CACHED_TABLES) {
        const oldest = this.tables.keys().next().value;
        if (oldest !== undefined) this.tables.delete(oldest);
      }
      this.tables.set(key, t);
    }
    this.last = t;
    return t;
  }
}

/**
 * Converts camera frames into normalized float32 CHW tensors for one target spec.
 * Reuse one instance per camera: it caches sampling tables per source size.
 */
export class ImagePreprocessor {
  readonly height: number;
  readonly width: number;
  readonly channels: ChannelOrder;
  readonly resize: ResizeMode;
  /** [C, H, W] */
  readonly shape: readonly [number, number, number];
  /** C * H * W */
  readonly size: number;
  /** per output channel: out = pixel * gain[c] + bias[c] */
  private readonly gain: Float64Array;
  private readonly bias: Float64Array;
  private readonly tables: SampleTableCache;

  constructor(spec: ImageSpec) {
    const { height, width, channels } = spec;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
      throw new ObservationError(`image spec size ${width}x${height} is invalid: width and height must be positive integers`);
    }
    if (channels !== 'rgb' && channels !== 'bgr' && channels !== 'mono') {
      throw new ObservationError(`image spec channels '${String(channels)}' is not supported: use 'rgb', 'bgr' or 'mono'`);
    }
    const resize = spec.resize ?? 'stretch';
    if (resize !== 'stretch' && resize !== 'center_crop') {
      throw new ObservationError(`image spec resize '${String(resize)}' is not supported: use 'stretch' or 'center_crop'`);
    }
    const c = channels === 'mono' ? 1 : 3;
    if (spec.mean.length !== c || spec.std.length !== c) {
      throw new ObservationError(
        `image spec mean/std need ${c} values for channels '${channels}', got ${spec.mean.length}/${spec.std.length}`,
      );
    }
    const scale = spec.scale ?? 1 / 255;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new ObservationError(`image spec scale ${scale} must be a positive finite number`);
    this.gain = new Float64Array(c);
    this.bias = new Float64Array(c);
    for (let i = 0; i < c; i++) {
      const s = spec.std[i];
      const m = spec.mean[i];
      if (!(s > 0) || !Number.isFinite(s)) throw new ObservationError(`image spec std[${i}] = ${s} must be a positive finite number`);
      if (!Number.isFinite(m)) throw new ObservationError(`image spec mean[${i}] = ${m} must be finite`);
      this.gain[i] = scale / s;
      this.bias[i] = -m / s;
    }
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.resize = resize;
    this.shape = [c, height, width];
    this.size = c * height * width;
    this.tables = new SampleTableCache({ width, height, resize });
  }

  /**
   * Convert one frame. Writes into `out` (length C*H*W) when given, so steady state allocates
   * nothing for raw frames; compressed frames are decoded first (which allocates).
   */
  run(frame: CameraFrame, out?: Float32Array): Float32Array {
    const raw = frame.type === 'compressed' ? decodeToRaw(frame) : frame;
    if (raw.type !== 'raw') {
      throw new ObservationError(`camera frame type '${String((raw as { type: unknown }).type)}' is not supported: use 'raw' or 'compressed'`);
    }
    const bpp = validateRawImage(raw);
    const dst = out ?? new Float32Array(this.size);
    if (dst.length !== this.size) {
      throw new ObservationError(
        `output tensor has ${dst.length} elements, but [${this.shape.join(', ')}] needs ${this.size}: allocate it with preprocessor.size`,
      );
    }
    if (raw.encoding === '16UC1') {
      if (this.channels !== 'mono') {
        throw new ObservationError(
          `cannot produce '${this.channels}' output from a 16UC1 (depth) frame: set channels to 'mono' for depth cameras`,
        );
      }
      this.runDepth(raw, this.tables.get(raw.width, raw.height, 2, true), dst);
      return dst;
    }
    const t = this.tables.get(raw.width, raw.height, bpp, false);
    const off = rgbOffsets(raw.encoding);
    const ro = off[0], go = off[1], bo = off[2];
    if (this.channels === 'mono') {
      if (raw.encoding === 'mono8') this.runColor(raw.data, raw.step, t, 0, 0, 0, 1, dst);
      else this.runLuma(raw.data, raw.step, t, ro, go, bo, dst);
    } else if (t.half) {
      if (this.channels === 'rgb') this.runColorHalf(raw.data, raw.step, t, ro, go, bo, dst);
      else this.runColorHalf(raw.data, raw.step, t, bo, go, ro, dst);
    } else if (this.channels === 'rgb') {
      this.runColor(raw.data, raw.step, t, ro, go, bo, 3, dst);
    } else {
      this.runColor(raw.data, raw.step, t, bo, go, ro, 3, dst);
    }
    return dst;
  }

  /** Bilinear over `nc` channels whose byte offsets in a source pixel are o0, o1, o2 (output order). */
  private runColor(
    d: Uint8Array,
    step: number,
    t: SampleTable,
    o0: number,
    o1: number,
    o2: number,
    nc: number,
    out: Float32Array,
  ): void {
    const W = this.width;
    const H = this.height;
    const plane = W * H;
    const { x0, x1, wx, y0, y1, wy } = t;
    const g0 = this.gain[0], b0 = this.bias[0];
    const g1 = nc > 1 ? this.gain[1] : 0, b1 = nc > 1 ? this.bias[1] : 0;
    const g2 = nc > 1 ? this.gain[2] : 0, b2 = nc > 1 ? this.bias[2] : 0;
    for (let y = 0; y < H; y++) {
      const r0 = y0[y] * step;
      const r1 = y1[y] * step;
      const fy = wy[y];
      const gy = 1 - fy;
      let o = y * W;
      for (let x = 0; x < W; x++, o++) {
        const fx = wx[x];
        const gx = 1 - fx;
        const a = r0 + x0[x], b = r0 + x1[x], c = r1 + x0[x], e = r1 + x1[x];
        const w00 = gy * gx, w01 = gy * fx, w10 = fy * gx, w11 = fy * fx;
        const v0 = w00 * d[a + o0] + w01 * d[b + o0] + w10 * d[c + o0] + w11 * d[e + o0];
        out[o] = v0 * g0 + b0;
        if (nc > 1) {
          const v1 = w00 * d[a + o1] + w01 * d[b + o1] + w10 * d[c + o1] + w11 * d[e + o1];
          const v2 = w00 * d[a + o2] + w01 * d[b + o2] + w10 * d[c + o2] + w11 * d[e + o2];
          out[o + plane] = v1 * g1 + b1;
          out[o + 2 * plane] = v2 * g2 + b2;
        }
      }
    }
  }

  /** 2x downscale of 3 channels: each output is the mean of a 2x2 block (equal to bilinear there). */
  private runColorHalf(d: Uint8Array, step: number, t: SampleTable, o0: number, o1: number, o2: number, out: Float32Array): void {
    const W = this.width;
    const H = this.height;
    const plane = W * H;
    const bpp = t.bpp;
    const g0 = this.gain[0] * 0.25, b0 = this.bias[0];
    const g1 = this.gain[1] * 0.25, b1 = this.bias[1];
    const g2 = this.gain[2] * 0.25, b2 = this.bias[2];
    const stride = 2 * bpp;
    let o = 0;
    for (let y = 0; y < H; y++) {
      // x taps are evenly spaced by 2 pixels in a 2x downscale; p/q index the block's two rows
      let p = t.y0[y] * step + t.x0[0];
      let q = p + step;
      for (let x = 0; x < W; x++, o++, p += stride, q += stride) {
        out[o] = (d[p + o0] + d[p + bpp + o0] + d[q + o0] + d[q + bpp + o0]) * g0 + b0;
        out[o + plane] = (d[p + o1] + d[p + bpp + o1] + d[q + o1] + d[q + bpp + o1]) * g1 + b1;
        out[o + 2 * plane] = (d[p + o2] + d[p + bpp + o2] + d[q + o2] + d[q + bpp + o2]) * g2 + b2;
      }
    }
  }

  /** Bilinear BT.601 luma from a colour source. */
  private runLuma(d: Uint8Array, step: number, t: SampleTable, ro: number, go: number, bo: number, out: Float32Array): void {
    const W = this.width;
    const H = this.height;
    const { x0, x1, wx, y0, y1, wy } = t;
    const g = this.gain[0], bi = this.bias[0];
    for (let y = 0; y < H; y++) {
      const r0 = y0[y] * step;
      const r1 = y1[y] * step;
      const fy = wy[y];
      const gy = 1 - fy;
      let o = y * W;
      for (let x = 0; x < W; x++, o++) {
        const fx = wx[x];
        const gx = 1 - fx;
        const a = r0 + x0[x], b = r0 + x1[x], c = r1 + x0[x], e = r1 + x1[x];
        const w00 = gy * gx, w01 = gy * fx, w10 = fy * gx, w11 = fy * fx;
        const R = w00 * d[a + ro] + w01 * d[b + ro] + w10 * d[c + ro] + w11 * d[e + ro];
        const G = w00 * d[a + go] + w01 * d[b + go] + w10 * d[c + go] + w11 * d[e + go];
        const B = w00 * d[a + bo] + w01 * d[b + bo] + w10 * d[c + bo] + w11 * d[e + bo];
        out[o] = (0.299 * R + 0.587 * G + 0.114 * B) * g + bi;
      }
    }
  }

  /** Nearest-neighbour uint16 depth. */
  private runDepth(raw: RawImage, t: SampleTable, out: Float32Array): void {
    const W = this.width;
    const H = this.height;
    const d = raw.data;
    const step = raw.step;
    const { x0, y0 } = t;
    const g = this.gain[0], bi = this.bias[0];
    const be = raw.bigEndian === true;
    for (let y = 0; y < H; y++) {
      const r = y0[y] * step;
      let o = y * W;
      for (let x = 0; x < W; x++, o++) {
        const p = r + x0[x];
        const v = be ? (d[p] << 8) | d[p + 1] : d[p] | (d[p + 1] << 8);
        out[o] = v * g + bi;
      }
    }
  }
}

/**
 * Decode a JPEG or PNG frame into 8-bit RGB (JPEG) or RGBA (PNG) bytes, keeping its stamp.
 * 16-bit PNGs are reduced to 8 bits by pngjs.
 */
export function decodeToRaw(frame: CompressedImage): RawImage {
  const format: string = frame.format;
  if (format === 'jpeg' || format === 'jpg') {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(frame.data, { useTArray: true, formatAsRGBA: false });
    } catch (cause) {
      throw new ObservationError(
        `cannot decode JPEG frame (${frame.data.length} bytes): ${(cause as Error).message}; check that the data is a complete JPEG and the format field is right`,
        { cause },
      );
    }
    return { type: 'raw', encoding: 'rgb8', width: img.width, height: img.height, step: img.width * 3, data: img.data, stamp: frame.stamp };
  }
  if (format === 'png') {
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
    } catch (cause) {
      throw new ObservationError(
        `cannot decode PNG frame (${frame.data.length} bytes): ${(cause as Error).message}; check that the data is a complete PNG and the format field is right`,
        { cause },
      );
    }
    const data = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
    return { type: 'raw', encoding: 'rgba8', width: png.width, height: png.height, step: png.width * 4, data, stamp: frame.stamp };
  }
  throw new ObservationError(`camera frame encoding '${format}' is not supported: use one of ${SUPPORTED}`);
}

/** Encode an 8-bit raw frame (any encoding but 16UC1) as PNG bytes, e.g. for fixtures and examples. */
export function encodePng(raw: RawImage): Uint8Array {
  const bpp = validateRawImage(raw);
  if (raw.encoding === '16UC1') throw new ObservationError('encodePng supports 8-bit encodings only; 16UC1 depth cannot be written as 8-bit PNG');
  const [ro, go, bo] = rgbOffsets(raw.encoding);
  const png = new PNG({ width: raw.width, height: raw.height });
  const d = raw.data;
  for (let y = 0; y < raw.height; y++) {
    for (let x = 0; x < raw.width; x++) {
      const s = y * raw.step + x * bpp;
      const o = (y * raw.width + x) * 4;
      png.data[o] = d[s + ro];
      png.data[o + 1] = d[s + go];
      png.data[o + 2] = d[s + bo];
      png.data[o + 3] = bpp === 4 ? d[s + 3] : 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}
