import { describe, expect, it } from 'vitest';
import { ObservationError } from '../../src/errors.ts';
import { ImagePreprocessor, encodePng, type ResizeMode } from '../../src/observation/image.ts';
import { PixelPreprocessor } from '../../src/observation/pixels.ts';
import { allocBytesPerCall } from '../../src/observation/preprocess-bench.ts';
import type { RawEncoding, RawImage } from '../../src/observation/types.ts';
import { Rng } from '../../src/util/random.ts';

const BPP: Record<RawEncoding, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1, '16UC1': 2 };
/** byte offsets of R, G, B in a source pixel */
const RGB_AT: Record<RawEncoding, [number, number, number]> = {
  rgb8: [0, 1, 2], rgba8: [0, 1, 2], bgr8: [2, 1, 0], bgra8: [2, 1, 0], mono8: [0, 0, 0], '16UC1': [0, 0, 0],
};

function randomRaw(rng: Rng, encoding: RawEncoding, width: number, height: number, pad = 0): RawImage {
  const step = width * BPP[encoding] + pad;
  const data = new Uint8Array(step * height);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { type: 'raw', encoding, width, height, step, data, stamp: 0 };
}

/** The same picture in another encoding (alpha random, rows padded by `pad`). */
function reencode(src: RawImage, encoding: RawEncoding, rng: Rng, pad = 0): RawImage {
  const bpp = BPP[encoding];
  const step = src.width * bpp + pad;
  const data = new Uint8Array(step * src.height);
  const [r, g, b] = RGB_AT[src.encoding];
  const [R, G, B] = RGB_AT[encoding];
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < src.width; x++) {
      const s = y * src.step + x * BPP[src.encoding];
      const o = y * step + x * bpp;
      data[o + R] = src.data[s + r]!;
      data[o + G] = src.data[s + g]!;
      data[o + B] = src.data[s + b]!;
      if (bpp === 4) data[o + 3] = rng.int(256);
    }
  }
  return { ...src, encoding, step, data };
}

/** rgb8 bytes of a frame as an HWC array (what the copy path must reproduce). */
function rgbBytes(raw: RawImage): Uint8Array {
  const out = new Uint8Array(raw.width * raw.height * 3);
  const [r, g, b] = RGB_AT[raw.encoding];
  for (let y = 0, o = 0; y < raw.height; y++) {
    for (let x = 0; x < raw.width; x++, o += 3) {
      const s = y * raw.step + x * BPP[raw.encoding];
      out[o] = raw.data[s + r]!;
      out[o + 1] = raw.data[s + g]!;
      out[o + 2] = raw.data[s + b]!;
    }
  }
  return out;
}

/** Float bilinear reference in HWC from ImagePreprocessor (unit scale, no normalization). */
function floatReference(raw: RawImage, opts: { height: number; width: number; channels: 'rgb' | 'bgr' | 'mono'; resize: ResizeMode }): Float32Array {
  const nc = opts.channels === 'mono' ? 1 : 3;
  const chw = new ImagePreprocessor({ ...opts, scale: 1, mean: new Array(nc).fill(0), std: new Array(nc).fill(1) }).run(raw);
  const plane = opts.height * opts.width;
  const hwc = new Float32Array(chw.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < nc; c++) hwc[p * nc + c] = chw[c * plane + p]!;
  return hwc;
}

function maxRoundingError(got: Uint8Array, ref: Float32Array): number {
  let e = 0;
  for (let i = 0; i < got.length; i++) e = Math.max(e, Math.abs(got[i]! - ref[i]!));
  return e;
}

describe('PixelPreprocessor: uint8 HWC pixels for graphs that preprocess themselves', () => {
  const rng = new Rng(11);
  const frame = randomRaw(rng, 'rgb8', 16, 12);
  const spec = { height: 12, width: 16, channels: 'rgb' as const };

  it('copies an rgb8 frame of the graph size byte for byte (fast path)', () => {
    const pre = new PixelPreprocessor(spec);
    const out = pre.run(frame);
    expect(pre.lastPath).toBe('copy');
    expect(pre.shape).toEqual([12, 16, 3]);
    expect(Array.from(out)).toEqual(Array.from(frame.data));
  });

  it('honours step padding and over-long buffers on the copy path', () => {
    const padded = reencode(frame, 'rgb8', rng, 5);
    const longer: RawImage = { ...frame, data: Uint8Array.from([...frame.data, 1, 2, 3, 4]) };
    const pre = new PixelPreprocessor(spec);
    expect(Array.from(pre.run(padded))).toEqual(Array.from(frame.data));
    expect(pre.lastPath).toBe('copy');
    expect(Array.from(pre.run(longer))).toEqual(Array.from(frame.data));
  });

  it.each(['bgr8', 'rgba8', 'bgra8'] as const)('converts %s of the graph size to the same rgb bytes', (enc) => {
    const pre = new PixelPreprocessor(spec);
    const out = pre.run(reencode(frame, enc, rng, 3));
    expect(pre.lastPath).toBe('reorder');
    expect(Array.from(out)).toEqual(Array.from(frame.data));
  });

  it("fills a 'bgr' graph input from bgr8 by copy and from rgb8 by swapping", () => {
    const bgr = reencode(frame, 'bgr8', rng);
    const pre = new PixelPreprocessor({ ...spec, channels: 'bgr' });
    expect(Array.from(pre.run(bgr))).toEqual(Array.from(bgr.data));
    expect(pre.lastPath).toBe('copy');
    expect(Array.from(pre.run(frame))).toEqual(Array.from(bgr.data));
    expect(pre.lastPath).toBe('reorder');
  });

  it('replicates mono8 into rgb and takes rounded BT.601 luma for mono targets', () => {
    const mono = randomRaw(rng, 'mono8', 16, 12, 2);
    const rgb = new PixelPreprocessor(spec).run(mono);
    for (let p = 0; p < 12 * 16; p++) {
      const v = mono.data[Math.floor(p / 16) * mono.step + (p % 16)]!;
      expect([rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]]).toEqual([v, v, v]);
    }
    const luma = new PixelPreprocessor({ ...spec, channels: 'mono' }).run(frame);
    expect(luma.length).toBe(12 * 16);
    for (let p = 0; p < luma.length; p++) {
      const [r, g, b] = [frame.data[3 * p]!, frame.data[3 * p + 1]!, frame.data[3 * p + 2]!];
      expect(luma[p]).toBe(Math.round(0.299 * r + 0.587 * g + 0.114 * b));
    }
  });

  it('downscales an exact 2x frame to the rounded mean of each 2x2 block', () => {
    const big = randomRaw(rng, 'bgr8', 32, 24, 4);
    const pre = new PixelPreprocessor(spec);
    const out = pre.run(big);
    expect(pre.lastPath).toBe('half');
    const rgb = rgbBytes(big);
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 16; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number) => rgb[(yy * 32 + xx) * 3 + c]!;
          const sum = at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1);
          expect(out[(y * 16 + x) * 3 + c]).toBe(Math.floor(sum / 4 + 0.5));
        }
      }
    }
  });

  it.each([
    ['bgr8', 64, 48, 'center_crop'],
    ['rgba8', 20, 30, 'stretch'],
    ['rgb8', 7, 5, 'stretch'],
    ['mono8', 40, 40, 'center_crop'],
  ] as const)('resizes %s %ix%i (%s) to the nearest integer of the float bilinear result', (enc, w, h, resize) => {
    const raw = randomRaw(rng, enc, w, h, 1);
    const target = { height: 12, width: 16, channels: 'rgb' as const, resize };
    const pre = new PixelPreprocessor(target);
    const out = pre.run(raw);
    expect(pre.lastPath).toBe('bilinear');
    expect(maxRoundingError(out, floatReference(raw, target))).toBeLessThanOrEqual(0.5001);
    const mono = { ...target, channels: 'mono' as const };
    expect(maxRoundingError(new PixelPreprocessor(mono).run(raw), floatReference(raw, mono))).toBeLessThanOrEqual(0.5001);
  });

  it('decodes compressed frames to the same pixels as the raw frame', () => {
    const png = { type: 'compressed' as const, format: 'png' as const, data: encodePng(frame), stamp: 0 };
    expect(Array.from(new PixelPreprocessor(spec).run(png))).toEqual(Array.from(frame.data));
  });

  it('allocates nothing per frame on the copy and resize paths', () => {
    const pre = new PixelPreprocessor({ height: 128, width: 128, channels: 'rgb' });
    const out = new Uint8Array(pre.size);
    const same = randomRaw(rng, 'rgb8', 128, 128);
    const big = randomRaw(rng, 'bgr8', 320, 240);
    for (const f of [same, big]) {
      const once = (): void => {
        pre.run(f, out);
      };
      for (let i = 0; i < 200; i++) once();
      const a = allocBytesPerCall(once, { calls: 300, windows: 5 });
      expect(a.gcFreeWindows).toBeGreaterThan(0);
      expect(a.bytesPerCall).toBeLessThan(8);
    }
  });

  it('rejects depth, wrong buffers, bad specs and truncated frames with errors that name the fix', () => {
    const pre = new PixelPreprocessor(spec);
    const depth = randomRaw(rng, '16UC1', 16, 12);
    expect(() => pre.run(depth)).toThrow(ObservationError);
    expect(() => pre.run(depth)).toThrow(/16UC1 \(depth\) frame cannot fill a uint8 pixel input: export the depth camera with a float input/);
    expect(() => pre.run(frame, new Uint8Array(10))).toThrow(/pixel buffer has 10 bytes, but \[12, 16, 3\] needs 576/);
    expect(() => new PixelPreprocessor({ ...spec, width: 0 })).toThrow(/pixel spec size 0x12 is invalid/);
    expect(() => new PixelPreprocessor({ ...spec, channels: 'rgbd' as 'rgb' })).toThrow(/channels 'rgbd' is not supported/);
    expect(() => pre.run({ ...frame, data: frame.data.subarray(0, 100) })).toThrow(/camera frame data is too short: 100 bytes/);
  });
});
