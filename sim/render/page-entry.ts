/// <reference lib="dom" />
/**
 * Browser entry for the headless renderer page: exposes
 * `globalThis.armatureRender` for page.evaluate (init, scene swaps), and
 * serves per-step renders over a WebSocket to Node (binary both ways, see
 * page-channel.ts): a text message sets the camera requests, a binary message
 * is a float32 state; the reply is one binary message with, per request in
 * order, rgb bytes then (if depth) float32 depth, or a text message with an
 * error.
 */
import * as THREE from 'three';
import { unpackArray, type RenderScene } from './scene-description.ts';
import { CameraRenderer, TESSELLATION_LOW, ThreeScene, type CameraRequest } from './three-scene.ts';

export interface RenderPageApi {
  /** build the scene; returns the WebGL renderer string (for logs) */
  init(desc: RenderScene, background?: readonly [number, number, number]): string;
  /**
   * Apply `state` (base64 little-endian float32) and render each request.
   * Returns base64 of the reply layout above (the slow path, for debugging).
   */
  render(stateB64: string, requests: readonly CameraRequest[]): string;
  /** open the WebSocket to Node; resolves once open */
  connect(url: string): Promise<void>;
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk) as unknown as number[]);
  }
  return btoa(bin);
}

let renderer: THREE.WebGLRenderer | null = null;
let cameraRenderer: CameraRenderer | null = null;
let scene: ThreeScene | null = null;
let requests: readonly CameraRequest[] = [];

/** Render `reqs` at `state` into one buffer laid out as described above. */
function renderAll(state: Float32Array, reqs: readonly CameraRequest[]): Uint8Array {
  if (scene === null || cameraRenderer === null) throw new Error('armatureRender.render called before init');
  scene.applyState(state);
  const offsets: number[] = [];
  let total = 0;
  for (const r of reqs) {
    offsets.push(total);
    total += r.width * r.height * (3 + (r.depth === true ? 4 : 0));
  }
  const out = new Uint8Array(total);
  cameraRenderer.renderRgbPacked(scene, reqs, out, offsets);
  reqs.forEach((r, i) => {
    if (r.depth !== true) return;
    const d = cameraRenderer!.renderDepth(scene!, r);
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), offsets[i] + r.width * r.height * 3);
  });
  return out;
}

const api: RenderPageApi = {
  init(desc, background) {
    if (renderer === null) {
      const canvas = document.createElement('canvas');
      canvas.width = 1;
      canvas.height = 1;
      renderer = new THREE.WebGLRenderer({ canvas, antialias: false, powerPreference: 'high-performance' });
      cameraRenderer = new CameraRenderer(renderer);
    }
    // fast shading and lighter tessellation: software rasterisation pays per triangle and per shaded pixel
    scene = new ThreeScene(desc, { ...(background ? { background } : {}), shading: 'fast', tessellation: TESSELLATION_LOW });
    const gl = renderer.getContext();
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.VERSION));
  },
  render(stateB64, reqs) {
    if (scene === null) throw new Error('armatureRender.render called before init');
    return toBase64(renderAll(unpackArray({ dtype: 'float32', length: scene.layout.length, b64: stateB64 }) as Float32Array, reqs));
  },
  connect(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`render page cannot open WebSocket ${url}`));
      ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
        if (typeof e.data === 'string') {
          requests = JSON.parse(e.data) as CameraRequest[];
          return;
        }
        try {
          ws.send(renderAll(new Float32Array(e.data), requests));
        } catch (err) {
          ws.send(`error: ${err instanceof Error ? err.message : String(err)}`);
        }
      };
    });
  },
};

(globalThis as unknown as { armatureRender: RenderPageApi }).armatureRender = api;
