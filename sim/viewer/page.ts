/// <reference lib="dom" />
/**
 * Browser entry for the viewer page (served by server.ts): live scene with an
 * orbit camera, the policy's camera views, one line plot per joint, the
 * instruction, the current action chunk as an end-effector path, and for
 * recorded episodes a timeline scrubber with play/pause.
 *
 * Test hook: window.armatureViewer (ready, mode, step, frames) and
 * data-step / data-ready on <body>.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { RenderScene } from '../render/scene-description.ts';
import { CameraRenderer, ThreeScene } from '../render/three-scene.ts';
import { frameState, type Episode, type ViewerFrame } from './episode.ts';
import type { ViewerSession } from './server.ts';

interface ViewerHook {
  ready: boolean;
  mode: 'live' | 'replay' | 'loading';
  /** replay: current step index; live: frames received */
  step: number;
  frames: number;
  error: string | null;
}

const hook: ViewerHook = { ready: false, mode: 'loading', step: 0, frames: 0, error: null };
(window as unknown as { armatureViewer: ViewerHook }).armatureViewer = hook;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`viewer page is missing #${id}`);
  return el as T;
};

/** live plots keep this many samples */
const LIVE_HISTORY = 400;
const PATH_COLOR = 0x00e5ff;

class JointPlots {
  private readonly canvases: HTMLCanvasElement[] = [];
  /** per joint: samples over time */
  private series: number[][];
  private cursor = -1;

  constructor(
    private readonly names: readonly string[],
    parent: HTMLElement,
  ) {
    parent.replaceChildren();
    this.series = names.map(() => []);
    for (let i = 0; i < names.length; i++) {
      const c = document.createElement('canvas');
      c.className = 'plot';
      c.width = 284;
      c.height = 48;
      parent.appendChild(c);
      this.canvases.push(c);
    }
  }

  /** replay: the whole episode, with a cursor at `step` */
  setAll(rows: readonly (readonly number[] | undefined)[]): void {
    this.series = this.names.map((_, j) => rows.map((r) => r?.[j] ?? NaN));
  }

  push(row: readonly number[]): void {
    this.series.forEach((s, j) => {
      s.push(row[j] ?? NaN);
      if (s.length > LIVE_HISTORY) s.shift();
    });
  }

  draw(cursor = -1): void {
    this.cursor = cursor;
    this.canvases.forEach((c, j) => this.drawOne(c, this.names[j], this.series[j]));
  }

  private drawOne(c: HTMLCanvasElement, name: string, s: readonly number[]): void {
    const ctx = c.getContext('2d');
    if (ctx === null) return;
    const { width: w, height: h } = c;
    ctx.clearRect(0, 0, w, h);
    const finite = s.filter(Number.isFinite);
    let lo = finite.length ? Math.min(...finite) : -1;
    let hi = finite.length ? Math.max(...finite) : 1;
    if (hi - lo < 1e-6) {
      lo -= 0.5;
      hi += 0.5;
    }
    const x = (i: number): number => (s.length <= 1 ? 0 : (i / (s.length - 1)) * (w - 1));
    const y = (v: number): number => h - 4 - ((v - lo) / (hi - lo)) * (h - 8);
    ctx.strokeStyle = '#7fb3ff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    s.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(x(i), y(v));
      else ctx.moveTo(x(i), y(v));
      pen = true;
    });
    ctx.stroke();
    const at = this.cursor >= 0 ? this.cursor : s.length - 1;
    if (this.cursor >= 0) {
      ctx.strokeStyle = '#ffcc33';
      ctx.beginPath();
      ctx.moveTo(x(at), 0);
      ctx.lineTo(x(at), h);
      ctx.stroke();
    }
    ctx.fillStyle = '#ccd';
    ctx.font = '11px sans-serif';
    const v = s[at];
    ctx.fillText(`${name} ${Number.isFinite(v) ? v.toFixed(3) : ''}`, 4, 12);
  }
}

class Viewer {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly cameraRenderer: CameraRenderer;
  private readonly orbit: THREE.PerspectiveCamera;
  private readonly controls: OrbitControls;
  private ts!: ThreeScene;
  private readonly path: THREE.Line;
  private readonly pathPoints: THREE.Points;
  private camViews: { name: string; ctx: CanvasRenderingContext2D; img: ImageData }[] = [];
  private plots!: JointPlots;
  private pending = false;

  constructor(
    private session: ViewerSession,
    scene: RenderScene,
  ) {
    const main = $<HTMLDivElement>('main');
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(1);
    main.appendChild(this.renderer.domElement);
    this.cameraRenderer = new CameraRenderer(this.renderer);
    this.orbit = new THREE.PerspectiveCamera(45, 1, 0.01, 100);
    this.orbit.up.set(0, 0, 1); // MuJoCo world is z-up
    this.controls = new OrbitControls(this.orbit, this.renderer.domElement);
    this.controls.addEventListener('change', () => this.requestRender());
    const pathGeo = new THREE.BufferGeometry();
    this.path = new THREE.Line(pathGeo, new THREE.LineBasicMaterial({ color: PATH_COLOR }));
    this.pathPoints = new THREE.Points(pathGeo, new THREE.PointsMaterial({ color: PATH_COLOR, size: 5, sizeAttenuation: false }));
    this.path.frustumCulled = false;
    this.pathPoints.frustumCulled = false;
    this.setScene(scene, session);
    new ResizeObserver(() => this.resize()).observe(main);
    this.resize();
  }

  setScene(scene: RenderScene, session: ViewerSession): void {
    this.session = session;
    this.ts = new ThreeScene(scene, { background: [0.08, 0.09, 0.11] });
    this.ts.scene.add(this.path, this.pathPoints);
    const ext = scene.extent > 0 ? scene.extent : 1;
    const [cx, cy, cz] = scene.center;
    this.orbit.near = scene.znear;
    this.orbit.far = scene.zfar;
    this.orbit.position.set(cx + 1.6 * ext, cy - 1.6 * ext, cz + 1.0 * ext);
    this.controls.target.set(cx, cy, cz);
    this.controls.update();
    this.orbit.updateProjectionMatrix();
    const cams = $<HTMLDivElement>('cams');
    cams.replaceChildren();
    const size = session.policyViewSize;
    this.camViews = session.policyCameras.map((name) => {
      const box = document.createElement('div');
      box.className = 'cam';
      const c = document.createElement('canvas');
      c.width = size;
      c.height = size;
      c.dataset.camera = name;
      box.append(c, name);
      cams.appendChild(box);
      const ctx = c.getContext('2d');
      if (ctx === null) throw new Error('no 2D canvas context');
      return { name, ctx, img: ctx.createImageData(size, size) };
    });
    this.plots = new JointPlots(session.jointNames, $('plots'));
    $('instruction').textContent = session.instruction;
  }

  /** Show one frame: pose the scene, path, policy views, instruction. */
  showFrame(f: ViewerFrame, where: string): void {
    this.ts.applyState(frameState(this.ts.desc, f, where));
    const pts = f.chunkPath ?? [];
    this.path.geometry.setAttribute('position', new THREE.Float32BufferAttribute(pts.flat(), 3));
    this.path.geometry.computeBoundingSphere();
    if (f.instruction !== undefined) $('instruction').textContent = f.instruction;
    this.path.visible = false;
    this.pathPoints.visible = false;
    const size = this.session.policyViewSize;
    for (const v of this.camViews) {
      const px = this.cameraRenderer.render(this.ts, { camera: v.name, width: size, height: size });
      const d = v.img.data;
      for (let i = 0, j = 0; i < px.rgb.length; i += 3, j += 4) {
        d[j] = px.rgb[i];
        d[j + 1] = px.rgb[i + 1];
        d[j + 2] = px.rgb[i + 2];
        d[j + 3] = 255;
      }
      v.ctx.putImageData(v.img, 0, 0);
    }
    this.path.visible = true;
    this.pathPoints.visible = true;
    this.requestRender();
  }

  get jointPlots(): JointPlots {
    return this.plots;
  }

  requestRender(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.renderMain();
    });
  }

  renderMain(): void {
    this.ts.aimHeadlight(this.orbit);
    this.renderer.setRenderTarget(null);
    this.renderer.render(this.ts.scene, this.orbit);
  }

  private resize(): void {
    const main = $<HTMLDivElement>('main');
    const w = Math.max(1, main.clientWidth);
    const h = Math.max(1, main.clientHeight);
    this.renderer.setSize(w, h, false);
    this.orbit.aspect = w / h;
    this.orbit.updateProjectionMatrix();
    this.renderMain();
  }
}

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

function startReplay(viewer: Viewer, ep: Episode, session: ViewerSession): void {
  const n = ep.steps.length;
  const scrubber = $<HTMLInputElement>('scrubber');
  const label = $<HTMLSpanElement>('step');
  const play = $<HTMLButtonElement>('play');
  $('timeline').hidden = false;
  scrubber.max = String(Math.max(0, n - 1));
  viewer.jointPlots.setAll(ep.steps.map((s) => s.joints));
  const show = (k: number): void => {
    hook.step = k;
    document.body.dataset.step = String(k);
    scrubber.value = String(k);
    const s = ep.steps[k];
    label.textContent = `step ${k} / ${n - 1}   t = ${s ? s.t.toFixed(2) : '-'} s`;
    if (s) viewer.showFrame(s, `step ${k}`);
    if (s?.instruction === undefined) $('instruction').textContent = ep.instruction ?? session.instruction;
    viewer.jointPlots.draw(k);
  };
  let timer: ReturnType<typeof setInterval> | null = null;
  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = 'play';
  };
  scrubber.addEventListener('input', () => {
    stop();
    show(Number(scrubber.value));
  });
  play.addEventListener('click', () => {
    if (timer !== null) return stop();
    if (hook.step >= n - 1) show(0);
    play.textContent = 'pause';
    timer = setInterval(() => {
      show(hook.step + 1);
      if (hook.step >= n - 1) stop();
    }, Math.max(10, session.dt * 1000));
  });
  if (n > 0) show(0);
}

function startLive(viewer: Viewer): void {
  const es = new EventSource('/events');
  es.addEventListener('frame', (ev) => {
    const f = JSON.parse((ev as MessageEvent<string>).data) as ViewerFrame;
    hook.frames++;
    hook.step = hook.frames;
    document.body.dataset.step = String(hook.frames);
    viewer.showFrame(f, `frame ${hook.frames}`);
    if (f.joints) viewer.jointPlots.push(f.joints);
    viewer.jointPlots.draw();
  });
  es.addEventListener('scene', (ev) => {
    const { scene, session } = JSON.parse((ev as MessageEvent<string>).data) as { scene: RenderScene; session: ViewerSession };
    viewer.setScene(scene, session);
    viewer.renderMain();
  });
}

async function boot(): Promise<void> {
  const session = await getJson<ViewerSession>('/session.json');
  if (session.mode === 'replay') {
    const ep = await getJson<Episode>('/episode.json');
    const viewer = new Viewer(session, ep.scene);
    startReplay(viewer, ep, session);
  } else {
    const scene = await getJson<RenderScene>('/scene.json');
    const viewer = new Viewer(session, scene);
    viewer.jointPlots.draw();
    startLive(viewer);
  }
  hook.mode = session.mode;
  hook.ready = true;
  document.body.dataset.ready = '1';
}

boot().catch((e: unknown) => {
  hook.error = String(e);
  $('instruction').textContent = `viewer error: ${String(e)}`;
  console.error(e);
});
