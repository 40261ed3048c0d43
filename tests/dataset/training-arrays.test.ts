import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LeRobotDatasetWriter } from '../../sim/dataset/lerobot-writer.ts';
import { exportTrainingArrays, poolRgb } from '../../sim/dataset/training-arrays.ts';
import { datasetKey, readTrainSpec } from '../../src/cli/train.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'armature-arrays-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const S = 8;

/** copy of a file's bytes as its own ArrayBuffer (small reads share Node's buffer pool) */
const bytes = (file: string): ArrayBuffer => {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

/** frame whose pixel (x, y) channel c is 10 * c + x + S * y + t (fits in a byte for S = 8) */
function frame(t: number, cam: number): Uint8Array {
  const f = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) f[(y * S + x) * 3 + c] = 10 * c + x + S * y + t + 50 * cam;
  return f;
}

async function dataset(root: string, episodes: number[], task: (ep: number) => string): Promise<void> {
  const w = await LeRobotDatasetWriter.create({
    root,
    robotType: 'franka_fr3',
    fps: 20,
    features: {
      'observation.state': { dtype: 'float32', shape: [2], names: ['a', 'b'] },
      action: { dtype: 'float32', shape: [3], names: ['x', 'y', 'g'] },
    },
    cameras: { agentview: { height: S, width: S }, eye_in_hand: { height: S, width: S } },
    video: false,
  });
  for (const [ep, len] of episodes.entries()) {
    for (let t = 0; t < len; t++) {
      const img = (cam: number) => ({ type: 'raw' as const, encoding: 'rgb8' as const, width: S, height: S, step: S * 3, data: frame(t, cam), stamp: t / 20 });
      await w.addFrame({
        values: { 'observation.state': Float32Array.of(ep, t), action: Float32Array.of(t, -t, ep + 0.5) },
        images: { agentview: img(0), eye_in_hand: img(1) },
        task: task(ep),
      });
    }
    await w.saveEpisode();
  }
  await w.finalize();
}

describe('training arrays', () => {
  it('average-pools rgb8 by an integer factor, rounding', () => {
    const src = frame(0, 0);
    const out = new Uint8Array(4 * 4 * 3);
    poolRgb(src, S, 2, out);
    // block (0,0) channel 0: mean of 0, 1, 8, 9 = 4.5 -> 5 (Math.round)
    expect(out[0]).toBe(5);
    // block (1,0) channel 2: 20 + mean(2, 3, 10, 11) = 26.5 -> 27
    expect(out[3 + 2]).toBe(27);
  });

  it('flattens several datasets into memmap-able arrays with episodes, instructions and pooled frames', async () => {
    const a = tmp();
    const b = tmp();
    await dataset(a, [3, 2], (ep) => (ep === 0 ? 'pick the cube' : 'open the drawer'));
    await dataset(b, [4], () => 'pick the cube');
    const out = path.join(tmp(), 'arrays');
    const index = await exportTrainingArrays({ datasets: [a, b], out, imageSize: 4 });
    expect(index.frames).toBe(9);
    expect(index.cameras).toEqual(['agentview', 'eye_in_hand']);
    expect(index.tasks).toEqual(['pick the cube', 'open the drawer']);
    expect(index.episodes.map((e) => [e.start, e.length, e.task])).toEqual([[0, 3, 0], [3, 2, 1], [5, 4, 0]]);
    const state = new Float32Array(bytes(path.join(out, 'state.f32')));
    expect(Array.from(state.subarray(0, 6))).toEqual([0, 0, 0, 1, 0, 2]);
    const action = new Float32Array(bytes(path.join(out, 'action.f32')));
    expect(action.length).toBe(27);
    expect(Array.from(action.subarray(5 * 3, 6 * 3))).toEqual([0, -0, 0.5]); // dataset b, episode 0, t 0
    const episode = new Int32Array(bytes(path.join(out, 'episode.i32')));
    expect(Array.from(episode)).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    const wrist = readFileSync(path.join(out, 'images.eye_in_hand.u8'));
    expect(wrist.length).toBe(9 * 4 * 4 * 3);
    const expected = new Uint8Array(48);
    poolRgb(frame(1, 1), S, 2, expected); // frame 1 of episode 0
    expect(Array.from(wrist.subarray(48, 96))).toEqual(Array.from(expected));
  });

  it('refuses a size that does not divide the recorded frames, naming the fix', async () => {
    const a = tmp();
    await dataset(a, [2], () => 'x');
    await expect(exportTrainingArrays({ datasets: [a], out: path.join(tmp(), 'o'), imageSize: 3 })).rejects.toThrow(/--image-size 3 must divide/);
  });
});

describe('train spec', () => {
  it('reads the bundled diffusion-small spec and keys datasets by everything that changes them', () => {
    const spec = readTrainSpec(path.resolve('models/diffusion-small'));
    expect(spec.data.map((d) => d.suite)).toEqual(['spatial', 'object', 'goal', 'long']);
    expect(spec.image_size).toBe(64);
    const k = datasetKey({ suite: 'spatial', episodes: 25, noise: 0.002, seed: 1000 });
    expect(k).toBe('spatial-e25-n0.002-s1000');
    expect(datasetKey({ suite: 'spatial', episodes: 25, noise: 0.002, seed: 1000, tasks: '0-4' })).not.toBe(k);
  });

  it('names the missing train.json', () => {
    expect(() => readTrainSpec(tmp())).toThrow(/train.json not found/);
  });
});
