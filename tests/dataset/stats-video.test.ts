import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import { formatPath, nextChunkFile } from '../../sim/dataset/layout.ts';
import { ImageStatsAccumulator, aggregateStats, quantileSorted, vectorStats } from '../../sim/dataset/stats.ts';
import { VideoError, decodeVideo, encodeVideo, hasFfmpeg, probeVideo } from '../../sim/dataset/video.ts';

describe('stats', () => {
  it('computes per-dimension population stats and numpy-style quantiles', () => {
    // 5 frames x 2 dims
    const s = vectorStats([1, 10, 2, 20, 3, 30, 4, 40, 5, 50], 5, 2);
    expect(Array.from(s.mean)).toEqual([3, 30]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(2), 12);
    expect(Array.from(s.min)).toEqual([1, 10]);
    expect(Array.from(s.max)).toEqual([5, 50]);
    expect(s.count).toBe(5);
    // numpy.quantile([1,2,3,4,5], 0.1) == 1.4, 0.99 -> 4.96
    expect(s.quantiles.q10[0]).toBeCloseTo(1.4, 12);
    expect(s.quantiles.q99[1]).toBeCloseTo(49.6, 12);
    expect(quantileSorted([7], 0.5)).toBe(7);
  });

  it('aggregates episodes into the exact pooled mean/std', () => {
    const rng = new Rng(3);
    const a = Array.from({ length: 40 * 3 }, () => rng.normal());
    const b = Array.from({ length: 25 * 3 }, () => 2 + 3 * rng.normal());
    const agg = aggregateStats([vectorStats(a, 40, 3), vectorStats(b, 25, 3)]);
    const all = vectorStats([...a, ...b], 65, 3);
    for (let d = 0; d < 3; d++) {
      expect(agg.mean[d]).toBeCloseTo(all.mean[d], 12);
      expect(agg.std[d]).toBeCloseTo(all.std[d], 12);
      expect(agg.min[d]).toBe(all.min[d]);
      expect(agg.max[d]).toBe(all.max[d]);
    }
    expect(agg.count).toBe(65);
  });

  it('image stats per channel in [0, 1] with exact histogram quantiles', () => {
    const acc = new ImageStatsAccumulator();
    const px = [0, 255, 10, 51, 255, 20, 102, 255, 30, 153, 255, 40, 204, 255, 50];
    acc.add(Uint8Array.from(px)); // 5 pixels
    const s = acc.result();
    expect(s.kind).toBe('image');
    expect(s.mean[0]).toBeCloseTo(102 / 255, 12);
    expect(s.std[1]).toBe(0);
    expect(s.min[2]).toBeCloseTo(10 / 255, 12);
    expect(s.quantiles.q10[0]).toBeCloseTo(quantileSorted([0, 51, 102, 153, 204], 0.1) / 255, 12);
    expect(s.count).toBe(1);
  });
});

describe('layout helpers', () => {
  it('formats LeRobot path templates and rolls chunk/file indices', () => {
    expect(formatPath('videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4', { video_key: 'observation.images.top', chunk_index: 1, file_index: 12 }))
      .toBe('videos/observation.images.top/chunk-001/file-012.mp4');
    expect(() => formatPath('data/chunk-{chunk_index:03d}', {})).toThrow(/needs 'chunk_index'/);
    expect(nextChunkFile(0, 998, 1000)).toEqual({ chunk: 0, file: 999 });
    expect(nextChunkFile(0, 999, 1000)).toEqual({ chunk: 1, file: 0 });
  });
});

const ffmpegOk = await hasFfmpeg();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('video', () => {
  it('names the fix when ffmpeg is missing', async () => {
    const err = await encodeVideo({ file: '/tmp/never.mp4', width: 8, height: 8, fps: 10, frames: [new Uint8Array(192)], ffmpegPath: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VideoError);
    expect((err as Error).message).toMatch(/not found.*apt-get install ffmpeg/);
  });

  it('rejects odd sizes for yuv420p and wrong frame sizes', async () => {
    await expect(encodeVideo({ file: '/tmp/never.mp4', width: 7, height: 8, fps: 10, frames: [] })).rejects.toThrow(/odd side/);
  });

  it.skipIf(!ffmpegOk)('round-trips an async stream of frames through h264 (skipped without ffmpeg)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'armature-video-'));
    dirs.push(dir);
    const file = path.join(dir, 'clip.mp4');
    const frame = (t: number): Uint8Array => {
      const f = new Uint8Array(32 * 16 * 3);
      for (let i = 0; i < f.length; i++) f[i] = (i % 96) * 2 + t * 3;
      return f;
    };
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (let t = 0; t < 12; t++) yield frame(t);
    }
    expect(await encodeVideo({ file, width: 32, height: 16, fps: 15, frames: gen() })).toEqual({ frames: 12 });
    const p = await probeVideo(file);
    expect(p).toMatchObject({ width: 32, height: 16, codec: 'h264', pixFmt: 'yuv420p', fps: 15 });
    expect(p.durationS).toBeCloseTo(12 / 15, 6);
    const d = await decodeVideo(file);
    expect(d.frames).toHaveLength(12);
    const tail = await decodeVideo(file, { startS: 10 / 15 - 0.5 / 15 });
    expect(tail.frames).toHaveLength(2);
    let err = 0;
    for (let i = 0; i < tail.frames[0].length; i++) err += Math.abs(tail.frames[0][i] - frame(10)[i]);
    expect(err / tail.frames[0].length).toBeLessThan(6);
    await expect(encodeVideo({ file, width: 32, height: 16, fps: 15, frames: [new Uint8Array(10)] })).rejects.toThrow(/10 bytes, expected 1536/);
  });
});
