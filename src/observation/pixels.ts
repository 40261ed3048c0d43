/**
 * Camera frame -> uint8 HWC pixels [H, W, C] for graphs that preprocess images themselves
 * (manifest `cameras[].pixels`): the graph casts, normalizes, transposes and resizes in
 * native code, so the JS side only moves bytes.
 *
 * Paths, fastest first:
 * - 'copy': raw frame already in the target channel order (rgb8 for 'rgb', bgr8 for 'bgr',
 *   mono8 for 'mono') at exactly H x W: a byte copy honouring `step` (allocates nothing when
 *   the data holds exactly H * step bytes and step == W * C).
 * - 'reorder': same size, other encoding (bgr8/rgba8/bgra8 -> rgb, colour -> BT.601 luma).
 * - 'half': exact 2x downscale of a colour frame: the mean of each 2x2 block.
 * - 'bilinear': any other size, with the same geometry as ImagePreprocessor (half-pixel
 *   centres, 'stretch' or 'center_crop').
 * Converted values are rounded to the nearest integer (ties up), so a frame that is already
 * right is reproduced exactly by every path. Compressed frames are decoded first (allocates).
 */
import { ObservationError } from '../errors.ts';
import { decodeToRaw, rgbOffsets, SampleTableCache, validateRawImage, type ChannelOrder, type ResizeMode, type SampleTable } from './image.ts';
import type { CameraFrame, RawEncoding } from './types.ts';

/** Target pixel buffer: what the graph's uint8 input expects. */
export interface PixelSpec {
  /** graph input height, px */
  readonly height: number;
  /** graph input width, px */
  readonly width: number;
  /** channel order of the graph input (C = 3, or 1 for 'mono') */
  readonly channels: ChannelOrder;
  /** how frames of another size are fitted; default 'stretch' */
  readonly resize?: ResizeMode;
}

export type PixelPath = 'copy' | 'reorder' | 'half' | 'bilinear';

/** The raw encoding whose bytes are already laid out as the target wants them. */
function nativeEncoding(channels: ChannelOrder): RawEncoding {
  return channels === 'rgb' ? 'rgb8' : channels === 'bgr' ? 'bgr8' : 'mono8';
}

/**
 * Fills uint8 HWC buffers from camera frames for one target spec. Reuse one instance per camera:
 * it caches sampling tables per source size.
 */
export class PixelPreprocessor {
  readonly height: number;
  readonly width: number;
  readonly channels: ChannelOrder;
  readonly resize: ResizeMode;
  /** [H, W, C] */
  readonly shape: readonly [number, number, number];
  /** H * W * C, bytes */
  readonly size: number;
  /** which path the last run() took (for tests and benchmarks) */
  lastPath: PixelPath | null = null;
  private readonly nc: number;
  private readonly native: RawEncoding;
  private readonly tables: SampleTableCache;

  constructor(spec: PixelSpec) {
    const { height, width, channels } = spec;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
      throw new ObservationError(`pixel spec size ${width}x${height} is invalid: width and height must be positive integers`);
    }
    if (channels !== 'rgb' && channels !== 'bgr' && channels !== 'mono') {
      throw new ObservationError(`pixel spec channels '${String(channels)}' is not supported: use 'rgb', 'bgr' or 'mono'`);
    }
    const resize = spec.resize ?? 'stretch';
    if (resize !== 'stretch' && resize !== 'center_crop') {
      throw new ObservationError(`pixel spec resize '${String(resize)}' is not supported: use 'stretch' or 'center_crop'`);
    }
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.resize = resize;
    this.nc = channels === 'mono' ? 1 : 3;
    this.shape = [height, width, this.nc];
    this.size = height * width * this.nc;
    this.native = nativeEncoding(channels);
    this.tables = new SampleTableCache({ width, height, resize });
  }

  /**
   * The frame's own bytes when they already are the target tensor (raw, target channel order,
   * exactly H x W, rows packed, no trailing bytes), so a graph can read them without a copy;
   * null when run() has to convert.
   */
  exactBytes(frame: CameraFrame): Uint8Array | null {
    if (frame.type !== 'raw' || frame.encoding !== this.native) return null;
    if (frame.width !== this.width || frame.height !== this.height || frame.step !== this.width * this.nc) return null;
    return frame.data.length === this.size ? frame.data : null;
  }

  /** Convert one frame into `out` (length H*W*C; allocated when omitted). */
  run(frame: CameraFrame, out?: Uint8Array): Uint8Array {
    const raw = frame.type === 'compressed' ? decodeToRaw(frame) : frame;
    if (raw.type !== 'raw') {
      throw new ObservationError(`camera frame type '${String((raw as { type: unknown }).type)}' is not supported: use 'raw' or 'compressed'`);
    }
    const bpp = validateRawImage(raw);
    const dst = out ?? new Uint8Array(this.size);
    if (dst.length !== this.size) {
      throw new ObservationError(
        `pixel buffer has ${dst.length} bytes, but [${this.shape.join(', ')}] needs ${this.size}: allocate it with preprocessor.size`,
      );
    }
    if (raw.encoding === '16UC1') {
      throw new ObservationError(
        'a 16UC1 (depth) frame cannot fill a uint8 pixel input: export the depth camera with a float input (no cameras.pixels block) and channels \'mono\'',
      );
    }
    const W = this.width;
    const H = this.height;
    const d = raw.data;
    const step = raw.step;
    if (raw.width === W && raw.height === H) {
      if (raw.encoding === this.native) {
        this.copy(d, step, dst);
        this.lastPath = 'copy';
      } else {
        this.reorder(d, step, bpp, raw.encoding, dst);
        this.lastPath = 'reorder';
      }
      return dst;
    }
    const t = this.tables.get(raw.width, raw.height, bpp, false);
    // indexed, not destructured: array destructuring allocates an iterator per frame
    const off = rgbOffsets(raw.encoding);
    const ro = off[0], go = off[1], bo = off[2];
    if (this.nc === 3 && t.half) {
      if (this.channels === 'rgb') this.half(d, step, t, ro, go, bo, dst);
      else this.half(d, step, t, bo, go, ro, dst);
      this.lastPath = 'half';
      return dst;
    }
    if (this.nc === 1 && raw.encoding !== 'mono8') this.bilinearLuma(d, step, t, ro, go, bo, dst);
    else if (this.nc === 1) this.bilinear(d, step, t, 0, 0, 0, dst);
    else if (this.channels === 'rgb') this.bilinear(d, step, t, ro, go, bo, dst);
    else this.bilinear(d, step, t, bo, go, ro, dst);
    this.lastPath = 'bilinear';
    return dst;
  }

  /** Rows of W*C bytes, `step` apart in the source. */
  private copy(d: Uint8Array, step: number, out: Uint8Array): void {
    const row = this.width * this.nc;
    if (step === row) {
      // one memcpy; no view needed when the data is exactly the image
      out.set(d.length === this.size ? d : d.subarray(0, this.size));
      return;
    }
    for (let y = 0, o = 0, s = 0; y < this.height; y++, o += row, s += step) out.set(d.subarray(s, s + row), o);
  }

  /** Same size, other encoding: per-pixel channel shuffle or luma. */
  private reorder(d: Uint8Array, step: number, bpp: number, encoding: RawEncoding, out: Uint8Array): void {
    const W = this.width;
    const H = this.height;
    const off = rgbOffsets(encoding);
    const ro = off[0], go = off[1], bo = off[2];
    let o = 0;
    if (this.nc === 1) {
      for (let y = 0; y < H; y++) {
        for (let x = 0, p = y * step; x < W; x++, p += bpp) out[o++] = (0.299 * d[p + ro] + 0.587 * d[p + go] + 0.114 * d[p + bo] + 0.5) | 0;
      }
      return;
    }
    // output channel k reads source offset a/b/c (mono8 sources replicate their one byte)
    const a = this.channels === 'rgb' ? ro : bo;
    const c = this.channels === 'rgb' ? bo : ro;
    for (let y = 0; y < H; y++) {
      for (let x = 0, p = y * step; x < W; x++, p += bpp, o += 3) {
        out[o] = d[p + a];
        out[o + 1] = d[p + go];
        out[o + 2] = d[p + c];
      }
    }
  }

  /** 2x downscale: each output is the rounded mean of a 2x2 block (equal to bilinear there). */
  private half(d: Uint8Array, step: number, t: SampleTable, o0: number, o1: number, o2: number, out: Uint8Array): void {
    const W = this.width;
    const H = this.height;
    const bpp = t.bpp;
    const stride = 2 * bpp;
    let o = 0;
    for (let y = 0; y < H; y++) {
      let p = t.y0[y] * step + t.x0[0];
      let q = p + step;
      for (let x = 0; x < W; x++, o += 3, p += stride, q += stride) {
        // (sum + 2) >> 2 is round-half-up of sum / 4
        out[o] = (d[p + o0] + d[p + bpp + o0] + d[q + o0] + d[q + bpp + o0] + 2) >> 2;
        out[o + 1] = (d[p + o1] + d[p + bpp + o1] + d[q + o1] + d[q + bpp + o1] + 2) >> 2;
        out[o + 2] = (d[p + o2] + d[p + bpp + o2] + d[q + o2] + d[q + bpp + o2] + 2) >> 2;
      }
    }
  }

  /** Bilinear over nc channels (source byte offsets o0, o1, o2 in output order), rounded. */
  private bilinear(d: Uint8Array, step: number, t: SampleTable, o0: number, o1: number, o2: number, out: Uint8Array): void {
    const W = this.width;
    const H = this.height;
    const nc = this.nc;
    const { x0, x1, wx, y0, y1, wy } = t;
    let o = 0;
    for (let y = 0; y < H; y++) {
      const r0 = y0[y] * step;
      const r1 = y1[y] * step;
      const fy = wy[y];
      const gy = 1 - fy;
      for (let x = 0; x < W; x++, o += nc) {
        const fx = wx[x];
        const gx = 1 - fx;
        const a = r0 + x0[x], b = r0 + x1[x], c = r1 + x0[x], e = r1 + x1[x];
        const w00 = gy * gx, w01 = gy * fx, w10 = fy * gx, w11 = fy * fx;
        out[o] = (w00 * d[a + o0] + w01 * d[b + o0] + w10 * d[c + o0] + w11 * d[e + o0] + 0.5) | 0;
        if (nc > 1) {
          out[o + 1] = (w00 * d[a + o1] + w01 * d[b + o1] + w10 * d[c + o1] + w11 * d[e + o1] + 0.5) | 0;
          out[o + 2] = (w00 * d[a + o2] + w01 * d[b + o2] + w10 * d[c + o2] + w11 * d[e + o2] + 0.5) | 0;
        }
      }
    }
  }

  /** Bilinear BT.601 luma from a colour source, rounded. */
  private bilinearLuma(d: Uint8Array, step: number, t: SampleTable, ro: number, go: number, bo: number, out: Uint8Array): void {
    const W = this.width;
    const H = this.height;
    const { x0, x1, wx, y0, y1, wy } = t;
    let o = 0;
    for (let y = 0; y < H; y++) {
      const r0 = y0[y] * step;
      const r1 = y1[y] * step;
      const fy = wy[y];
      const gy = 1 - fy;
      for (let x = 0; x < W; x++, o++) {
        const fx = wx[x];
        const gx = 1 - fx;
        const a = r0 + x0[x], b = r0 + x1[x], c = r1 + x0[x], e = r1 + x1[x];
        const w00 = gy * gx, w01 = gy * fx, w10 = fy * gx, w11 = fy * fx;
        const R = w00 * d[a + ro] + w01 * d[b + ro] + w10 * d[c + ro] + w11 * d[e + ro];
        const G = w00 * d[a + go] + w01 * d[b + go] + w10 * d[c + go] + w11 * d[e + go];
        const B = w00 * d[a + bo] + w01 * d[b + bo] + w10 * d[c + bo] + w11 * d[e + bo];
        out[o] = (0.299 * R + 0.587 * G + 0.114 * B + 0.5) | 0;
      }
    }
  }
}
