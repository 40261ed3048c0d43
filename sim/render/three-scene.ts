/// <reference lib="dom" />
/**
 * Browser side: build a three.js scene from a RenderScene, apply per-frame
 * state, and render MuJoCo cameras to pixels. Bundled for the page by
 * bundle.ts; used by both the headless renderer and the live viewer.
 *
 * Colour: MuJoCo renders without gamma, so colour management is off and
 * output is linear: an rgba of (1, 0, 0) lit at 0.5 reads back as 127.
 * Lighting follows MuJoCo's fixed-function model (diffuse * n.l + ambient);
 * three's lights divide by pi, so intensities are scaled by pi to match.
 */
import * as THREE from 'three';
import { geometryFor, type Tessellation, TESSELLATION_FULL } from './geometry.ts';
import {
  stateLayout,
  type GeomDesc,
  type LightDesc,
  type RenderScene,
  type StateLayout,
  RenderSceneError,
} from './scene-description.ts';

THREE.ColorManagement.enabled = false;

export { INFINITE_PLANE_HALF, TESSELLATION_FULL, TESSELLATION_LOW, type Tessellation } from './geometry.ts';

function materialFor(g: GeomDesc): THREE.MeshPhongMaterial {
  const [r, gr, b, a] = g.rgba;
  const shininess = Math.max(1, g.shininess * 128);
  // three's Blinn-Phong is normalised by (shininess / 2 + 1); MuJoCo's is not
  // and carries a 1/4 visibility term: undo both so spec = mat specular * light
  const spec = (4 * g.specular) / (0.5 * shininess + 1);
  return new THREE.MeshPhongMaterial({
    color: new THREE.Color(r, gr, b),
    specular: new THREE.Color(spec, spec, spec),
    shininess,
    emissive: new THREE.Color(r * g.emission, gr * g.emission, b * g.emission),
    transparent: a < 1,
    opacity: a,
  });
}

/** lights the fast shader takes: scene lights plus the headlight */
export const MAX_FAST_LIGHTS = 8;

const FAST_VERTEX = `
varying vec3 vWorldPos;
varying vec3 vNormal;
void main() {
  vec4 wp = modelMatrix * vec4(position, 1.0);
  vWorldPos = wp.xyz;
  // geom transforms are rigid (ellipsoid scale is baked into the geometry)
  vNormal = mat3(modelMatrix) * normal;
  gl_Position = projectionMatrix * viewMatrix * wp;
}`;

/**
 * Fragment shader with one straight-line block per light: SwiftShader runs a
 * uniform-bounded light loop with branches at several times the cost.
 */
function fastFragment(types: readonly LightDesc['type'][]): string {
  const block = (t: LightDesc['type'], k: number): string => {
    const l = t === 'directional' ? `-uLightDir[${k}]` : `normalize(uLightPos[${k}] - vWorldPos)`;
    const cone = t === 'spot' ? ` * step(uLightCos[${k}], dot(-l, uLightDir[${k}]))` : '';
    return `  { vec3 l = ${l}; c += uLightColor[${k}] * max(dot(n, l), 0.0)${cone} * (uColor + uSpecular * pow(max(dot(n, normalize(l + v)), 0.0), uShininess)); }`;
  };
  return `
#define MAX_LIGHTS ${MAX_FAST_LIGHTS}
uniform vec3 uColor;
uniform float uOpacity;
uniform vec3 uEmission;
uniform float uSpecular;
uniform float uShininess;
uniform vec3 uAmbient;
uniform vec3 uLightPos[MAX_LIGHTS];
uniform vec3 uLightDir[MAX_LIGHTS];
uniform vec3 uLightColor[MAX_LIGHTS];
uniform float uLightCos[MAX_LIGHTS];
varying vec3 vWorldPos;
varying vec3 vNormal;
void main() {
  vec3 n = normalize(vNormal);
  vec3 v = normalize(cameraPosition - vWorldPos);
  vec3 c = uEmission + uAmbient * uColor;
${types.map(block).join('\n')}
  gl_FragColor = vec4(c, uOpacity);
}`;
}

/** Light uniforms shared by every fast material of a scene (world frame). */
interface FastLightUniforms {
  readonly uAmbient: { value: THREE.Color };
  readonly uLightPos: { value: THREE.Vector3[] };
  readonly uLightDir: { value: THREE.Vector3[] };
  readonly uLightColor: { value: THREE.Color[] };
  readonly uLightCos: { value: number[] };
}

/**
 * MuJoCo's lighting (emission + ambient + per light diffuse n.l and Blinn-Phong
 * specular) in one small shader: the same terms as the Phong path (bar three's
 * Fresnel term) at about half its cost under SwiftShader.
 */
function fastMaterialFor(g: GeomDesc, lights: FastLightUniforms, fragmentShader: string): THREE.ShaderMaterial {
  const [r, gr, b, a] = g.rgba;
  return new THREE.ShaderMaterial({
    vertexShader: FAST_VERTEX,
    fragmentShader,
    uniforms: {
      ...lights,
      uColor: { value: new THREE.Color(r, gr, b) },
      uOpacity: { value: a },
      uEmission: { value: new THREE.Color(r * g.emission, gr * g.emission, b * g.emission) },
      uSpecular: { value: g.specular },
      uShininess: { value: Math.max(1, g.shininess * 128) },
    },
    transparent: a < 1,
  });
}

/** Set an object's matrix from a pose in the state vector (pos 3 + row-major 3x3). */
function setPose(o: THREE.Object3D, s: Float32Array, i: number): void {
  o.matrix.set(s[i + 3], s[i + 4], s[i + 5], s[i], s[i + 6], s[i + 7], s[i + 8], s[i + 1], s[i + 9], s[i + 10], s[i + 11], s[i + 2], 0, 0, 0, 1);
  o.matrixWorldNeedsUpdate = true;
}

export interface ThreeSceneOptions {
  /** background colour, linear RGB in [0, 1]; MuJoCo's default skybox is dark, we use black */
  readonly background?: readonly [number, number, number];
  /**
   * 'phong': three's MeshPhongMaterial and lights (default; the viewer);
   * 'fast': one minimal shader with the same lighting terms, for headless
   * software rendering (at most MAX_FAST_LIGHTS lights incl. the headlight).
   */
  readonly shading?: 'phong' | 'fast';
  /** default TESSELLATION_FULL */
  readonly tessellation?: Tessellation;
}

/** A three.js scene that mirrors a MuJoCo scene description. */
export class ThreeScene {
  readonly scene = new THREE.Scene();
  readonly layout: StateLayout;
  readonly cameras = new Map<string, THREE.PerspectiveCamera>();
  /** one object per described geom, in description order */
  readonly geoms: THREE.Mesh[] = [];
  private readonly lights: THREE.Object3D[] = [];
  private readonly lightTargets: THREE.Object3D[] = [];
  private headlight: THREE.DirectionalLight | null = null;
  /** light uniforms of the 'fast' shading; null with 'phong' */
  private readonly fast: FastLightUniforms | null = null;

  constructor(readonly desc: RenderScene, opts: ThreeSceneOptions = {}) {
    if (desc.format !== 'armature.scene/1') {
      throw new RenderSceneError(`scene description format '${String(desc.format)}' is not 'armature.scene/1': regenerate it with describeScene`);
    }
    this.layout = stateLayout(desc);
    const bg = opts.background ?? [0, 0, 0];
    this.scene.background = new THREE.Color(bg[0], bg[1], bg[2]);
    this.scene.matrixAutoUpdate = false;
    const tess = opts.tessellation ?? TESSELLATION_FULL;
    if (opts.shading === 'fast') this.fast = this.fastLights(desc);
    // the headlight is a directional light along the rendering camera's view
    const fragment = fastFragment([...desc.lights.map((l) => l.type), ...(desc.headlight.active ? ['directional' as const] : [])]);
    const geoCache = new Map<number, THREE.BufferGeometry>();
    for (const g of desc.geoms) {
      let geo: THREE.BufferGeometry;
      if (g.type === 'mesh' && g.mesh !== undefined) {
        geo = geoCache.get(g.mesh) ?? geometryFor(g, desc.meshes, desc.zfar, tess);
        geoCache.set(g.mesh, geo);
      } else {
        geo = geometryFor(g, desc.meshes, desc.zfar, tess);
      }
      const mesh = new THREE.Mesh(geo, this.fast ? fastMaterialFor(g, this.fast, fragment) : materialFor(g));
      mesh.matrixAutoUpdate = false;
      mesh.name = g.name;
      mesh.userData = { geomId: g.id, body: g.body };
      this.geoms.push(mesh);
      this.scene.add(mesh);
    }
    if (this.fast === null) this.addThreeLights(desc);
    for (const c of desc.cameras) {
      const cam = new THREE.PerspectiveCamera(c.fovy, 1, desc.znear, desc.zfar);
      cam.matrixAutoUpdate = false;
      cam.name = c.name;
      this.cameras.set(c.name || `camera${c.id}`, cam);
    }
  }

  private addThreeLights(desc: RenderScene): void {
    let ambient = new THREE.Color(0, 0, 0);
    for (const l of desc.lights) {
      const color = new THREE.Color(l.diffuse[0], l.diffuse[1], l.diffuse[2]);
      ambient = ambient.add(new THREE.Color(l.ambient[0], l.ambient[1], l.ambient[2]));
      let light: THREE.Light;
      if (l.type === 'directional') light = new THREE.DirectionalLight(color, Math.PI);
      else if (l.type === 'spot') light = new THREE.SpotLight(color, Math.PI, 0, (l.cutoff * Math.PI) / 180, 0, 0);
      else light = new THREE.PointLight(color, Math.PI, 0, 0);
      this.lights.push(light);
      this.scene.add(light);
      const target = light instanceof THREE.DirectionalLight || light instanceof THREE.SpotLight ? light.target : new THREE.Object3D();
      this.lightTargets.push(target);
      this.scene.add(target);
    }
    if (desc.headlight.active) {
      const [hr, hg, hb] = desc.headlight.diffuse;
      this.headlight = new THREE.DirectionalLight(new THREE.Color(hr, hg, hb), Math.PI);
      this.scene.add(this.headlight, this.headlight.target);
      ambient = ambient.add(new THREE.Color(...desc.headlight.ambient));
    }
    this.scene.add(new THREE.AmbientLight(ambient, Math.PI));
  }

  private fastLights(desc: RenderScene): FastLightUniforms {
    const n = desc.lights.length + (desc.headlight.active ? 1 : 0);
    if (n > MAX_FAST_LIGHTS) {
      throw new RenderSceneError(`scene has ${n} lights (incl. headlight), fast shading takes at most ${MAX_FAST_LIGHTS}: use shading 'phong' or fewer lights`);
    }
    const ambient = new THREE.Color(0, 0, 0);
    const u: FastLightUniforms = {
      uAmbient: { value: ambient },
      uLightPos: { value: Array.from({ length: MAX_FAST_LIGHTS }, () => new THREE.Vector3()) },
      uLightDir: { value: Array.from({ length: MAX_FAST_LIGHTS }, () => new THREE.Vector3(0, 0, -1)) },
      uLightColor: { value: Array.from({ length: MAX_FAST_LIGHTS }, () => new THREE.Color(0, 0, 0)) },
      uLightCos: { value: new Array<number>(MAX_FAST_LIGHTS).fill(-1) },
    };
    desc.lights.forEach((l, k) => {
      ambient.add(new THREE.Color(l.ambient[0], l.ambient[1], l.ambient[2]));
      u.uLightColor.value[k].setRGB(l.diffuse[0], l.diffuse[1], l.diffuse[2]);
      u.uLightCos.value[k] = Math.cos((l.cutoff * Math.PI) / 180);
    });
    if (desc.headlight.active) {
      ambient.add(new THREE.Color(...desc.headlight.ambient));
      u.uLightColor.value[n - 1].setRGB(...desc.headlight.diffuse);
    }
    return u;
  }

  /** Move geoms, cameras and lights to the poses in `state` (see extractState). */
  applyState(state: Float32Array): void {
    if (state.length !== this.layout.length) {
      throw new RenderSceneError(`state has ${state.length} floats, this scene needs ${this.layout.length}: the state was extracted for another scene description`);
    }
    this.geoms.forEach((m, k) => setPose(m, state, this.layout.geomOffset + 12 * k));
    [...this.cameras.values()].forEach((cam, k) => {
      setPose(cam, state, this.layout.cameraOffset + 12 * k);
      cam.updateMatrixWorld(true);
    });
    this.lights.forEach((l, k) => {
      const o = this.layout.lightOffset + 6 * k;
      l.position.set(state[o], state[o + 1], state[o + 2]);
      this.lightTargets[k].position.set(state[o] + state[o + 3], state[o + 1] + state[o + 4], state[o + 2] + state[o + 5]);
      l.updateMatrixWorld(true);
      this.lightTargets[k].updateMatrixWorld(true);
    });
    if (this.fast !== null) {
      for (let k = 0; k < this.desc.lights.length; k++) {
        const o = this.layout.lightOffset + 6 * k;
        this.fast.uLightPos.value[k].set(state[o], state[o + 1], state[o + 2]);
        this.fast.uLightDir.value[k].set(state[o + 3], state[o + 4], state[o + 5]).normalize();
      }
    }
  }

  /** The posed three.js camera for a MuJoCo camera name. */
  camera(name: string): THREE.PerspectiveCamera {
    const cam = this.cameras.get(name);
    if (cam === undefined) {
      throw new RenderSceneError(`camera '${name}' is not in the scene (has: ${[...this.cameras.keys()].join(', ') || 'none'}): name a camera defined in the MJCF`);
    }
    return cam;
  }

  /** Point MuJoCo's headlight along `cam`'s view, as MuJoCo does for the rendering camera. */
  aimHeadlight(cam: THREE.Camera): void {
    if (this.fast !== null) {
      if (this.desc.headlight.active) this.fast.uLightDir.value[this.desc.lights.length].set(0, 0, -1).transformDirection(cam.matrixWorld);
      return;
    }
    if (this.headlight === null) return;
    cam.updateMatrixWorld();
    const p = new THREE.Vector3().setFromMatrixPosition(cam.matrixWorld);
    const fwd = new THREE.Vector3(0, 0, -1).transformDirection(cam.matrixWorld);
    this.headlight.position.copy(p);
    this.headlight.target.position.copy(p).add(fwd);
    this.headlight.updateMatrixWorld(true);
    this.headlight.target.updateMatrixWorld(true);
  }
}

export interface CameraRequest {
  readonly camera: string;
  /** px */
  readonly width: number;
  readonly height: number;
  /** also render z-depth (m along the camera's -z; 0 where nothing was hit) */
  readonly depth?: boolean;
}

export interface CameraPixels {
  /** RGB, rows top to bottom, width * height * 3 */
  readonly rgb: Uint8Array;
  /** z-depth, m, rows top to bottom; 0 = background */
  readonly depth?: Float32Array;
}

const DEPTH_MATERIAL_VERTEX = `
varying float vViewZ;
void main() {
  vec4 mv = modelViewMatrix * vec4(position, 1.0);
  vViewZ = -mv.z;
  gl_Position = projectionMatrix * mv;
}`;
const DEPTH_MATERIAL_FRAGMENT = `
varying float vViewZ;
void main() { gl_FragColor = vec4(vViewZ, 0.0, 0.0, 1.0); }`;

function checkSize(req: CameraRequest): void {
  const { width: w, height: h } = req;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w <= 4096 && h <= 4096)) {
    throw new RenderSceneError(`camera '${req.camera}' size ${w}x${h} is invalid: use integer sizes in 1..4096`);
  }
}

/** Copy a w x h block at column x0 of a bottom-up RGBA image `stride` px wide into top-down RGB at out[o]. */
function rgbaBlockToRgb(src: Uint8Array, stride: number, x0: number, w: number, h: number, out: Uint8Array, o: number): void {
  for (let y = 0; y < h; y++) {
    // GL rows start at the bottom
    let si = ((h - 1 - y) * stride + x0) * 4;
    let di = o + y * w * 3;
    for (let x = 0; x < w; x++, si += 4, di += 3) {
      out[di] = src[si];
      out[di + 1] = src[si + 1];
      out[di + 2] = src[si + 2];
    }
  }
}

/**
 * Renders MuJoCo cameras off-screen and reads pixels back. One instance per
 * WebGL context; render targets are cached per size.
 */
export class CameraRenderer {
  private readonly colorTargets = new Map<string, THREE.WebGLRenderTarget>();
  private readonly depthTargets = new Map<string, THREE.WebGLRenderTarget>();
  private readonly depthMaterial = new THREE.ShaderMaterial({ vertexShader: DEPTH_MATERIAL_VERTEX, fragmentShader: DEPTH_MATERIAL_FRAGMENT });
  private rgba = new Uint8Array(0);
  private depthRgba = new Float32Array(0);

  constructor(readonly renderer: THREE.WebGLRenderer) {
    renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
  }

  private target(cache: Map<string, THREE.WebGLRenderTarget>, w: number, h: number, float: boolean): THREE.WebGLRenderTarget {
    const key = `${w}x${h}`;
    let t = cache.get(key);
    if (t === undefined) {
      t = new THREE.WebGLRenderTarget(w, h, { type: float ? THREE.FloatType : THREE.UnsignedByteType, depthBuffer: true });
      cache.set(key, t);
    }
    return t;
  }

  private aim(ts: ThreeScene, req: CameraRequest): THREE.PerspectiveCamera {
    const cam = ts.camera(req.camera);
    if (cam.aspect !== req.width / req.height) {
      cam.aspect = req.width / req.height;
      cam.updateProjectionMatrix();
    }
    ts.aimHeadlight(cam);
    return cam;
  }

  render(ts: ThreeScene, req: CameraRequest): CameraPixels {
    checkSize(req);
    const rgb = new Uint8Array(req.width * req.height * 3);
    this.renderRgbPacked(ts, [req], rgb, [0]);
    return req.depth === true ? { rgb, depth: this.renderDepth(ts, req) } : { rgb };
  }

  /**
   * Render several cameras' RGB side by side into one target in one frame and
   * read them back with one readPixels (each readback is a synchronous trip to
   * the GPU process). Camera i's rgb8, rows top to bottom, goes to
   * out[offsets[i]..]. Requests wider in total than the GPU allows are split.
   */
  renderRgbPacked(ts: ThreeScene, reqs: readonly CameraRequest[], out: Uint8Array, offsets: readonly number[]): void {
    const max = this.renderer.capabilities.maxTextureSize;
    let start = 0;
    while (start < reqs.length) {
      let end = start;
      let width = 0;
      let height = 0;
      while (end < reqs.length && (end === start || width + reqs[end].width <= max)) {
        checkSize(reqs[end]);
        width += reqs[end].width;
        height = Math.max(height, reqs[end].height);
        end++;
      }
      this.renderRow(ts, reqs.slice(start, end), width, height, out, offsets.slice(start, end));
      start = end;
    }
  }

  private renderRow(ts: ThreeScene, reqs: readonly CameraRequest[], width: number, height: number, out: Uint8Array, offsets: readonly number[]): void {
    const r = this.renderer;
    const target = this.target(this.colorTargets, width, height, false);
    target.scissorTest = true;
    let x0 = 0;
    for (const req of reqs) {
      const cam = this.aim(ts, req);
      target.viewport.set(x0, 0, req.width, req.height);
      target.scissor.set(x0, 0, req.width, req.height);
      r.setRenderTarget(target); // applies the target's viewport and scissor
      r.render(ts.scene, cam);
      x0 += req.width;
    }
    if (this.rgba.length !== width * height * 4) this.rgba = new Uint8Array(width * height * 4);
    r.readRenderTargetPixels(target, 0, 0, width, height, this.rgba);
    r.setRenderTarget(null);
    x0 = 0;
    reqs.forEach((req, i) => {
      rgbaBlockToRgb(this.rgba, width, x0, req.width, req.height, out, offsets[i]);
      x0 += req.width;
    });
  }

  /** z-depth of one camera, m, rows top to bottom; 0 = background. */
  renderDepth(ts: ThreeScene, req: CameraRequest): Float32Array {
    checkSize(req);
    const { width: w, height: h } = req;
    const cam = this.aim(ts, req);
    const r = this.renderer;
    const dt = this.target(this.depthTargets, w, h, true);
    const bg = ts.scene.background;
    ts.scene.background = null;
    ts.scene.overrideMaterial = this.depthMaterial;
    r.setRenderTarget(dt);
    r.setClearColor(0x000000, 0);
    r.clear();
    r.render(ts.scene, cam);
    ts.scene.overrideMaterial = null;
    ts.scene.background = bg;
    if (this.depthRgba.length !== w * h * 4) this.depthRgba = new Float32Array(w * h * 4);
    r.readRenderTargetPixels(dt, 0, 0, w, h, this.depthRgba);
    r.setRenderTarget(null);
    const depth = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      const si = (h - 1 - y) * w * 4;
      for (let x = 0; x < w; x++) depth[y * w + x] = this.depthRgba[si + 4 * x];
    }
    return depth;
  }
}
