/**
 * The rasterizer behind SoftwareRenderer: draws a PackedScene from one MuJoCo
 * camera into an rgb8 image and a z-buffer, on the CPU, in-process.
 *
 * Pipeline per camera: geom pose -> camera-frame 3x4 transform; bounding
 * sphere vs frustum (skip the geom, or note which clip planes it crosses);
 * per vertex: camera-frame position, lighting (Gouraud: the fast shader's
 * terms evaluated at vertices), projection to 1/16-px fixed point; per
 * triangle: trivial reject, polygon clipping (near, far, guard band) only for
 * geoms that cross a plane, back-face cull on the signed area, then a
 * scanline fill with exact integer edge functions (top-left rule, so shared
 * edges are drawn once) and perspective-correct colour.
 *
 * Camera model (as three-scene.ts): looks along its local -z, y up, vertical
 * field of view fovy, square pixels; pixel (i, j) samples at its centre; rows
 * top to bottom. The z-buffer holds 1/z (z = depth along the view axis, m),
 * so 0 means nothing was hit and a cleared buffer needs no sentinel.
 *
 * Lighting (as three-scene's 'fast' shading, linear output, clamped to 1):
 * rgb * (emission + ambient) + sum over lights of light diffuse * max(n.l, 0)
 * * (rgb + specular * max(n.h, 0)^exponent); the headlight is a directional
 * light along the camera's view. Evaluated per vertex, except the specular
 * of directional lights on large flat triangles (a table top seen by the
 * wrist camera), which per-vertex shading would miss: there it is evaluated
 * per pixel from a per-pixel view-direction table (n and l are constant on
 * the face, so that costs a few multiplies per light and pixel).
 */
import type { LightDesc, RenderScene, StateLayout } from '../scene-description.ts';
import type { PackedScene } from './pack.ts';

/** fixed-point subpixel steps per pixel */
const SUB = 16;
/** clip-space guard band: triangles are clipped only where they reach this many half-viewports off centre */
const GUARD = 64;
/** room in the vertex scratch for one clipped polygon (a triangle clipped by 6 planes has at most 9 corners) */
const CLIP_SLOTS = 12;
/** specular terms below this fraction of the light are skipped (x^e < 1e-4) */
const SPEC_CUTOFF = 1e-4;
/** entries of the x^exponent lookup over [cutoff, 1] (Math.pow costs ~100 ns; error of the table < 2e-4) */
const POW_TABLE_SIZE = 256;
/** per-pixel specular is exact on a grid this many pixels apart and interpolated between */
const SPEC_STEP = 8;
/** flat triangles at least this large (px) get per-pixel specular */
const PER_PIXEL_MIN_AREA = 24;
/** floats per corner in the clipper: camera-frame x, y, z; full colour; colour without directional specular */
const CLIP_STRIDE = 9;

const OUT_NEAR = 1;
const OUT_FAR = 2;
const OUT_RIGHT = 4;
const OUT_LEFT = 8;
const OUT_TOP = 16;
const OUT_BOTTOM = 32;

const LIGHT_DIRECTIONAL = 0;
const LIGHT_POINT = 1;
const LIGHT_SPOT = 2;

/** Counters of the last camera drawn (for profiling and tests). */
export interface RasterStats {
  geomsDrawn: number;
  geomsCulled: number;
  /** triangles that reached the fill (front-facing, at least partly in view) */
  triangles: number;
  /** triangles that went through the polygon clipper */
  clipped: number;
  /** flat faces shaded with per-pixel specular */
  perPixel: number;
}

export interface CameraTarget {
  /** rgb8 output, rows top to bottom, width * height * 3; pre-filled with the background */
  readonly rgb: Uint8Array;
  /** 1/z per pixel, 1/m; cleared to 0 by the caller */
  readonly zbuf: Float32Array;
  readonly width: number;
  readonly height: number;
}

export interface CameraSetup {
  /** offset of the camera's pose (position then row-major rotation) in the state */
  readonly poseOffset: number;
  /** vertical field of view, deg */
  readonly fovy: number;
}

function lightCode(t: LightDesc['type']): number {
  return t === 'directional' ? LIGHT_DIRECTIONAL : t === 'point' ? LIGHT_POINT : LIGHT_SPOT;
}

/** Linear interpolation in a power table at fractional position u >= 0 (clamped to its end). */
function powLookup(table: Float64Array, u: number): number {
  if (u >= POW_TABLE_SIZE) return table[POW_TABLE_SIZE];
  const i = u | 0;
  const v = table[i];
  return v + (u - i) * (table[i + 1] - v);
}

/** Insertion sort of order[from..to) by ascending key[order[i]] (a few dozen geoms; no allocation). */
function sortByKey(order: Int32Array, from: number, to: number, key: Float64Array): void {
  for (let i = from + 1; i < to; i++) {
    const v = order[i];
    const kv = key[v];
    let j = i - 1;
    while (j >= from && key[order[j]] > kv) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = v;
  }
}

export class Rasterizer {
  readonly stats: RasterStats = { geomsDrawn: 0, geomsCulled: 0, triangles: 0, clipped: 0, perPixel: 0 };

  // per-vertex scratch (vertex slots of the current geom, then CLIP_SLOTS for a clipped polygon)
  private readonly vx: Float64Array;
  private readonly vy: Float64Array;
  private readonly viz: Float64Array;
  private readonly vr: Float64Array;
  private readonly vg: Float64Array;
  private readonly vb: Float64Array;
  /** colour without the directional lights' specular (x255) */
  private readonly ur: Float64Array;
  private readonly ug: Float64Array;
  private readonly ub: Float64Array;
  /** camera-frame unit normals */
  private readonly nx: Float64Array;
  private readonly ny: Float64Array;
  private readonly nz: Float64Array;
  private readonly cx: Float64Array;
  private readonly cy: Float64Array;
  private readonly cz: Float64Array;
  private readonly code: Uint8Array;
  /** clipper polygons, ping-pong, CLIP_STRIDE floats per corner */
  private readonly polyA = new Float64Array(CLIP_STRIDE * CLIP_SLOTS);
  private readonly polyB = new Float64Array(CLIP_STRIDE * CLIP_SLOTS);
  private readonly clipBase: number;

  // lights: type, colour, camera-frame vector (direction towards a directional light, or position), spot axis, cos cutoff
  private readonly nLights: number;
  private readonly lType: Uint8Array;
  private readonly lCol: Float64Array;
  private readonly lVec: Float64Array;
  private readonly lAxis: Float64Array;
  private readonly lCos: Float64Array;
  private readonly ambient: Float64Array;
  /** per geom: camera-frame 3x4 transform, row-major */
  private readonly m = new Float64Array(12);
  /** per geom: transparent geoms' camera-frame depth, for back-to-front order */
  private readonly order: Int32Array;
  private readonly depthKey: Float64Array;

  // current target and camera (set by draw)
  private rgb: Uint8Array = new Uint8Array(0);
  private zbuf: Float32Array = new Float32Array(0);
  private w = 0;
  private h = 0;
  private znear = 0;
  private zfar = 0;
  /** NDC scale: ndc x = fx * x / -z, ndc y = fy * y / -z */
  private fx = 1;
  private fy = 1;
  /** fixed-point projection: X = ox + kx * x / -z, Y = oy - ky * y / -z */
  private kx = 0;
  private ky = 0;
  private ox = 0;
  private oy = 0;
  /** blend factor of the geom being filled (1 = opaque, no blending) */
  private alpha = 1;
  /** unit view directions (towards the eye, camera frame) per pixel of the current camera */
  private viewDirs: Float32Array = new Float32Array(0);
  private readonly viewDirCache = new Map<string, Float32Array>();
  /** current geom's specular (x255), the n.h below which specular is skipped, and x^exponent over [gSpecMin, 1] */
  private gSpec = 0;
  private gSpecMin = 2;
  private gPow: Float64Array = new Float64Array(POW_TABLE_SIZE + 1);
  private readonly powTables = new Map<number, Float64Array>();
  /** vertex slot whose normal is the current triangle's face normal, or -1 when it is not flat */
  private flatSlot = -1;
  /** per-triangle directional-light specular terms: n.l, l (3), colour * n.l * specular (3) */
  private readonly pixLights: Float64Array;
  /** specularAt's result, r g b (x255) */
  private readonly spec3 = new Float64Array(3);
  /**
   * Specular of the current flat face sampled every SPEC_STEP pixels over the
   * whole image (rows x cols x rgb), filled lazily: a cell is valid when its
   * stamp equals gridGen. A new face or camera bumps gridGen, so the
   * triangles of one face (and its clipped pieces) share the samples.
   */
  private grid = new Float64Array(0);
  private gridStamp = new Int32Array(0);
  private gridGen = 0;
  private gridCols = 0;
  private gridRows = 0;
  /** the face the grid holds: geom, camera-frame normal, lights facing it */
  private faceGeom = -1;
  private faceNx = 0;
  private faceNy = 0;
  private faceNz = 0;
  private faceNq = 0;
  /** one grid row interpolated at the current pixel row, cols x rgb */
  private rowSpec = new Float64Array(0);
  /** the geom being drawn */
  private curGeom = -1;
  private readonly dirLights: number;

  constructor(
    readonly packed: PackedScene,
    private readonly scene: RenderScene,
    private readonly layout: StateLayout,
  ) {
    const n = packed.maxVertices + CLIP_SLOTS;
    this.vx = new Float64Array(n);
    this.vy = new Float64Array(n);
    this.viz = new Float64Array(n);
    this.vr = new Float64Array(n);
    this.vg = new Float64Array(n);
    this.vb = new Float64Array(n);
    this.ur = new Float64Array(n);
    this.ug = new Float64Array(n);
    this.ub = new Float64Array(n);
    this.nx = new Float64Array(n);
    this.ny = new Float64Array(n);
    this.nz = new Float64Array(n);
    this.cx = new Float64Array(n);
    this.cy = new Float64Array(n);
    this.cz = new Float64Array(n);
    this.code = new Uint8Array(n);
    this.clipBase = packed.maxVertices;
    const hl = scene.headlight.active;
    this.nLights = scene.lights.length + (hl ? 1 : 0);
    this.lType = new Uint8Array(this.nLights);
    this.lCol = new Float64Array(3 * this.nLights);
    this.lVec = new Float64Array(3 * this.nLights);
    this.lAxis = new Float64Array(3 * this.nLights);
    this.lCos = new Float64Array(this.nLights);
    this.ambient = new Float64Array(3);
    scene.lights.forEach((l, k) => {
      this.lType[k] = lightCode(l.type);
      this.lCol.set(l.diffuse, 3 * k);
      this.lCos[k] = Math.cos((l.cutoff * Math.PI) / 180);
      for (let j = 0; j < 3; j++) this.ambient[j] += l.ambient[j];
    });
    if (hl) {
      const k = this.nLights - 1;
      this.lType[k] = LIGHT_DIRECTIONAL;
      this.lCol.set(scene.headlight.diffuse, 3 * k);
      // towards the light = the camera's +z, in the camera frame
      this.lVec[3 * k + 2] = 1;
      for (let j = 0; j < 3; j++) this.ambient[j] += scene.headlight.ambient[j];
    }
    this.dirLights = Array.from(this.lType).filter((t) => t === LIGHT_DIRECTIONAL).length;
    this.pixLights = new Float64Array(7 * this.nLights);
    this.order = new Int32Array(packed.geoms.length);
    this.depthKey = new Float64Array(packed.geoms.length);
  }

  /**
   * Draw every geom seen by `camera` at `state` into `target` (whose rgb
   * holds the background and whose zbuf is cleared to 0).
   */
  draw(state: Float32Array, camera: CameraSetup, target: CameraTarget): void {
    const st = this.stats;
    st.geomsDrawn = 0;
    st.geomsCulled = 0;
    st.triangles = 0;
    st.clipped = 0;
    st.perPixel = 0;
    this.rgb = target.rgb;
    this.zbuf = target.zbuf;
    const w = (this.w = target.width);
    const h = (this.h = target.height);
    this.znear = this.scene.znear;
    this.zfar = this.scene.zfar;
    this.fy = 1 / Math.tan((camera.fovy * Math.PI) / 360);
    this.fx = this.fy / (w / h);
    this.kx = (this.fx * w * SUB) / 2;
    this.ky = (this.fy * h * SUB) / 2;
    this.ox = (w * SUB) / 2;
    this.oy = (h * SUB) / 2;
    this.viewDirs = this.viewDirTable(w, h);
    this.resetGrid(w, h);
    const co = camera.poseOffset;
    this.cameraLights(state, co);

    // opaque geoms near to far (by their far extent, so a floor comes last): hidden pixels then fail
    // the depth test before any shading; transparent geoms after them, far to near as three.js
    // sorts them, blended over what is drawn
    const geoms = this.packed.geoms;
    const m = this.m;
    const order = this.order;
    const key = this.depthKey;
    let no = 0;
    let nt = geoms.length;
    for (let gi = 0; gi < geoms.length; gi++) {
      const g = geoms[gi];
      this.geomTransform(state, co, this.layout.geomOffset + 12 * gi);
      const depth = -(m[8] * g.cx + m[9] * g.cy + m[10] * g.cz + m[11]);
      if (g.a < 1) {
        order[--nt] = gi;
        key[gi] = -depth;
      } else {
        order[no++] = gi;
        key[gi] = depth + g.radius;
      }
    }
    sortByKey(order, 0, no, key);
    sortByKey(order, nt, geoms.length, key);
    for (let k = 0; k < geoms.length; k++) {
      const gi = order[k];
      this.alpha = Math.min(1, geoms[gi].a);
      this.drawGeom(state, co, gi);
    }
  }

  /** x^expo at POW_TABLE_SIZE + 1 points evenly over [min, 1] (cached per exponent). */
  private powTable(expo: number, min: number): Float64Array {
    let t = this.powTables.get(expo);
    if (t === undefined) {
      t = new Float64Array(POW_TABLE_SIZE + 2);
      for (let i = 0; i <= POW_TABLE_SIZE; i++) t[i] = Math.pow(min + ((1 - min) * i) / POW_TABLE_SIZE, expo);
      t[POW_TABLE_SIZE + 1] = 1;
      this.powTables.set(expo, t);
    }
    return t;
  }

  /** Unit vectors from each pixel centre's ray towards the eye, camera frame (cached per size and fovy). */
  private viewDirTable(w: number, h: number): Float32Array {
    const key = `${w}x${h}x${this.fx}x${this.fy}`;
    let t = this.viewDirCache.get(key);
    if (t !== undefined) return t;
    t = new Float32Array(3 * w * h);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        // ray through the pixel centre: (ndc x / fx, ndc y / fy, -1)
        const x = ((2 * (i + 0.5)) / w - 1) / this.fx;
        const y = (1 - (2 * (j + 0.5)) / h) / this.fy;
        const l = Math.sqrt(x * x + y * y + 1);
        const o = 3 * (j * w + i);
        t[o] = -x / l;
        t[o + 1] = -y / l;
        t[o + 2] = 1 / l;
      }
    }
    this.viewDirCache.set(key, t);
    return t;
  }

  /** Scene lights into the camera frame (the headlight is fixed there). */
  private cameraLights(s: Float32Array, co: number): void {
    const lo = this.layout.lightOffset;
    const px = s[co];
    const py = s[co + 1];
    const pz = s[co + 2];
    const nl = this.scene.lights.length;
    for (let k = 0; k < nl; k++) {
      const o = lo + 6 * k;
      // camera axes are the rotation's columns: camera-frame v = R^T v_world
      const dx = s[o + 3];
      const dy = s[o + 4];
      const dz = s[o + 5];
      const dn = Math.hypot(dx, dy, dz) || 1;
      const ax = (s[co + 3] * dx + s[co + 6] * dy + s[co + 9] * dz) / dn;
      const ay = (s[co + 4] * dx + s[co + 7] * dy + s[co + 10] * dz) / dn;
      const az = (s[co + 5] * dx + s[co + 8] * dy + s[co + 11] * dz) / dn;
      this.lAxis[3 * k] = ax;
      this.lAxis[3 * k + 1] = ay;
      this.lAxis[3 * k + 2] = az;
      if (this.lType[k] === LIGHT_DIRECTIONAL) {
        this.lVec[3 * k] = -ax;
        this.lVec[3 * k + 1] = -ay;
        this.lVec[3 * k + 2] = -az;
      } else {
        const qx = s[o] - px;
        const qy = s[o + 1] - py;
        const qz = s[o + 2] - pz;
        this.lVec[3 * k] = s[co + 3] * qx + s[co + 6] * qy + s[co + 9] * qz;
        this.lVec[3 * k + 1] = s[co + 4] * qx + s[co + 7] * qy + s[co + 10] * qz;
        this.lVec[3 * k + 2] = s[co + 5] * qx + s[co + 8] * qy + s[co + 11] * qz;
      }
    }
  }

  /** this.m = camera-from-geom transform (3x4 row-major) for the geom pose at `go`. */
  private geomTransform(s: Float32Array, co: number, go: number): void {
    const m = this.m;
    const tx = s[go] - s[co];
    const ty = s[go + 1] - s[co + 1];
    const tz = s[go + 2] - s[co + 2];
    for (let i = 0; i < 3; i++) {
      // row i of R_cam^T = column i of R_cam
      const c0 = s[co + 3 + i];
      const c1 = s[co + 6 + i];
      const c2 = s[co + 9 + i];
      m[4 * i] = c0 * s[go + 3] + c1 * s[go + 6] + c2 * s[go + 9];
      m[4 * i + 1] = c0 * s[go + 4] + c1 * s[go + 7] + c2 * s[go + 10];
      m[4 * i + 2] = c0 * s[go + 5] + c1 * s[go + 8] + c2 * s[go + 11];
      m[4 * i + 3] = c0 * tx + c1 * ty + c2 * tz;
    }
  }

  private drawGeom(state: Float32Array, co: number, gi: number): void {
    const g = this.packed.geoms[gi];
    this.curGeom = gi;
    this.geomTransform(state, co, this.layout.geomOffset + 12 * gi);
    const m = this.m;
    // bounding sphere in the camera frame
    const sx = m[0] * g.cx + m[1] * g.cy + m[2] * g.cz + m[3];
    const sy = m[4] * g.cx + m[5] * g.cy + m[6] * g.cz + m[7];
    const sz = m[8] * g.cx + m[9] * g.cy + m[10] * g.cz + m[11];
    const r = g.radius;
    const depth = -sz;
    if (depth + r < this.znear || depth - r > this.zfar) {
      this.stats.geomsCulled++;
      return;
    }
    // side planes through the eye: fx * x <= -z etc.; distance of the centre outside them
    const fx = this.fx;
    const fy = this.fy;
    const nx = Math.sqrt(fx * fx + 1);
    const ny = Math.sqrt(fy * fy + 1);
    if ((fx * Math.abs(sx) + sz) / nx > r || (fy * Math.abs(sy) + sz) / ny > r) {
      this.stats.geomsCulled++;
      return;
    }
    const gx = Math.sqrt(fx * fx + GUARD * GUARD);
    const gy = Math.sqrt(fy * fy + GUARD * GUARD);
    const crossing = depth - r < this.znear || depth + r > this.zfar || (fx * Math.abs(sx) + GUARD * sz) / gx > -r || (fy * Math.abs(sy) + GUARD * sz) / gy > -r;
    this.stats.geomsDrawn++;
    this.shadeVertices(g.vertexStart, g.vertexCount, gi, crossing);
    const idx = this.packed.indices;
    const flat = this.packed.flat;
    const perPixel = this.gSpec > 0 && this.dirLights > 0;
    const code = this.code;
    const end = g.indexStart + g.indexCount;
    this.flatSlot = -1;
    if (!crossing) {
      for (let t = g.indexStart; t < end; t += 3) {
        const a = idx[t];
        if (perPixel) this.flatSlot = flat[t / 3] === 1 ? a : -1;
        this.fill(a, idx[t + 1], idx[t + 2]);
      }
      return;
    }
    for (let t = g.indexStart; t < end; t += 3) {
      const a = idx[t];
      const b = idx[t + 1];
      const c = idx[t + 2];
      const ca = code[a];
      const cb = code[b];
      const cc = code[c];
      if ((ca & cb & cc) !== 0) continue;
      if (perPixel) this.flatSlot = flat[t / 3] === 1 ? a : -1;
      if ((ca | cb | cc) === 0) this.fill(a, b, c);
      else this.clipFill(a, b, c, ca | cb | cc);
    }
  }

  /** Camera-frame positions, outcodes, projections and lit colours (x255) of a geom's vertices. */
  private shadeVertices(vs: number, vc: number, gi: number, crossing: boolean): void {
    const g = this.packed.geoms[gi];
    const P = this.packed.positions;
    const N = this.packed.normals;
    const m = this.m;
    const m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
    const m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7];
    const m8 = m[8], m9 = m[9], m10 = m[10], m11 = m[11];
    const { vx, vy, viz, vr, vg, vb, ur, ug, ub, cx, cy, cz, code } = this;
    const nxs = this.nx, nys = this.ny, nzs = this.nz;
    const kx = this.kx, ky = this.ky, ox = this.ox, oy = this.oy;
    const znear = this.znear, zfar = this.zfar;
    const gfx = this.fx, gfy = this.fy;
    const amb = this.ambient;
    const base = g.emission;
    const cr = 255 * g.r, cg = 255 * g.g, cb = 255 * g.b;
    const ar = cr * (base + amb[0]), ag = cg * (base + amb[1]), ab = cb * (base + amb[2]);
    const spec = 255 * g.specular;
    const expo = g.exponent;
    const specMin = spec > 0 ? Math.pow(SPEC_CUTOFF, 1 / expo) : 2;
    this.gSpec = spec;
    this.gSpecMin = specMin;
    const pow = (this.gPow = this.powTable(expo, specMin));
    const powScale = POW_TABLE_SIZE / (1 - specMin);
    const nl = this.nLights;
    const lType = this.lType, lCol = this.lCol, lVec = this.lVec, lAxis = this.lAxis, lCos = this.lCos;
    for (let v = 0; v < vc; v++) {
      const p = 3 * (vs + v);
      const lx = P[p], ly = P[p + 1], lz = P[p + 2];
      const x = m0 * lx + m1 * ly + m2 * lz + m3;
      const y = m4 * lx + m5 * ly + m6 * lz + m7;
      const z = m8 * lx + m9 * ly + m10 * lz + m11;
      cx[v] = x;
      cy[v] = y;
      cz[v] = z;
      const wv = -z;
      let oc = 0;
      if (crossing) {
        if (wv < znear) oc |= OUT_NEAR;
        if (wv > zfar) oc |= OUT_FAR;
        if (gfx * x > GUARD * wv) oc |= OUT_RIGHT;
        if (-gfx * x > GUARD * wv) oc |= OUT_LEFT;
        if (gfy * y > GUARD * wv) oc |= OUT_TOP;
        if (-gfy * y > GUARD * wv) oc |= OUT_BOTTOM;
      }
      code[v] = oc;
      if (oc === 0) {
        const iz = 1 / wv;
        viz[v] = iz;
        vx[v] = Math.round(ox + kx * x * iz) + 0; // + 0: no -0 (it deoptimizes fill)
        vy[v] = Math.round(oy - ky * y * iz) + 0;
      }
      // lighting, camera frame
      const qx = N[p], qy = N[p + 1], qz = N[p + 2];
      const nx = m0 * qx + m1 * qy + m2 * qz;
      const ny = m4 * qx + m5 * qy + m6 * qz;
      const nz = m8 * qx + m9 * qy + m10 * qz;
      nxs[v] = nx;
      nys[v] = ny;
      nzs[v] = nz;
      const vl = Math.sqrt(x * x + y * y + z * z) || 1;
      // towards the eye
      const ex = -x / vl, ey = -y / vl, ez = -z / vl;
      let dr = 0, dg = 0, db = 0, sr = 0, sg = 0, sb = 0, pr = 0, pg = 0, pb = 0;
      for (let k = 0; k < nl; k++) {
        const t = lType[k];
        let tx = lVec[3 * k], ty = lVec[3 * k + 1], tz = lVec[3 * k + 2];
        if (t !== LIGHT_DIRECTIONAL) {
          tx -= x;
          ty -= y;
          tz -= z;
          const tl = Math.sqrt(tx * tx + ty * ty + tz * tz) || 1;
          tx /= tl;
          ty /= tl;
          tz /= tl;
          if (t === LIGHT_SPOT && -(tx * lAxis[3 * k] + ty * lAxis[3 * k + 1] + tz * lAxis[3 * k + 2]) < lCos[k]) continue;
        }
        const ndl = nx * tx + ny * ty + nz * tz;
        if (ndl <= 0) continue;
        const kr = lCol[3 * k] * ndl, kg = lCol[3 * k + 1] * ndl, kb = lCol[3 * k + 2] * ndl;
        dr += kr;
        dg += kg;
        db += kb;
        const hx = tx + ex, hy = ty + ey, hz = tz + ez;
        const hl = Math.sqrt(hx * hx + hy * hy + hz * hz);
        if (hl > 0) {
          const ndh = (nx * hx + ny * hy + nz * hz) / hl;
          if (ndh > specMin) {
            const s = spec * powLookup(pow, (ndh - specMin) * powScale);
            if (t === LIGHT_DIRECTIONAL) {
              pr += kr * s;
              pg += kg * s;
              pb += kb * s;
            } else {
              sr += kr * s;
              sg += kg * s;
              sb += kb * s;
            }
          }
        }
      }
      const r0 = ar + cr * dr + sr, g0 = ag + cg * dg + sg, b0 = ab + cb * db + sb;
      ur[v] = r0;
      ug[v] = g0;
      ub[v] = b0;
      vr[v] = r0 + pr;
      vg[v] = g0 + pg;
      vb[v] = b0 + pb;
    }
  }

  /** Clip a triangle (vertex slots a, b, c) against the planes in `planes` and fill the pieces. */
  private clipFill(a: number, b: number, c: number, planes: number): void {
    this.stats.clipped++;
    let src = this.polyA;
    let dst = this.polyB;
    const S = CLIP_STRIDE;
    const load = (slot: number, i: number): void => {
      src[S * i] = this.cx[slot];
      src[S * i + 1] = this.cy[slot];
      src[S * i + 2] = this.cz[slot];
      src[S * i + 3] = this.vr[slot];
      src[S * i + 4] = this.vg[slot];
      src[S * i + 5] = this.vb[slot];
      src[S * i + 6] = this.ur[slot];
      src[S * i + 7] = this.ug[slot];
      src[S * i + 8] = this.ub[slot];
    };
    load(a, 0);
    load(b, 1);
    load(c, 2);
    let n = 3;
    for (let bit = OUT_NEAR; bit <= OUT_BOTTOM && n >= 3; bit <<= 1) {
      if ((planes & bit) === 0) continue;
      let k = 0;
      let dPrev = this.planeDistance(src, n - 1, bit);
      for (let i = 0, prev = n - 1; i < n; prev = i, i++) {
        const d = this.planeDistance(src, i, bit);
        if (d >= 0 !== dPrev >= 0) {
          // the edge crosses: add the crossing point
          const t = dPrev / (dPrev - d);
          for (let j = 0; j < S; j++) dst[S * k + j] = src[S * prev + j] + t * (src[S * i + j] - src[S * prev + j]);
          k++;
        }
        if (d >= 0) {
          for (let j = 0; j < S; j++) dst[S * k + j] = src[S * i + j];
          k++;
        }
        dPrev = d;
      }
      n = k;
      const tmp = src;
      src = dst;
      dst = tmp;
    }
    if (n < 3) return;
    const base = this.clipBase;
    for (let i = 0; i < n; i++) {
      const s = base + i;
      const o = S * i;
      const iz = 1 / -src[o + 2];
      this.viz[s] = iz;
      this.vx[s] = Math.round(this.ox + this.kx * src[o] * iz) + 0;
      this.vy[s] = Math.round(this.oy - this.ky * src[o + 1] * iz) + 0;
      this.vr[s] = src[o + 3];
      this.vg[s] = src[o + 4];
      this.vb[s] = src[o + 5];
      this.ur[s] = src[o + 6];
      this.ug[s] = src[o + 7];
      this.ub[s] = src[o + 8];
    }
    for (let i = 1; i + 1 < n; i++) this.fill(base, base + i, base + i + 1);
  }

  /** Point the specular grid at the current triangle's face (flat slot `slot`); returns how many lights face it. */
  private useFace(slot: number): number {
    const nx = this.nx[slot], ny = this.ny[slot], nz = this.nz[slot];
    if (this.curGeom === this.faceGeom && nx === this.faceNx && ny === this.faceNy && nz === this.faceNz) return this.faceNq;
    this.faceGeom = this.curGeom;
    this.faceNx = nx;
    this.faceNy = ny;
    this.faceNz = nz;
    this.gridGen++;
    return (this.faceNq = this.pixelLights(slot));
  }

  /** Size the specular grid for a w x h image and invalidate it (start of each camera). */
  private resetGrid(w: number, h: number): void {
    const cols = Math.ceil((w - 1) / SPEC_STEP) + 1;
    const rows = Math.ceil((h - 1) / SPEC_STEP) + 1;
    if (this.gridStamp.length < cols * rows) {
      this.grid = new Float64Array(3 * cols * rows);
      this.gridStamp = new Int32Array(cols * rows);
      this.gridGen = 0;
    }
    if (this.rowSpec.length < 3 * cols) this.rowSpec = new Float64Array(3 * cols);
    this.gridCols = cols;
    this.gridRows = rows;
    this.gridGen++;
    this.faceGeom = -1;
  }

  /** Grid cell (row gy, column c) of the current face, computed on first use. */
  private gridCell(gy: number, c: number): number {
    const cell = gy * this.gridCols + c;
    if (this.gridStamp[cell] !== this.gridGen) {
      this.gridStamp[cell] = this.gridGen;
      const px = Math.min(c * SPEC_STEP, this.w - 1);
      const py = Math.min(gy * SPEC_STEP, this.h - 1);
      this.specularAt(py * this.w + px, this.faceNq, this.faceNx, this.faceNy, this.faceNz);
      this.grid[3 * cell] = this.spec3[0];
      this.grid[3 * cell + 1] = this.spec3[1];
      this.grid[3 * cell + 2] = this.spec3[2];
    }
    return 3 * cell;
  }

  /** The grid interpolated at pixel row y, for the cells covering pixels [x0, x1], into rowSpec. */
  private specRow(y: number, x0: number, x1: number): void {
    const G = this.grid;
    const R = this.rowSpec;
    const gy = (y / SPEC_STEP) | 0;
    const ya = gy * SPEC_STEP;
    const yb = Math.min(ya + SPEC_STEP, this.h - 1);
    const fy = yb > ya ? (y - ya) / (yb - ya) : 0;
    const gy1 = gy + 1 < this.gridRows ? gy + 1 : gy;
    const c1 = Math.min(this.gridCols - 1, ((x1 / SPEC_STEP) | 0) + 1);
    for (let c = (x0 / SPEC_STEP) | 0; c <= c1; c++) {
      const a = this.gridCell(gy, c);
      const b = this.gridCell(gy1, c);
      R[3 * c] = G[a] + fy * (G[b] - G[a]);
      R[3 * c + 1] = G[a + 1] + fy * (G[b + 1] - G[a + 1]);
      R[3 * c + 2] = G[a + 2] + fy * (G[b + 2] - G[a + 2]);
    }
  }

  /** Directional specular (x255) at pixel `pix` of a flat face with camera-frame normal n, into spec3. */
  private specularAt(pix: number, nq: number, nx: number, ny: number, nz: number): void {
    const V = this.viewDirs;
    const PL = this.pixLights;
    const min = this.gSpecMin;
    const min2 = min * min;
    const pow = this.gPow;
    const scale = POW_TABLE_SIZE / (1 - min);
    const o = 3 * pix;
    const ex = V[o], ey = V[o + 1], ez = V[o + 2];
    const nv = nx * ex + ny * ey + nz * ez;
    let r = 0, g = 0, b = 0;
    for (let p = 0; p < 7 * nq; p += 7) {
      // n.h with h = (l + v) / |l + v|, |l + v|^2 = 2 + 2 l.v
      const sum = PL[p] + nv;
      if (sum <= 0) continue;
      const den = 2 + 2 * (PL[p + 1] * ex + PL[p + 2] * ey + PL[p + 3] * ez);
      if (sum * sum <= min2 * den) continue;
      const f = powLookup(pow, (sum / Math.sqrt(den) - min) * scale);
      r += PL[p + 4] * f;
      g += PL[p + 5] * f;
      b += PL[p + 6] * f;
    }
    this.spec3[0] = r;
    this.spec3[1] = g;
    this.spec3[2] = b;
  }

  /**
   * Per-pixel specular terms of the directional lights for a flat face whose
   * normal is at vertex `slot`; returns how many lights face it.
   */
  private pixelLights(slot: number): number {
    this.stats.perPixel++;
    const nx = this.nx[slot], ny = this.ny[slot], nz = this.nz[slot];
    const PL = this.pixLights;
    let q = 0;
    for (let k = 0; k < this.nLights; k++) {
      if (this.lType[k] !== LIGHT_DIRECTIONAL) continue;
      const lx = this.lVec[3 * k], ly = this.lVec[3 * k + 1], lz = this.lVec[3 * k + 2];
      const ndl = nx * lx + ny * ly + nz * lz;
      if (ndl <= 0) continue;
      const o = 7 * q++;
      PL[o] = ndl;
      PL[o + 1] = lx;
      PL[o + 2] = ly;
      PL[o + 3] = lz;
      const k3 = ndl * this.gSpec;
      PL[o + 4] = this.lCol[3 * k] * k3;
      PL[o + 5] = this.lCol[3 * k + 1] * k3;
      PL[o + 6] = this.lCol[3 * k + 2] * k3;
    }
    return q;
  }

  /** Signed distance-like value of polygon corner i to a clip plane; >= 0 inside. */
  private planeDistance(poly: Float64Array, i: number, plane: number): number {
    const x = poly[CLIP_STRIDE * i];
    const y = poly[CLIP_STRIDE * i + 1];
    const w = -poly[CLIP_STRIDE * i + 2];
    switch (plane) {
      case OUT_NEAR:
        return w - this.znear;
      case OUT_FAR:
        return this.zfar - w;
      case OUT_RIGHT:
        return GUARD * w - this.fx * x;
      case OUT_LEFT:
        return GUARD * w + this.fx * x;
      case OUT_TOP:
        return GUARD * w - this.fy * y;
      default:
        return GUARD * w + this.fy * y;
    }
  }

  /**
   * Fill one projected triangle (vertex slots). Front faces are counter-clockwise
   * in NDC (y up), i.e. negative signed area in these y-down coordinates.
   */
  private fill(a: number, b: number, c: number): void {
    const X = this.vx;
    const Y = this.vy;
    const xa = X[a], ya = Y[a];
    let xb = X[b], yb = Y[b];
    let xc = X[c], yc = Y[c];
    let area = (xb - xa) * (yc - ya) - (yb - ya) * (xc - xa);
    if (area >= 0) return;
    // swap b and c: positive area, interior where all three edge functions are >= 0
    const slot = b;
    b = c;
    c = slot;
    const tx = xb;
    xb = xc;
    xc = tx;
    const ty = yb;
    yb = yc;
    yc = ty;
    area = -area;
    const w = this.w;
    const bx0 = Math.max(0, Math.ceil((Math.min(xa, xb, xc) - SUB / 2) / SUB));
    const bx1 = Math.min(w - 1, Math.floor((Math.max(xa, xb, xc) - SUB / 2) / SUB));
    const by0 = Math.max(0, Math.ceil((Math.min(ya, yb, yc) - SUB / 2) / SUB));
    const by1 = Math.min(this.h - 1, Math.floor((Math.max(ya, yb, yc) - SUB / 2) / SUB));
    if (bx0 > bx1 || by0 > by1) return;
    // pixel indices as int32 (|0 also turns Math.ceil's -0 into 0: a -0 here deoptimizes the loops to doubles)
    const minX = bx0 | 0, maxX = bx1 | 0, minY = by0 | 0, maxY = by1 | 0;
    this.stats.triangles++;
    // edge functions E_pq(x, y) = (xq - xp)(y - yp) - (yq - yp)(x - xp), at pixel centres;
    // e0 = E_bc weighs a, e1 = E_ca weighs b, e2 = E_ab weighs c
    const px = minX * SUB + SUB / 2;
    const py = minY * SUB + SUB / 2;
    let e0 = (xc - xb) * (py - yb) - (yc - yb) * (px - xb);
    let e1 = (xa - xc) * (py - yc) - (ya - yc) * (px - xc);
    let e2 = (xb - xa) * (py - ya) - (yb - ya) * (px - xa);
    const s0 = (yb - yc) * SUB, s1 = (yc - ya) * SUB, s2 = (ya - yb) * SUB;
    const t0 = (xc - xb) * SUB, t1 = (xa - xc) * SUB, t2 = (xb - xa) * SUB;
    // top-left rule: a pixel centre exactly on an edge belongs to the triangle only for top or left edges
    const b0 = yc - yb < 0 || (yc === yb && xc > xb) ? 0 : 1;
    const b1 = ya - yc < 0 || (ya === yc && xa > xc) ? 0 : 1;
    const b2 = yb - ya < 0 || (yb === ya && xb > xa) ? 0 : 1;
    // large flat faces: directional specular per pixel (else per vertex, inside the colours)
    const alpha = this.alpha;
    const nq = this.flatSlot >= 0 && alpha === 1 && area >= PER_PIXEL_MIN_AREA * 2 * SUB * SUB ? this.useFace(this.flatSlot) : 0;
    const CR = nq > 0 ? this.ur : this.vr;
    const CG = nq > 0 ? this.ug : this.vg;
    const CB = nq > 0 ? this.ub : this.vb;
    // attributes over pixels (1/z and colour/z are affine in screen space)
    const inv = 1 / area;
    const IZ = this.viz;
    const iza = IZ[a], izb = IZ[b], izc = IZ[c];
    const ra = CR[a] * iza, rb = CR[b] * izb, rc = CR[c] * izc;
    const ga = CG[a] * iza, gb = CG[b] * izb, gc = CG[c] * izc;
    const ba = CB[a] * iza, bb = CB[b] * izb, bc = CB[c] * izc;
    const dzx = (s0 * iza + s1 * izb + s2 * izc) * inv, dzy = (t0 * iza + t1 * izb + t2 * izc) * inv;
    const drx = (s0 * ra + s1 * rb + s2 * rc) * inv, dry = (t0 * ra + t1 * rb + t2 * rc) * inv;
    const dgx = (s0 * ga + s1 * gb + s2 * gc) * inv, dgy = (t0 * ga + t1 * gb + t2 * gc) * inv;
    const dbx = (s0 * ba + s1 * bb + s2 * bc) * inv, dby = (t0 * ba + t1 * bb + t2 * bc) * inv;
    let zRow = (e0 * iza + e1 * izb + e2 * izc) * inv;
    let rRow = (e0 * ra + e1 * rb + e2 * rc) * inv;
    let gRow = (e0 * ga + e1 * gb + e2 * gc) * inv;
    let bRow = (e0 * ba + e1 * bb + e2 * bc) * inv;
    const zbuf = this.zbuf;
    const rgb = this.rgb;
    const span = maxX - minX;
    const lastX = w - 1;
    for (let y = minY; y <= maxY; y++) {
      // the row's run of covered pixels, k in [lo, hi] from minX, solved per edge
      let lo = 0;
      let hi = span;
      const f0 = e0 - b0, f1 = e1 - b1, f2 = e2 - b2;
      if (s0 > 0) { if (f0 < 0) lo = Math.max(lo, Math.ceil(-f0 / s0)); } else if (s0 < 0) hi = Math.min(hi, Math.floor(-f0 / s0)); else if (f0 < 0) hi = -1;
      if (s1 > 0) { if (f1 < 0) lo = Math.max(lo, Math.ceil(-f1 / s1)); } else if (s1 < 0) hi = Math.min(hi, Math.floor(-f1 / s1)); else if (f1 < 0) hi = -1;
      if (s2 > 0) { if (f2 < 0) lo = Math.max(lo, Math.ceil(-f2 / s2)); } else if (s2 < 0) hi = Math.min(hi, Math.floor(-f2 / s2)); else if (f2 < 0) hi = -1;
      if (lo <= hi) {
        const kl = lo | 0, kh = hi | 0;
        let i = y * w + minX + kl;
        let z = zRow + kl * dzx;
        let r = rRow + kl * drx;
        let g = gRow + kl * dgx;
        let bl = bRow + kl * dbx;
        if (nq > 0) {
          // specular is smooth across a flat face: exact on a grid every SPEC_STEP pixels, bilinear between
          const rs = this.rowSpec;
          let x = minX + kl;
          const xHi = minX + kh;
          this.specRow(y, x, xHi);
          while (x <= xHi) {
            const c = (x / SPEC_STEP) | 0;
            const x0 = c * SPEC_STEP;
            const x1 = x0 + SPEC_STEP < lastX ? x0 + SPEC_STEP : lastX;
            const f = x1 > x0 ? 1 / (x1 - x0) : 0;
            const o0 = 3 * c;
            const dsr = (rs[o0 + 3] - rs[o0]) * f, dsg = (rs[o0 + 4] - rs[o0 + 1]) * f, dsb = (rs[o0 + 5] - rs[o0 + 2]) * f;
            let sr = rs[o0] + (x - x0) * dsr, sg = rs[o0 + 1] + (x - x0) * dsg, sb = rs[o0 + 2] + (x - x0) * dsb;
            // the cell's pixels; the image's last cell also takes the last column
            const xEnd = x1 === lastX ? (x1 < xHi ? x1 : xHi) : x1 - 1 < xHi ? x1 - 1 : xHi;
            for (; x <= xEnd; x++, i++) {
              if (z > zbuf[i]) {
                zbuf[i] = z;
                const q = 1 / z;
                const o = 3 * i;
                const vr = r * q + sr + 0.5, vg = g * q + sg + 0.5, vb = bl * q + sb + 0.5;
                rgb[o] = vr < 255 ? vr : 255;
                rgb[o + 1] = vg < 255 ? vg : 255;
                rgb[o + 2] = vb < 255 ? vb : 255;
              }
              z += dzx;
              r += drx;
              g += dgx;
              bl += dbx;
              sr += dsr;
              sg += dsg;
              sb += dsb;
            }
          }
        } else if (alpha === 1) {
          for (let k = kl; k <= kh; k++, i++) {
            if (z > zbuf[i]) {
              zbuf[i] = z;
              const q = 1 / z;
              const o = 3 * i;
              const vr = r * q + 0.5, vg = g * q + 0.5, vb = bl * q + 0.5;
              rgb[o] = vr < 255 ? vr : 255;
              rgb[o + 1] = vg < 255 ? vg : 255;
              rgb[o + 2] = vb < 255 ? vb : 255;
            }
            z += dzx;
            r += drx;
            g += dgx;
            bl += dbx;
          }
        } else {
          const keep = 1 - alpha;
          for (let k = kl; k <= kh; k++, i++) {
            if (z > zbuf[i]) {
              zbuf[i] = z;
              const q = 1 / z;
              const o = 3 * i;
              rgb[o] = Math.min(255, r * q) * alpha + rgb[o] * keep + 0.5;
              rgb[o + 1] = Math.min(255, g * q) * alpha + rgb[o + 1] * keep + 0.5;
              rgb[o + 2] = Math.min(255, bl * q) * alpha + rgb[o + 2] * keep + 0.5;
            }
            z += dzx;
            r += drx;
            g += dgx;
            bl += dbx;
          }
        }
      }
      e0 += t0;
      e1 += t1;
      e2 += t2;
      zRow += dzy;
      rRow += dry;
      gRow += dgy;
      bRow += dby;
    }
  }
}
