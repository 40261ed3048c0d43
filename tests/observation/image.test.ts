import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ObservationError } from '../../src/errors.ts';
import {
  ImagePreprocessor,
  decodeToRaw,
  encodePng,
  resizeRegion,
  type ImageSpec,
  type ResizeMode,
} from '../../src/observation/image.ts';
import { RAW_ENCODINGS, type CompressedImage, type RawEncoding, type RawImage } from '../../src/observation/types.ts';
import { Rng } from '../../src/util/random.ts';

const BPP: Record<RawEncoding, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1, '16UC1': 2 };

function randomRaw(rng: Rng, encoding: RawEncoding, width: number, height: number, pad = 0, bigEndian = false): RawImage {
  const step = width * BPP[encoding] + pad;
  const data = new Uint8Array(step * height);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { type: 'raw', encoding, width, height, step, data, bigEndian, stamp: 1 };
}

/** Straightforward reference: one pixel at a time, float64, no tables. */
function reference(raw: RawImage, spec: ImageSpec): Float64Array {
  const bpp = BPP[raw.encoding];
  const pixel = (x: number, y: number): [number, number, number] => {
    const o = y * raw.step + x * bpp;
    const d = raw.data;
    switch (raw.encoding) {
      case 'rgb8':
      case 'rgba8':
        return [d[o], d[o + 1], d[o + 2]];
      case 'bgr8':
      case 'bgra8':
        return [d[o + 2], d[o + 1], d[o]];
      case 'mono8':
        return [d[o], d[o], d[o]];
      case '16UC1': {
        const v = raw.bigEndian ? d[o] * 256 + d[o + 1] : d[o] + d[o + 1] * 256;
        return [v, v, v];
      }
    }
  };
  // crop rectangle, computed the long way
  let cx = 0, cy = 0, cw = raw.width, ch = raw.height;
  if ((spec.resize ?? 'stretch') === 'center_crop') {
    const targetAspect = spec.width / spec.height;
    if (raw.width / raw.height > targetAspect) {
      cw = Math.round(raw.height * targetAspect);
      cx = Math.floor((raw.width - cw) / 2);
    } else {
      ch = Math.round(raw.width / targetAspect);
      cy = Math.floor((raw.height - ch) / 2);
    }
  }
  const nc = spec.channels === 'mono' ? 1 : 3;
  const out = new Float64Array(nc * spec.height * spec.width);
  const scale = spec.scale ?? 1 / 255;
  for (let ty = 0; ty < spec.height; ty++) {
    for (let tx = 0; tx < spec.width; tx++) {
      let rgb: number[];
      if (raw.encoding === '16UC1') {
        const sx = cx + Math.min(cw - 1, Math.floor(((tx + 0.5) * cw) / spec.width));
        const sy = cy + Math.min(ch - 1, Math.floor(((ty + 0.5) * ch) / spec.height));
        rgb = pixel(sx, sy);
      } else {
        const fx = Math.min(Math.max(((tx + 0.5) * cw) / spec.width - 0.5, 0), cw - 1);
        const fy = Math.min(Math.max(((ty + 0.5) * ch) / spec.height - 0.5, 0), ch - 1);
        const xa = Math.floor(fx), ya = Math.floor(fy);
        const xb = Math.min(xa + 1, cw - 1), yb = Math.min(ya + 1, ch - 1);
        const ax = fx - xa, ay = fy - ya;
        const p00 = pixel(cx + xa, cy + ya), p01 = pixel(cx + xb, cy + ya);
        const p10 = pixel(cx + xa, cy + yb), p11 = pixel(cx + xb, cy + yb);
        rgb = [0, 1, 2].map(
          (c) => (1 - ay) * ((1 - ax) * p00[c] + ax * p01[c]) + ay * ((1 - ax) * p10[c] + ax * p11[c]),
        );
      }
      const vals =
        spec.channels === 'rgb' ? rgb : spec.channels === 'bgr' ? [rgb[2], rgb[1], rgb[0]] : raw.encoding === 'mono8' || raw.encoding === '16UC1' ? [rgb[0]] : [0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]];
      for (let c = 0; c < nc; c++) {
        out[(c * spec.height + ty) * spec.width + tx] = (vals[c] * scale - spec.mean[c]) / spec.std[c];
      }
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const COLOR_SPEC = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const MONO_SPEC = { mean: [0.5], std: [0.25] };

describe('ImagePreprocessor against a per-pixel reference', () => {
  const rng = new Rng(42);
  const sizes: [number, number, number, number][] = [
    // src w, src h, target w, target h
    [13, 9, 5, 7], // downscale, different aspect
    [6, 4, 11, 9], // upscale
    [20, 10, 8, 8],
    [7, 15, 6, 4],
  ];
  for (const encoding of RAW_ENCODINGS) {
    const outs = encoding === '16UC1' ? (['mono'] as const) : (['rgb', 'bgr', 'mono'] as const);
    for (const channels of outs) {
      for (const resize of ['stretch', 'center_crop'] as ResizeMode[]) {
        it(`${encoding} -> ${channels}, ${resize}`, () => {
          for (const [sw, sh, tw, th] of sizes) {
            for (const pad of [0, 3]) {
              const raw = randomRaw(rng, encoding, sw, sh, pad, encoding === '16UC1' && pad > 0);
              const spec: ImageSpec = {
                height: th,
                width: tw,
                channels,
                resize,
                scale: encoding === '16UC1' ? 1 / 65535 : 1 / 255, // keeps values O(1), so float32 rounding stays < 1e-5
                ...(channels === 'mono' ? MONO_SPEC : COLOR_SPEC),
              };
              const got = new ImagePreprocessor(spec).run(raw);
              expect(maxAbsDiff(got, reference(raw, spec))).toBeLessThan(1e-5);
            }
          }
        });
      }
    }
  }

  it('reuses the output buffer and caches tables per source size', () => {
    const spec: ImageSpec = { height: 8, width: 8, channels: 'rgb', resize: 'center_crop', ...COLOR_SPEC };
    const pre = new ImagePreprocessor(spec);
    const out = new Float32Array(pre.size);
    const a = randomRaw(rng, 'bgr8', 30, 20);
    const b = randomRaw(rng, 'rgb8', 17, 33);
    for (const f of [a, b, a, b]) {
      expect(pre.run(f, out)).toBe(out);
      expect(maxAbsDiff(out, reference(f, spec))).toBeLessThan(1e-5);
    }
  });
});

describe('geometry', () => {
  it('bilinear uses half-pixel centres (cv2 INTER_LINEAR convention)', () => {
    const raw: RawImage = { type: 'raw', encoding: 'mono8', width: 2, height: 1, step: 2, data: Uint8Array.from([0, 100]), stamp: 0 };
    const out = new ImagePreprocessor({ height: 1, width: 4, channels: 'mono', scale: 1, mean: [0], std: [1] }).run(raw);
    expect(Array.from(out)).toEqual([0, 25, 75, 100]);
  });

  it('depth nearest picks the pixel under each target centre', () => {
    const data = new Uint8Array(new Uint16Array([10, 20, 30, 40]).buffer);
    const raw: RawImage = { type: 'raw', encoding: '16UC1', width: 4, height: 1, step: 8, data, stamp: 0 };
    const out = new ImagePreprocessor({ height: 1, width: 2, channels: 'mono', scale: 1, mean: [0], std: [1] }).run(raw);
    expect(Array.from(out)).toEqual([20, 40]);
  });

  it('center crop region keeps the target aspect, centred', () => {
    expect(resizeRegion({ srcWidth: 640, srcHeight: 480, width: 128, height: 128, resize: 'center_crop' })).toEqual({ x: 80, y: 0, width: 480, height: 480 });
    expect(resizeRegion({ srcWidth: 100, srcHeight: 50, width: 10, height: 20, resize: 'center_crop' })).toEqual({ x: 37, y: 0, width: 25, height: 50 });
    expect(resizeRegion({ srcWidth: 30, srcHeight: 100, width: 16, height: 9, resize: 'center_crop' })).toEqual({ x: 0, y: 41, width: 30, height: 17 });
    expect(resizeRegion({ srcWidth: 640, srcHeight: 480, width: 128, height: 128, resize: 'stretch' })).toEqual({ x: 0, y: 0, width: 640, height: 480 });
  });

  it('center crop to the crop size copies the central pixels exactly', () => {
    // 8x4 mono, column index as value; a 4x4 centre crop is columns 2..5
    const data = new Uint8Array(32);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) data[y * 8 + x] = x * 10 + y;
    const raw: RawImage = { type: 'raw', encoding: 'mono8', width: 8, height: 4, step: 8, data, stamp: 0 };
    const out = new ImagePreprocessor({ height: 4, width: 4, channels: 'mono', resize: 'center_crop', scale: 1, mean: [0], std: [1] }).run(raw);
    const expected: number[] = [];
    for (let y = 0; y < 4; y++) for (let x = 2; x < 6; x++) expected.push(x * 10 + y);
    expect(Array.from(out)).toEqual(expected);
  });

  it('pixels outside the center crop never contribute', () => {
    const raw: RawImage = { type: 'raw', encoding: 'rgb8', width: 64, height: 16, step: 192, data: new Uint8Array(64 * 16 * 3).fill(255), stamp: 0 };
    for (let y = 0; y < 16; y++) raw.data.fill(0, (y * 64 + 24) * 3, (y * 64 + 40) * 3); // black centre columns 24..39
    const out = new ImagePreprocessor({ height: 5, width: 5, channels: 'rgb', resize: 'center_crop', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }).run(raw);
    expect(Math.max(...out)).toBe(0);
  });
});

describe('channels and encodings', () => {
  const rng = new Rng(3);
  it('rgb8 and the byte-swapped bgr8 give the same tensor; bgr output reverses the planes', () => {
    const rgb = randomRaw(rng, 'rgb8', 9, 7);
    const bgrData = rgb.data.slice();
    for (let i = 0; i < bgrData.length; i += 3) [bgrData[i], bgrData[i + 2]] = [rgb.data[i + 2], rgb.data[i]];
    const bgr: RawImage = { ...rgb, encoding: 'bgr8', data: bgrData };
    const spec = { height: 5, width: 6, scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };
    const toRgb = new ImagePreprocessor({ ...spec, channels: 'rgb' });
    const toBgr = new ImagePreprocessor({ ...spec, channels: 'bgr' });
    const a = toRgb.run(rgb);
    expect(maxAbsDiff(a, toRgb.run(bgr))).toBe(0);
    const b = toBgr.run(rgb);
    const plane = 30;
    expect(Array.from(b.subarray(0, plane))).toEqual(Array.from(a.subarray(2 * plane)));
    expect(Array.from(b.subarray(plane, 2 * plane))).toEqual(Array.from(a.subarray(plane, 2 * plane)));
    expect(Array.from(b.subarray(2 * plane))).toEqual(Array.from(a.subarray(0, plane)));
  });

  it('mono output from colour is BT.601 luma', () => {
    const raw: RawImage = { type: 'raw', encoding: 'bgra8', width: 1, height: 1, step: 4, data: Uint8Array.from([30, 20, 10, 0]), stamp: 0 };
    const out = new ImagePreprocessor({ height: 1, width: 1, channels: 'mono', scale: 1, mean: [0], std: [1] }).run(raw);
    expect(out[0]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30, 5);
  });

  it('stride padding is skipped', () => {
    const tight = randomRaw(rng, 'rgba8', 10, 6);
    const step = 10 * 4 + 7;
    const padded = new Uint8Array(step * 6).fill(255);
    for (let y = 0; y < 6; y++) padded.set(tight.data.subarray(y * 40, y * 40 + 40), y * step);
    const pre = new ImagePreprocessor({ height: 4, width: 4, channels: 'rgb', ...COLOR_SPEC });
    expect(maxAbsDiff(pre.run(tight), pre.run({ ...tight, step, data: padded }))).toBe(0);
  });

  it('16UC1 honours bigEndian', () => {
    const data = Uint8Array.from([0x12, 0x34]);
    const pre = new ImagePreprocessor({ height: 1, width: 1, channels: 'mono', scale: 1, mean: [0], std: [1] });
    const base: RawImage = { type: 'raw', encoding: '16UC1', width: 1, height: 1, step: 2, data, stamp: 0 };
    expect(pre.run({ ...base, bigEndian: true })[0]).toBe(0x1234);
    expect(pre.run({ ...base, bigEndian: false })[0]).toBe(0x3412);
    expect(pre.run(base)[0]).toBe(0x3412);
  });
});

describe('compressed frames', () => {
  const rng = new Rng(11);
  it('PNG round trip is lossless and matches the raw path', () => {
    const raw = randomRaw(rng, 'rgba8', 12, 8);
    const png = new PNG({ width: 12, height: 8 });
    png.data.set(raw.data);
    const frame: CompressedImage = { type: 'compressed', format: 'png', data: new Uint8Array(PNG.sync.write(png)), stamp: 5 };
    const decoded = decodeToRaw(frame);
    expect(decoded).toMatchObject({ encoding: 'rgba8', width: 12, height: 8, step: 48, stamp: 5 });
    expect(Array.from(decoded.data)).toEqual(Array.from(raw.data));
    const pre = new ImagePreprocessor({ height: 5, width: 5, channels: 'bgr', resize: 'center_crop', ...COLOR_SPEC });
    expect(maxAbsDiff(pre.run(frame), pre.run(raw))).toBe(0);
  });

  it('encodePng writes what decodeToRaw reads back', () => {
    const raw = randomRaw(rng, 'bgr8', 5, 4, 2);
    const back = decodeToRaw({ type: 'compressed', format: 'png', data: encodePng(raw), stamp: 0 });
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 5; x++) {
        const s = y * raw.step + x * 3;
        const o = (y * 5 + x) * 4;
        expect([back.data[o], back.data[o + 1], back.data[o + 2], back.data[o + 3]]).toEqual([raw.data[s + 2], raw.data[s + 1], raw.data[s], 255]);
      }
    }
  });

  it('JPEG decodes to rgb8 close to the encoded image', () => {
    const w = 32, h = 24;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 4;
        rgba[o] = x * 8;
        rgba[o + 1] = y * 10;
        rgba[o + 2] = 128;
        rgba[o + 3] = 255;
      }
    }
    const data = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 100).data);
    const frame: CompressedImage = { type: 'compressed', format: 'jpeg', data, stamp: 2 };
    const raw = decodeToRaw(frame);
    expect(raw).toMatchObject({ encoding: 'rgb8', width: w, height: h, step: w * 3, stamp: 2 });
    let err = 0;
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) err += Math.abs(raw.data[i * 3 + c] - rgba[i * 4 + c]);
    expect(err / (w * h * 3)).toBeLessThan(2);
    const pre = new ImagePreprocessor({ height: 8, width: 8, channels: 'rgb', ...COLOR_SPEC });
    expect(maxAbsDiff(pre.run(frame), pre.run(raw))).toBe(0);
  });
});

describe('errors', () => {
  const color = new ImagePreprocessor({ height: 4, width: 4, channels: 'rgb', ...COLOR_SPEC });
  const base: RawImage = { type: 'raw', encoding: 'rgb8', width: 4, height: 4, step: 12, data: new Uint8Array(48), stamp: 0 };
  const expectError = (f: () => unknown, re: RegExp): void => {
    expect(f).toThrow(ObservationError);
    expect(f).toThrow(re);
  };

  it('unknown encoding lists the supported ones', () => {
    expectError(() => color.run({ ...base, encoding: 'yuv422' as RawEncoding }), /encoding 'yuv422' is not supported: use one of rgb8, bgr8, rgba8, bgra8, mono8, 16UC1 \(raw\) or jpeg, png/);
    expectError(() => color.run({ type: 'compressed', format: 'webp' as 'png', data: new Uint8Array(4), stamp: 0 }), /'webp' is not supported/);
  });
  it('data too short for height * step', () => {
    expectError(() => color.run({ ...base, data: new Uint8Array(47) }), /data is too short: 47 bytes, but height \* step = 4 \* 12 = 48/);
    expectError(() => color.run({ ...base, step: 16 }), /too short: 48 bytes, but height \* step = 4 \* 16 = 64/);
  });
  it('step smaller than width * bytes per pixel', () => {
    expectError(() => color.run({ ...base, step: 11 }), /step 11 is smaller than width \* bytes per pixel = 4 \* 3 = 12/);
  });
  it('zero size', () => {
    expectError(() => color.run({ ...base, width: 0, step: 0, data: new Uint8Array(0) }), /zero or invalid size 0x4/);
    expectError(() => color.run({ ...base, height: 0 }), /zero or invalid size 4x0/);
  });
  it('undecodable JPEG and PNG', () => {
    const junk = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expectError(() => color.run({ type: 'compressed', format: 'jpeg', data: junk, stamp: 0 }), /cannot decode JPEG frame \(8 bytes\)/);
    expectError(() => color.run({ type: 'compressed', format: 'png', data: junk, stamp: 0 }), /cannot decode PNG frame \(8 bytes\)/);
  });
  it('colour output from a 16UC1 frame', () => {
    expectError(() => color.run({ ...base, encoding: '16UC1', step: 8, data: new Uint8Array(32) }), /cannot produce 'rgb' output from a 16UC1 \(depth\) frame/);
  });
  it('bad specs and output buffers', () => {
    expectError(() => new ImagePreprocessor({ height: 4, width: 4, channels: 'mono', ...COLOR_SPEC }), /mean\/std need 1 values for channels 'mono', got 3\/3/);
    expectError(() => new ImagePreprocessor({ height: 4, width: 4, channels: 'rgb', mean: [0, 0, 0], std: [1, 0, 1] }), /std\[1\] = 0/);
    expectError(() => color.run(base, new Float32Array(47)), /has 47 elements, but \[3, 4, 4\] needs 48/);
  });
});
