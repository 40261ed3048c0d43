/**
 * Preprocessing benchmark: camera frame -> 3x128x128 normalized tensor, per-frame latency and
 * steady-state heap allocation.
 */
import jpeg from 'jpeg-js';
import type { BenchEntry } from '../bench/types.ts';
import { Rng } from '../util/random.ts';
import { ImagePreprocessor } from './image.ts';
import type { CameraFrame, RawImage } from './types.ts';

const SPEC = {
  height: 128,
  width: 128,
  channels: 'rgb',
  resize: 'center_crop',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Per-call wall times, ms, sorted. */
function timeFrames(fn: () => void, frames: number): number[] {
  const t = new Array<number>(frames);
  for (let i = 0; i < frames; i++) {
    const t0 = performance.now();
    fn();
    t[i] = performance.now() - t0;
  }
  return t.sort((a, b) => a - b);
}

/** Smallest heapUsed growth over GC-free windows of `calls` calls (a window where heapUsed shrank saw a GC). */
function minWindowGrowth(fn: () => void, calls: number, windows: number): { grown: number; clean: number } {
  let best = Infinity;
  let clean = 0;
  for (let w = 0; w < windows; w++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) fn();
    const grown = process.memoryUsage().heapUsed - before;
    if (grown < 0) continue;
    clean++;
    best = Math.min(best, grown);
  }
  return { grown: best, clean };
}

const noop = (): void => {};

/**
 * Heap bytes allocated per call after warm-up: heapUsed growth over a window of calls, minus
 * the growth of the same window around a no-op (what the measurement itself allocates).
 * gcFreeWindows = 0 means every window saw a GC and the number is not trustworthy.
 */
export function allocBytesPerCall(fn: () => void, opts: { calls?: number; windows?: number } = {}): { bytesPerCall: number; gcFreeWindows: number } {
  const calls = opts.calls ?? 500;
  const windows = opts.windows ?? 5;
  const base = minWindowGrowth(noop, calls, windows);
  const m = minWindowGrowth(fn, calls, windows);
  if (m.clean === 0) return { bytesPerCall: NaN, gcFreeWindows: 0 };
  const baseline = base.clean > 0 ? base.grown : 0;
  return { bytesPerCall: Math.max(0, m.grown - baseline) / calls, gcFreeWindows: m.clean };
}

function randomFrame(rng: Rng, width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { type: 'raw', encoding: 'bgr8', width, height, step: width * 3, data, stamp: 0 };
}

export async function benchPreprocess(): Promise<BenchEntry[]> {
  const rng = new Rng(7);
  const pre = new ImagePreprocessor(SPEC);
  const out = new Float32Array(pre.size);
  const frame = randomFrame(rng, 640, 480);
  const once = (): void => {
    pre.run(frame, out);
  };
  for (let i = 0; i < 300; i++) once();
  const times = timeFrames(once, 1000);
  const alloc = allocBytesPerCall(once, { calls: 500, windows: 5 });
  const entries: BenchEntry[] = [
    {
      name: 'preprocess.bgr8_640x480_to_3x128x128.ms',
      value: percentile(times, 0.5),
      unit: 'ms',
      p99: percentile(times, 0.99),
      frames: times.length,
      alloc_bytes_per_frame: alloc.bytesPerCall,
      alloc_gc_free_windows: alloc.gcFreeWindows,
      resize: SPEC.resize,
    },
  ];

  // JPEG: decode (jpeg-js, pure JS) + the same conversion. Smooth content so the size is realistic.
  const smooth = frame.data.slice();
  for (let y = 0; y < 480; y++) {
    for (let x = 0; x < 640; x++) {
      const o = (y * 640 + x) * 3;
      smooth[o] = (x * 255) / 639;
      smooth[o + 1] = (y * 255) / 479;
      smooth[o + 2] = ((x + y) * 7) & 255;
    }
  }
  const rgba = new Uint8Array(640 * 480 * 4);
  for (let i = 0, j = 0; i < smooth.length; i += 3, j += 4) {
    rgba[j] = smooth[i + 2];
    rgba[j + 1] = smooth[i + 1];
    rgba[j + 2] = smooth[i];
    rgba[j + 3] = 255;
  }
  const encoded = jpeg.encode({ width: 640, height: 480, data: rgba }, 90).data;
  const jpegFrame: CameraFrame = { type: 'compressed', format: 'jpeg', data: new Uint8Array(encoded), stamp: 0 };
  const onceJpeg = (): void => {
    pre.run(jpegFrame, out);
  };
  for (let i = 0; i < 5; i++) onceJpeg();
  const jt = timeFrames(onceJpeg, 40);
  entries.push({
    name: 'preprocess.jpeg_640x480_to_3x128x128.ms',
    value: percentile(jt, 0.5),
    unit: 'ms',
    p99: percentile(jt, 0.99),
    frames: jt.length,
    jpeg_bytes: encoded.length,
    decoder: 'jpeg-js',
  });
  return entries;
}
