/**
 * Camera rendering for the simulator from Node: a headless Chromium page runs
 * three.js (WebGL2, SwiftShader on CPU), gets the scene description once (by
 * page.evaluate), then per step gets the state over a binary WebSocket and
 * renders every requested camera side by side in one frame with one
 * readPixels; the raw pixels come back on the same socket.
 *
 * Where a 2 x 128 px step's time went before (2 cores, SwiftShader): GPU
 * work ~5-7 ms (Phong shading and ~26k triangles per camera), per-camera
 * readbacks, ~3.5 ms for base64 through page.evaluate. Now: a minimal shader,
 * ~1/3 of the triangles, one readback, raw bytes over a socket.
 */
import type { Page } from 'playwright-core';
import type { RawImage } from '../../src/observation/types.ts';
import { bundleBrowserEntry } from './bundle.ts';
import { acquireBrowser } from './chromium.ts';
import { PageChannel, type WsMessage } from './page-channel.ts';
import type { RenderPageApi } from './page-entry.ts';
import { RenderSceneError, type RenderScene } from './scene-description.ts';
import {
  depthTo16UC1,
  validateRenderCall,
  type RenderCallOptions,
  type RenderedCamera,
  type RenderRequest,
  type SceneRenderer,
} from './scene-renderer.ts';
import type { CameraRequest } from './three-scene.ts';

export { depthTo16UC1, type RenderCallOptions, type RenderedCamera, type RenderRequest, type SceneRenderer } from './scene-renderer.ts';

export interface HeadlessRendererOptions {
  readonly scene: RenderScene;
  /** background, linear RGB in [0, 1]; default black */
  readonly background?: readonly [number, number, number];
}

type PageWindow = { armatureRender: RenderPageApi };

interface PendingRender {
  readonly requests: readonly RenderRequest[];
  readonly stamp: number;
  readonly resolve: (out: Record<string, RenderedCamera>) => void;
  readonly reject: (e: Error) => void;
}

/** Split the page's reply (per request: rgb, then float32 depth if asked) into frames. */
export function decodeFrames(bytes: Uint8Array, requests: readonly RenderRequest[], stamp: number): Record<string, RenderedCamera> {
  const out: Record<string, RenderedCamera> = {};
  let o = 0;
  for (const r of requests) {
    const nrgb = r.width * r.height * 3;
    const nd = r.depth === undefined ? 0 : r.width * r.height * 4;
    if (o + nrgb + nd > bytes.length) break;
    const rgb: RawImage = { type: 'raw', encoding: 'rgb8', width: r.width, height: r.height, step: r.width * 3, data: new Uint8Array(bytes.subarray(o, o + nrgb)), stamp };
    o += nrgb;
    if (r.depth === undefined) {
      out[r.camera] = { rgb };
      continue;
    }
    // copy (Buffer.slice would not): the reply's offset need not be 4-byte aligned
    const depthM = new Float32Array(new Uint8Array(bytes.subarray(o, o + nd)).buffer);
    o += nd;
    out[r.camera] = r.depth === '16UC1' ? { rgb, depth: depthTo16UC1(depthM, r.width, r.height, stamp), depthM } : { rgb, depthM };
  }
  const expected = requests.reduce((n, r) => n + r.width * r.height * (r.depth === undefined ? 3 : 7), 0);
  if (expected !== bytes.length) {
    throw new RenderSceneError(`render page returned ${bytes.length} bytes, expected ${expected}: the page bundle and renderer.ts disagree; rebuild`);
  }
  return out;
}

export class HeadlessRenderer implements SceneRenderer {
  private closed = false;
  /** renders sent to the page, answered in order */
  private readonly pending: PendingRender[] = [];
  /** requests the page holds (JSON), resent only when they change */
  private pageRequests = '';
  private failure: Error | null = null;

  private constructor(
    private scene: RenderScene,
    private readonly page: Page,
    private readonly channel: PageChannel,
    private readonly release: () => Promise<void>,
    /** the WebGL renderer string, e.g. 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))' */
    readonly glRenderer: string,
  ) {
    channel.listen(
      (m) => this.onReply(m),
      (e) => {
        this.failure = e;
        for (const p of this.pending.splice(0)) p.reject(e);
      },
    );
  }

  private onReply(m: WsMessage): void {
    const p = this.pending.shift();
    if (p === undefined) return;
    if (m.opcode !== 2) {
      p.reject(new RenderSceneError(`render page failed: ${m.data.toString('utf8')}`));
      return;
    }
    try {
      p.resolve(decodeFrames(m.data, p.requests, p.stamp));
    } catch (e) {
      p.reject(e instanceof Error ? e : new RenderSceneError(String(e)));
    }
  }

  /** Open a page in the process's shared Chromium and upload the scene. */
  static async create(opts: HeadlessRendererOptions): Promise<HeadlessRenderer> {
    const script = await bundleBrowserEntry('render');
    const { browser, release } = await acquireBrowser();
    let page: Page | undefined;
    let channel: PageChannel | undefined;
    try {
      // served from loopback so the page may open a WebSocket back to us
      channel = await PageChannel.open({ html: '<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>' });
      page = await browser.newPage({ viewport: { width: 64, height: 64 } });
      await page.goto(channel.pageUrl);
      await page.addScriptTag({ content: script });
      const gl = await page.evaluate(
        ([d, bg]) => (globalThis as unknown as PageWindow).armatureRender.init(d, bg ?? undefined),
        [opts.scene, opts.background ?? null] as const,
      );
      const connected = channel.connected();
      await page.evaluate((url) => (globalThis as unknown as PageWindow).armatureRender.connect(url), channel.socketUrl);
      await connected;
      return new HeadlessRenderer(opts.scene, page, channel, release, gl);
    } catch (e) {
      await page?.close().catch(() => undefined);
      await channel?.close().catch(() => undefined);
      await release();
      throw e;
    }
  }

  /** Replace the scene (e.g. a new task's model) without restarting the page. */
  async setScene(scene: RenderScene, background?: readonly [number, number, number]): Promise<void> {
    this.assertOpen();
    await this.page.evaluate(([d, bg]) => (globalThis as unknown as PageWindow).armatureRender.init(d, bg ?? undefined), [scene, background ?? null] as const);
    this.scene = scene;
  }

  /**
   * Render the cameras in `requests` at `state` (from extractState) in one round
   * trip. Returns frames keyed by camera name.
   */
  async render(state: Float32Array, requests: readonly RenderRequest[], opts: RenderCallOptions = {}): Promise<Record<string, RenderedCamera>> {
    this.assertOpen();
    validateRenderCall(this.scene, state, requests);
    const pageReqs: CameraRequest[] = requests.map((r) => ({ camera: r.camera, width: r.width, height: r.height, depth: r.depth !== undefined }));
    if (this.failure !== null) throw this.failure;
    const json = JSON.stringify(pageReqs);
    if (json !== this.pageRequests) {
      this.channel.send(json);
      this.pageRequests = json;
    }
    // copy: the caller may reuse its state buffer before the socket flushes
    this.channel.send(new Uint8Array(state.buffer.slice(state.byteOffset, state.byteOffset + state.byteLength)));
    return new Promise((resolve, reject) => this.pending.push({ requests: [...requests], stamp: opts.stamp ?? 0, resolve, reject }));
  }

  /** Close the page; the shared browser closes with its last user. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.channel.close();
      await this.page.close();
    } finally {
      await this.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RenderSceneError('HeadlessRenderer is closed: create a new one');
  }
}
