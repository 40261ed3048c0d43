/**
 * A plain-JSON description of what to draw, extracted from a MuJoCo model, and
 * a compact per-frame state (Float32Array) extracted from its data.
 *
 * This is the only thing that crosses from Node to the browser (headless
 * renderer and live viewer), so both build their three.js scene from it with
 * the same code (three-scene.ts). Pure module: no Node or DOM imports, so the
 * browser bundle can import it too.
 *
 * Frames: everything is in the MuJoCo world frame (z up, metres). Rotation
 * matrices are 3x3 row-major, as MuJoCo stores xmat: column j is the body's
 * j-th axis expressed in the world frame. Cameras look along their local -z
 * with local +y up (MuJoCo and three.js agree on this).
 */
import { ArmatureError } from '../../src/errors.ts';

/** The scene description or state does not match the model / each other. */
export class RenderSceneError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('render.scene', message, options);
  }
}

export const GEOM_TYPES = ['plane', 'sphere', 'capsule', 'ellipsoid', 'cylinder', 'box', 'mesh'] as const;
export type GeomType = (typeof GEOM_TYPES)[number];

/** mjtGeom values (MuJoCo 3.x) for the types we draw. */
const MJ_GEOM: Readonly<Record<number, GeomType>> = {
  0: 'plane',
  2: 'sphere',
  3: 'capsule',
  4: 'ellipsoid',
  5: 'cylinder',
  6: 'box',
  7: 'mesh',
};

/** mjtLightType values (MuJoCo >= 3.3). */
const MJ_LIGHT: Readonly<Record<number, LightDesc['type']>> = { 0: 'spot', 1: 'directional', 2: 'point' };

/** A typed array stored in JSON as little-endian base64. */
export interface PackedArray {
  readonly dtype: 'float32' | 'int32';
  readonly length: number;
  readonly b64: string;
}

export interface GeomDesc {
  /** MuJoCo geom id */
  readonly id: number;
  readonly name: string;
  readonly type: GeomType;
  /**
   * MuJoCo geom_size, m: plane (half x, half y, grid spacing; 0 = infinite),
   * sphere (r), capsule/cylinder (r, half length), ellipsoid/box (half extents);
   * unused for mesh.
   */
  readonly size: readonly [number, number, number];
  /** linear RGBA in [0, 1]: geom rgba, or its material's when the geom has a material */
  readonly rgba: readonly [number, number, number, number];
  /** material specular [0, 1] and shininess [0, 1] (MuJoCo defaults 0.5, 0.5) */
  readonly specular: number;
  readonly shininess: number;
  readonly emission: number;
  readonly bodyId: number;
  readonly body: string;
  /** index into RenderScene.meshes, for type 'mesh' */
  readonly mesh?: number;
}

export interface MeshDesc {
  readonly name: string;
  /** vertices in the mesh (geom) frame, m; xyz interleaved */
  readonly vertices: PackedArray;
  /** triangles, 3 vertex indices each */
  readonly faces: PackedArray;
}

export interface LightDesc {
  /** MuJoCo light id */
  readonly id: number;
  readonly type: 'directional' | 'spot' | 'point';
  readonly diffuse: readonly [number, number, number];
  readonly ambient: readonly [number, number, number];
  readonly specular: readonly [number, number, number];
  /** spot cone half-angle, deg */
  readonly cutoff: number;
  readonly bodyId: number;
}

export interface CameraDesc {
  /** MuJoCo camera id */
  readonly id: number;
  readonly name: string;
  /** vertical field of view, deg */
  readonly fovy: number;
  readonly bodyId: number;
  readonly body: string;
}

export interface RenderScene {
  readonly format: 'armature.scene/1';
  readonly geoms: readonly GeomDesc[];
  readonly meshes: readonly MeshDesc[];
  readonly lights: readonly LightDesc[];
  readonly cameras: readonly CameraDesc[];
  /** MuJoCo's headlight: a directional light along the rendering camera's view */
  readonly headlight: {
    readonly active: boolean;
    readonly ambient: readonly [number, number, number];
    readonly diffuse: readonly [number, number, number];
  };
  /** clip planes, m (MuJoCo vis.map.znear/zfar times stat.extent) */
  readonly znear: number;
  readonly zfar: number;
  /** model extent, m, and centre, world frame: default view for the orbit camera */
  readonly extent: number;
  readonly center: readonly [number, number, number];
}

/**
 * The part of MuJoCo's MjModel that describeScene reads. The real MjModel
 * from @mujoco/mujoco satisfies it; its typings say `any`, so we pin them here.
 */
export interface MjModelLike {
  readonly ngeom: number;
  readonly nmesh: number;
  readonly ncam: number;
  readonly nlight: number;
  readonly geom_type: ArrayLike<number>;
  readonly geom_size: ArrayLike<number>;
  readonly geom_rgba: ArrayLike<number>;
  readonly geom_matid: ArrayLike<number>;
  readonly geom_bodyid: ArrayLike<number>;
  readonly geom_dataid: ArrayLike<number>;
  readonly geom_group: ArrayLike<number>;
  readonly mat_rgba: ArrayLike<number>;
  readonly mat_specular: ArrayLike<number>;
  readonly mat_shininess: ArrayLike<number>;
  readonly mat_emission: ArrayLike<number>;
  readonly mesh_vert: ArrayLike<number>;
  readonly mesh_vertadr: ArrayLike<number>;
  readonly mesh_vertnum: ArrayLike<number>;
  readonly mesh_face: ArrayLike<number>;
  readonly mesh_faceadr: ArrayLike<number>;
  readonly mesh_facenum: ArrayLike<number>;
  readonly cam_fovy: ArrayLike<number>;
  readonly cam_bodyid: ArrayLike<number>;
  readonly light_type: ArrayLike<number>;
  readonly light_diffuse: ArrayLike<number>;
  readonly light_ambient: ArrayLike<number>;
  readonly light_specular: ArrayLike<number>;
  readonly light_cutoff: ArrayLike<number>;
  readonly light_bodyid: ArrayLike<number>;
  readonly names: ArrayLike<number>;
  readonly name_geomadr: ArrayLike<number>;
  readonly name_bodyadr: ArrayLike<number>;
  readonly name_camadr: ArrayLike<number>;
  readonly name_meshadr: ArrayLike<number>;
  readonly vis: {
    readonly map: { readonly znear: number; readonly zfar: number };
    readonly headlight: {
      readonly active: number;
      readonly ambient: ArrayLike<number>;
      readonly diffuse: ArrayLike<number>;
    };
  };
  readonly stat: { readonly extent: number; readonly center: ArrayLike<number> };
}

/** The part of MuJoCo's MjData that extractState reads (after mj_forward / mj_step). */
export interface MjDataLike {
  /** geom positions, world frame, m (ngeom x 3) */
  readonly geom_xpos: ArrayLike<number>;
  /** geom orientations, row-major 3x3 (ngeom x 9) */
  readonly geom_xmat: ArrayLike<number>;
  readonly cam_xpos: ArrayLike<number>;
  readonly cam_xmat: ArrayLike<number>;
  readonly light_xpos: ArrayLike<number>;
  /** light directions, world frame, unit (nlight x 3) */
  readonly light_xdir: ArrayLike<number>;
}

export interface DescribeOptions {
  /**
   * geom groups to draw (MuJoCo geom_group). Default: groups 0, 1, 2
   * (menagerie robots put collision geoms in group 3), plus every geom of a
   * body that has none in those groups, so collision-only models still show.
   */
  readonly groups?: readonly number[];
}

function nameAt(names: ArrayLike<number>, adr: number): string {
  let s = '';
  for (let i = adr; i < names.length && names[i] !== 0; i++) s += String.fromCharCode(names[i] & 0xff);
  return s;
}

function triple(a: ArrayLike<number>, i: number): [number, number, number] {
  return [a[3 * i], a[3 * i + 1], a[3 * i + 2]];
}

/** Pack a typed array as little-endian base64 (portable: Node 20 and browsers have btoa/atob). */
export function packArray(a: Float32Array | Int32Array): PackedArray {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + chunk)));
  }
  return { dtype: a instanceof Float32Array ? 'float32' : 'int32', length: a.length, b64: btoa(bin) };
}

export function unpackArray(p: PackedArray): Float32Array | Int32Array {
  const bin = atob(p.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const out = p.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
  if (out.length !== p.length) {
    throw new RenderSceneError(`packed ${p.dtype} array holds ${out.length} values, header says ${p.length}: the scene file is truncated or corrupt; re-export it`);
  }
  return out;
}

/**
 * Extract the drawable scene from a compiled MuJoCo model. Geoms with alpha 0,
 * outside `groups`, or of types we do not draw (hfield, sdf) are left out.
 */
export function describeScene(model: MjModelLike, opts: DescribeOptions = {}): RenderScene {
  const groups = new Set(opts.groups ?? [0, 1, 2]);
  const visualBodies = new Set<number>();
  for (let g = 0; g < model.ngeom; g++) {
    if (groups.has(model.geom_group[g]) && MJ_GEOM[model.geom_type[g]] !== undefined) visualBodies.add(model.geom_bodyid[g]);
  }
  const drawn = (g: number): boolean => groups.has(model.geom_group[g]) || (opts.groups === undefined && !visualBodies.has(model.geom_bodyid[g]));
  const geoms: GeomDesc[] = [];
  const meshIndex = new Map<number, number>();
  const meshes: MeshDesc[] = [];
  const bodyName = (b: number): string => nameAt(model.names, model.name_bodyadr[b]);
  for (let g = 0; g < model.ngeom; g++) {
    const type = MJ_GEOM[model.geom_type[g]];
    if (type === undefined || !drawn(g)) continue;
    const mat = model.geom_matid[g];
    // MuJoCo: a material's rgba overrides the geom's default rgba
    const src = mat >= 0 ? model.mat_rgba : model.geom_rgba;
    const k = mat >= 0 ? mat : g;
    const rgba: [number, number, number, number] = [src[4 * k], src[4 * k + 1], src[4 * k + 2], src[4 * k + 3]];
    if (rgba[3] <= 0) continue;
    let mesh: number | undefined;
    if (type === 'mesh') {
      const id = model.geom_dataid[g];
      let idx = meshIndex.get(id);
      if (idx === undefined) {
        idx = meshes.length;
        meshIndex.set(id, idx);
        const va = model.mesh_vertadr[id];
        const vn = model.mesh_vertnum[id];
        const fa = model.mesh_faceadr[id];
        const fn = model.mesh_facenum[id];
        meshes.push({
          name: nameAt(model.names, model.name_meshadr[id]),
          vertices: packArray(Float32Array.from({ length: 3 * vn }, (_, i) => model.mesh_vert[3 * va + i])),
          faces: packArray(Int32Array.from({ length: 3 * fn }, (_, i) => model.mesh_face[3 * fa + i])),
        });
      }
      mesh = idx;
    }
    const b = model.geom_bodyid[g];
    geoms.push({
      id: g,
      name: nameAt(model.names, model.name_geomadr[g]),
      type,
      size: triple(model.geom_size, g),
      rgba,
      specular: mat >= 0 ? model.mat_specular[mat] : 0.5,
      shininess: mat >= 0 ? model.mat_shininess[mat] : 0.5,
      emission: mat >= 0 ? model.mat_emission[mat] : 0,
      bodyId: b,
      body: bodyName(b),
      ...(mesh !== undefined ? { mesh } : {}),
    });
  }
  const lights: LightDesc[] = [];
  for (let l = 0; l < model.nlight; l++) {
    const type = MJ_LIGHT[model.light_type[l]];
    if (type === undefined) continue; // image lights: no three.js equivalent
    lights.push({
      id: l,
      type,
      diffuse: triple(model.light_diffuse, l),
      ambient: triple(model.light_ambient, l),
      specular: triple(model.light_specular, l),
      cutoff: model.light_cutoff[l],
      bodyId: model.light_bodyid[l],
    });
  }
  const cameras: CameraDesc[] = [];
  for (let c = 0; c < model.ncam; c++) {
    const b = model.cam_bodyid[c];
    cameras.push({ id: c, name: nameAt(model.names, model.name_camadr[c]), fovy: model.cam_fovy[c], bodyId: b, body: bodyName(b) });
  }
  const hl = model.vis.headlight;
  const extent = model.stat.extent;
  return {
    format: 'armature.scene/1',
    geoms,
    meshes,
    lights,
    cameras,
    headlight: { active: hl.active !== 0, ambient: triple(hl.ambient, 0), diffuse: triple(hl.diffuse, 0) },
    znear: model.vis.map.znear * extent,
    zfar: model.vis.map.zfar * extent,
    extent,
    center: triple(model.stat.center, 0),
  };
}

/** Where each item sits in the flat state vector. */
export interface StateLayout {
  /** floats per geom / camera pose: position (3) then row-major rotation (9) */
  readonly poseStride: 12;
  readonly geomOffset: number;
  readonly cameraOffset: number;
  /** lights: position (3) then direction (3) */
  readonly lightOffset: number;
  readonly length: number;
}

export function stateLayout(desc: Pick<RenderScene, 'geoms' | 'cameras' | 'lights'>): StateLayout {
  const cameraOffset = 12 * desc.geoms.length;
  const lightOffset = cameraOffset + 12 * desc.cameras.length;
  return { poseStride: 12, geomOffset: 0, cameraOffset, lightOffset, length: lightOffset + 6 * desc.lights.length };
}

/**
 * Fill the per-frame state from MuJoCo data (call after mj_forward/mj_step):
 * geom poses, camera poses (cam_xpos/cam_xmat), light positions/directions.
 * Reuses `out` when given, so a simulation loop allocates nothing.
 */
export function extractState(desc: RenderScene, data: MjDataLike, out?: Float32Array): Float32Array {
  const layout = stateLayout(desc);
  const s = out ?? new Float32Array(layout.length);
  if (s.length !== layout.length) {
    throw new RenderSceneError(`state buffer has ${s.length} floats, scene needs ${layout.length}: allocate it with stateLayout(desc).length`);
  }
  const pose = (dst: number, pos: ArrayLike<number>, mat: ArrayLike<number>, i: number): void => {
    s[dst] = pos[3 * i];
    s[dst + 1] = pos[3 * i + 1];
    s[dst + 2] = pos[3 * i + 2];
    for (let j = 0; j < 9; j++) s[dst + 3 + j] = mat[9 * i + j];
  };
  desc.geoms.forEach((g, k) => pose(layout.geomOffset + 12 * k, data.geom_xpos, data.geom_xmat, g.id));
  desc.cameras.forEach((c, k) => pose(layout.cameraOffset + 12 * k, data.cam_xpos, data.cam_xmat, c.id));
  desc.lights.forEach((l, k) => {
    const o = layout.lightOffset + 6 * k;
    for (let j = 0; j < 3; j++) {
      s[o + j] = data.light_xpos[3 * l.id + j];
      s[o + 3 + j] = data.light_xdir[3 * l.id + j];
    }
  });
  return s;
}
