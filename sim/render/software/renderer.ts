/**
 * SoftwareRenderer: the simulator's policy cameras rendered in-process on the
 * CPU (typed arrays, no browser), with the same camera model, geometry and
 * lighting terms as the three.js renderer (HeadlessRenderer), so images
 * agree to a few grey levels (tests/sim/software-render*.test.ts).
 *
 * Why: a 20 Hz policy step must take <= 2.5 ms for a 20x realtime factor;
 * the browser round trip alone costs ~3 ms. Measured on the 2-core dev VM:
 * two 128x128 cameras of the franka scene ~0.55-0.8 ms (Chromium: ~8 ms),
 * sim.realtime_factor.2cam_128 ~25x (Chromium: ~5x).
 *
 * Lighting is evaluated per vertex (Gouraud) rather than per pixel: at
 * 128 px the difference is confined to specular highlights.
 */
import type { RawImage } from '../../../src/observation/types.ts';
import { RenderSceneError, stateLayout, type RenderScene } from '../scene-description.ts';
import { depthTo16UC1, validateRenderCall, type RenderCallOptions, type RenderedCamera, type RenderRequest, type SceneRenderer } from '../scene-renderer.ts';
import type { Tessellation } from '../geometry.ts';
import { packScene, TESSELLATION_RASTER } from './pack.ts';
import { Rasterizer, type RasterStats } from './raster.ts';

export interface SoftwareRendererOptions {
  readonly scene: RenderScene;
  /** background, linear RGB in [0, 1]; default black (as HeadlessRenderer) */
  readonly background?: readonly [number, number, number];
  /** curve tessellation; default TESSELLATION_RASTER (12 radial segments) */
  readonly tessellation?: Tessellation;
}

/** Scratch for one image size: the z-buffer (1/z, 1/m), reused by every camera of that size. */
interface SizeScratch {
  readonly zbuf: Float32Array;
  /** one background image to copy from (null when the background is black) */
  readonly bg: Uint8Array | null;
}

export class SoftwareRenderer implements SceneRenderer {
  private closed = false;
  private raster: Rasterizer;
  private cameraIndex: Map<string, number>;
  private readonly scratch = new Map<string, SizeScratch>();
  private bg: readonly [number, number, number];
  private readonly tess: Tessellation;

  private constructor(
    private scene: RenderScene,
    opts: SoftwareRendererOptions,
  ) {
    this.tess = opts.tessellation ?? TESSELLATION_RASTER;
    this.bg = opts.background ?? [0, 0, 0];
    this.raster = new Rasterizer(packScene(scene, this.tess), scene, stateLayout(scene));
    this.cameraIndex = new Map(scene.cameras.map((c, i) => [c.name, i]));
  }

  /** Tessellate the scene; async only to match HeadlessRenderer.create. */
  static async create(opts: SoftwareRendererOptions): Promise<SoftwareRenderer> {
    return new SoftwareRenderer(opts.scene, opts);
  }

  /** Counters of the last camera drawn: geoms drawn/culled, triangles filled/clipped. */
  get lastStats(): Readonly<RasterStats> {
    return this.raster.stats;
  }

  /** Triangles in the tessellated scene. */
  get triangles(): number {
    return this.raster.packed.triangles;
  }

  async setScene(scene: RenderScene, background?: readonly [number, number, number]): Promise<void> {
    this.assertOpen();
    this.raster = new Rasterizer(packScene(scene, this.tess), scene, stateLayout(scene));
    this.cameraIndex = new Map(scene.cameras.map((c, i) => [c.name, i]));
    this.scene = scene;
    if (background !== undefined) {
      this.bg = background;
      this.scratch.clear();
    }
  }

  async render(state: Float32Array, requests: readonly RenderRequest[], opts: RenderCallOptions = {}): Promise<Record<string, RenderedCamera>> {
    return this.renderSync(state, requests, opts);
  }

  /**
   * Render synchronously (what render() does; for callers outside async code
   * and for benchmarks). Frames are fresh buffers the caller keeps.
   */
  renderSync(state: Float32Array, requests: readonly RenderRequest[], opts: RenderCallOptions = {}): Record<string, RenderedCamera> {
    this.assertOpen();
    validateRenderCall(this.scene, state, requests);
    const stamp = opts.stamp ?? 0;
    const layout = stateLayout(this.scene);
    const out: Record<string, RenderedCamera> = {};
    for (const r of requests) {
      const { width: w, height: h } = r;
      const s = this.sizeScratch(w, h);
      const data = new Uint8Array(w * h * 3);
      if (s.bg !== null) data.set(s.bg);
      s.zbuf.fill(0);
      const ci = this.cameraIndex.get(r.camera)!;
      this.raster.draw(state, { poseOffset: layout.cameraOffset + 12 * ci, fovy: this.scene.cameras[ci].fovy }, { rgb: data, zbuf: s.zbuf, width: w, height: h });
      const rgb: RawImage = { type: 'raw', encoding: 'rgb8', width: w, height: h, step: w * 3, data, stamp };
      if (r.depth === undefined) {
        out[r.camera] = { rgb };
        continue;
      }
      const depthM = new Float32Array(w * h);
      const zb = s.zbuf;
      for (let i = 0; i < depthM.length; i++) depthM[i] = zb[i] > 0 ? 1 / zb[i] : 0;
      out[r.camera] = r.depth === '16UC1' ? { rgb, depth: depthTo16UC1(depthM, w, h, stamp), depthM } : { rgb, depthM };
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.scratch.clear();
  }

  private sizeScratch(w: number, h: number): SizeScratch {
    const key = `${w}x${h}`;
    let s = this.scratch.get(key);
    if (s === undefined) {
      const [r, g, b] = this.bg.map((c) => Math.round(255 * Math.min(1, Math.max(0, c))));
      let bg: Uint8Array | null = null;
      if (r !== 0 || g !== 0 || b !== 0) {
        bg = new Uint8Array(w * h * 3);
        for (let i = 0; i < bg.length; i += 3) {
          bg[i] = r;
          bg[i + 1] = g;
          bg[i + 2] = b;
        }
      }
      s = { zbuf: new Float32Array(w * h), bg };
      this.scratch.set(key, s);
    }
    return s;
  }

  private assertOpen(): void {
    if (this.closed) throw new RenderSceneError('SoftwareRenderer is closed: create a new one');
  }
}
