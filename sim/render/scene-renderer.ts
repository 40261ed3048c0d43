/**
 * What every camera renderer for the simulator offers (the in-process
 * software rasterizer for policy cameras, the headless-Chromium three.js
 * renderer), and the request/frame types they share. Pure module: no
 * browser, no playwright, so importing it starts nothing.
 */
import type { RawImage } from '../../src/observation/types.ts';
import { RenderSceneError, stateLayout, type RenderScene } from './scene-description.ts';

export interface RenderRequest {
  /** MuJoCo camera name */
  readonly camera: string;
  /** px; policies use 128 or 256 */
  readonly width: number;
  readonly height: number;
  /**
   * Also return depth: '16UC1' gives a RawImage in mm (0 = nothing hit or
   * beyond 65.535 m, as in ROS depth images) plus metres; 'float' metres only.
   */
  readonly depth?: '16UC1' | 'float';
}

export interface RenderedCamera {
  /** encoding 'rgb8', rows top to bottom */
  readonly rgb: RawImage;
  /** encoding '16UC1', mm, little-endian (when depth '16UC1' was asked) */
  readonly depth?: RawImage;
  /** z-depth along the camera's view axis, m; 0 = nothing hit */
  readonly depthM?: Float32Array;
}

export interface RenderCallOptions {
  /** capture time stamped on the frames, s; default 0 */
  readonly stamp?: number;
}

/** Renders MuJoCo cameras of a RenderScene at a per-step state (from extractState). */
export interface SceneRenderer {
  /**
   * Render the cameras in `requests` at `state`. Returns frames keyed by
   * camera name; the frames' buffers belong to the caller (never reused).
   */
  render(state: Float32Array, requests: readonly RenderRequest[], opts?: RenderCallOptions): Promise<Record<string, RenderedCamera>>;
  /** Replace the scene (e.g. a new task's model); background linear RGB in [0, 1] */
  setScene(scene: RenderScene, background?: readonly [number, number, number]): Promise<void>;
  /** Release what the renderer holds; later calls throw. */
  close(): Promise<void>;
}

/** largest image side either renderer takes, px */
export const MAX_RENDER_SIZE = 4096;

/**
 * Check one render call against the scene: state length, camera names, no
 * camera twice, integer sizes in 1..MAX_RENDER_SIZE. Throws RenderSceneError
 * naming the problem and the fix.
 */
export function validateRenderCall(scene: RenderScene, state: Float32Array, requests: readonly RenderRequest[]): void {
  const n = stateLayout(scene).length;
  if (state.length !== n) {
    throw new RenderSceneError(`state has ${state.length} floats, the scene needs ${n}: extract it with extractState for this scene`);
  }
  const names = new Set(scene.cameras.map((c) => c.name));
  const seen = new Set<string>();
  for (const r of requests) {
    if (!names.has(r.camera)) {
      throw new RenderSceneError(`camera '${r.camera}' is not in the scene (has: ${[...names].join(', ') || 'none'}): name a camera defined in the MJCF`);
    }
    if (seen.has(r.camera)) throw new RenderSceneError(`camera '${r.camera}' requested twice in one render call: ask once per camera`);
    seen.add(r.camera);
    const { width: w, height: h } = r;
    if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w <= MAX_RENDER_SIZE && h <= MAX_RENDER_SIZE)) {
      throw new RenderSceneError(`camera '${r.camera}' size ${w}x${h} is invalid: use integer sizes in 1..${MAX_RENDER_SIZE}`);
    }
  }
}

/** Depth in metres -> ROS 16UC1 (mm, little-endian, 0 = invalid). */
export function depthTo16UC1(depthM: Float32Array, width: number, height: number, stamp: number): RawImage {
  const out = new Uint8Array(width * height * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < width * height; i++) {
    const mm = Math.round(depthM[i] * 1000);
    view.setUint16(2 * i, mm > 0 && mm <= 0xffff ? mm : 0, true);
  }
  return { type: 'raw', encoding: '16UC1', width, height, step: width * 2, bigEndian: false, data: out, stamp };
}
