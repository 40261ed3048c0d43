/**
 * Render benchmark: frames per second for 128x128 MuJoCo camera renders of
 * the fixture scene in tests/fixtures/sim: `sim.render_fps.128.software`
 * (in-process CPU rasterizer, the policy-camera default) and
 * `sim.render_fps.128` (three.js in headless Chromium with readback; left
 * out with a note when no Chromium is installed).
 */
import { readFile } from 'node:fs/promises';
import loadMujoco from '@mujoco/mujoco';
import type { BenchEntry } from '../../src/bench/types.ts';
import { chromiumAvailable, chromiumPath } from './chromium.ts';
import { describeScene, extractState, type MjDataLike, type MjModelLike, type RenderScene } from './scene-description.ts';
import type { RenderRequest, SceneRenderer } from './scene-renderer.ts';
import { SoftwareRenderer } from './software/renderer.ts';

const FIXTURE = new URL('../../tests/fixtures/sim/viewer-arm.xml', import.meta.url);

export interface BenchRenderOptions {
  /** timed frames per configuration (after 10 warm-up frames) */
  readonly frames?: number;
  /** which renderers to measure; default both (Chromium only where installed) */
  readonly renderers?: readonly ('software' | 'chromium')[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function time(r: SceneRenderer, state: Float32Array, reqs: readonly RenderRequest[], frames: number): Promise<number[]> {
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

const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;

/** The same four configurations for any renderer: 1 camera, 2 cameras, 1 camera + depth, 1 camera at 256 px. */
async function measure(r: SceneRenderer, state: Float32Array, frames: number): Promise<{ value: number } & Record<string, number>> {
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
  return {
    value: 1000 / mean(one),
    p50_ms: percentile(one, 0.5),
    p99_ms: percentile(one, 0.99),
    two_cameras_fps: 1000 / mean(two),
    two_cameras_p50_ms: percentile(two, 0.5),
    with_depth_fps: 1000 / mean(depth),
    fps_256: 1000 / mean(big),
  };
}

async function benchSoftware(scene: RenderScene, state: Float32Array, frames: number): Promise<BenchEntry> {
  const t0 = performance.now();
  const r = await SoftwareRenderer.create({ scene });
  const setupMs = performance.now() - t0;
  try {
    return {
      name: 'sim.render_fps.128.software',
      unit: 'fps',
      cameras: 1,
      frames,
      ...(await measure(r, state, frames)),
      setup_ms: setupMs,
      triangles: r.triangles,
      note: 'in-process CPU rasterizer (sim/render/software), the default for policy cameras',
    };
  } finally {
    await r.close();
  }
}

async function benchChromium(scene: RenderScene, state: Float32Array, frames: number): Promise<BenchEntry> {
  const { HeadlessRenderer } = await import('./renderer.ts');
  const t0 = performance.now();
  const r = await HeadlessRenderer.create({ scene });
  const startMs = performance.now() - t0;
  try {
    return {
      name: 'sim.render_fps.128',
      unit: 'fps',
      cameras: 1,
      frames,
      ...(await measure(r, state, frames)),
      browser_start_ms: startMs,
      gl: r.glRenderer,
      note: 'three.js in headless Chromium: one WebSocket round trip per step: raw float32 state in, all cameras rendered side by side with one readPixels, raw rgb8 out',
    };
  } finally {
    await r.close();
  }
}

export async function benchRender(opts: BenchRenderOptions = {}): Promise<BenchEntry[]> {
  const frames = opts.frames ?? 100;
  const which = opts.renderers ?? ['software', 'chromium'];
  const mj = await loadMujoco();
  const model = mj.MjModel.from_xml_string(await readFile(FIXTURE, 'utf8'));
  const data = new mj.MjData(model);
  try {
    mj.mj_forward(model, data);
    const scene = describeScene(model as unknown as MjModelLike);
    const state = extractState(scene, data as unknown as MjDataLike);
    const out: BenchEntry[] = [];
    if (which.includes('chromium')) {
      if (chromiumAvailable()) out.push(await benchChromium(scene, state, frames));
      else console.warn(`sim.render_fps.128 (Chromium) skipped: no Chromium at ${chromiumPath()}`);
    }
    if (which.includes('software')) out.push(await benchSoftware(scene, state, frames));
    return out;
  } finally {
    data.delete();
    model.delete();
  }
}
