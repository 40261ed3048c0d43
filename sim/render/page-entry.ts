/// <reference lib="dom" />
/**
 * Browser entry for the headless renderer page: exposes
 * `globalThis.armatureRender` for page.evaluate. Pixels go back as one
 * base64 string per step (all cameras concatenated) to keep one round trip.
 */
import * as THREE from 'three';
import { unpackArray, type RenderScene } from './scene-description.ts';
import { CameraRenderer, ThreeScene, type CameraRequest } from './three-scene.ts';

export interface RenderPageApi {
  /** build the scene; returns the WebGL renderer string (for logs) */
  init(desc: RenderScene, background?: readonly [number, number, number]): string;
  /**
   * Apply `state` (base64 little-endian float32) and render each request.
   * Returns base64 of, per request in order: rgb bytes, then (if depth) float32 depth.
   */
  render(stateB64: string, requests: readonly CameraRequest[]): string;
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

const api: RenderPageApi = {
  init(desc, background) {
    if (renderer === null) {
      const canvas = document.createElement('canvas');
      canvas.width = 1;
      canvas.height = 1;
      renderer = new THREE.WebGLRenderer({ canvas, antialias: false, powerPreference: 'high-performance' });
      cameraRenderer = new CameraRenderer(renderer);
    }
    scene = new ThreeScene(desc, background ? { background } : {});
    const gl = renderer.getContext();
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.VERSION));
  },
  render(stateB64, requests) {
    if (scene === null || cameraRenderer === null) throw new Error('armatureRender.render called before init');
    scene.applyState(unpackArray({ dtype: 'float32', length: scene.layout.length, b64: stateB64 }) as Float32Array);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const req of requests) {
      const px = cameraRenderer.render(scene, req);
      parts.push(px.rgb);
      total += px.rgb.length;
      if (px.depth) {
        const d = new Uint8Array(px.depth.buffer, px.depth.byteOffset, px.depth.byteLength);
        parts.push(d);
        total += d.length;
      }
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return toBase64(out);
  },
};

(globalThis as unknown as { armatureRender: RenderPageApi }).armatureRender = api;
