/**
 * Render benchmark: frames per second for 128x128 MuJoCo camera renders with
 * readback through headless Chromium (the fixture scene in tests/fixtures/sim).
 */
import { readFile } from 'node:fs/promises';
import loadMujoco from '@mujoco/mujoco';
import type { BenchEntry } from '../../src/bench/types.ts';
import { HeadlessRenderer, type RenderRequest } from './renderer.ts';
import { describeScene, extractState, type MjDataLike, type MjModelLike } from './scene-description.ts';

const FIXTURE = new URL('../../tests/fixtures/sim/viewer-arm.xml', import.meta.url);

export interface BenchRenderOptions {
  /** timed frames per configuration (after 10 warm-up frames) */
  readonly frames?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function time(r: HeadlessRenderer, state: Float32Array, reqs: readonly RenderRequest[], frames: number): Promise<number[]> {
  for (let i = 0; i < 10; i++) await r.render(state, reqs);
  const ms: number[] = [];
  for (let i = 0; i < frames; i++) {
    // move the state a little so nothing can be cached between frames
    state[0] += 1e-6;
    const t0 = performance.now();
    await r.render(state, reqs);
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

export async function benchRender(opts: BenchRenderOptions = {}): Promise<BenchEntry[]> {
  const frames = opts.frames ?? 100;
  const mj = await loadMujoco();
  const model = mj.MjModel.from_xml_string(await readFile(FIXTURE, 'utf8'));
  const data = new mj.MjData(model);
  try {
    mj.mj_forward(model, data);
    const scene = describeScene(model as unknown as MjModelLike);
    const state = extractState(scene, data as unknown as MjDataLike);
    const t0 = performance.now();
    const r = await HeadlessRenderer.create({ scene });
    const startMs = performance.now() - t0;
    try {
      const one = await time(r, state, [{ camera: 'agentview', width: 128, height: 128 }], frames);
      const two = await time(
        r,
        state,
        [
          { camera: 'agentview', width: 128, height: 128 },
          { camera: 'wrist', width: 128, height: 128 },
        ],
        frames,
      );
      const depth = await time(r, state, [{ camera: 'agentview', width: 128, height: 128, depth: '16UC1' }], frames);
      const big = await time(r, state, [{ camera: 'agentview', width: 256, height: 256 }], frames);
      const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
      return [
        {
          name: 'sim.render_fps.128',
          value: 1000 / mean(one),
          unit: 'fps',
          cameras: 1,
          frames,
          p50_ms: percentile(one, 0.5),
          p99_ms: percentile(one, 0.99),
          two_cameras_fps: 1000 / mean(two),
          two_cameras_p50_ms: percentile(two, 0.5),
          with_depth_fps: 1000 / mean(depth),
          fps_256: 1000 / mean(big),
          browser_start_ms: startMs,
          gl: r.glRenderer,
          note: 'one WebSocket round trip per step: raw float32 state in, all cameras rendered side by side with one readPixels, raw rgb8 out',
        },
      ];
    } finally {
      await r.close();
    }
  } finally {
    data.delete();
    model.delete();
  }
}
