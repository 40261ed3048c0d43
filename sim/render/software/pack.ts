/**
 * Tessellate a RenderScene once into flat typed arrays for the software
 * rasterizer: per geom a range of local-frame vertices and normals, local
 * triangle indices, a bounding sphere and its material.
 *
 * Shapes come from the same three.js geometry code as the browser renderer
 * (geometry.ts), with coarser curves: at 128 px a 12-sided capsule and a
 * 16-sided one differ by well under a pixel of silhouette.
 */
import { geometryFor, type Tessellation } from '../geometry.ts';
import { RenderSceneError, type RenderScene } from '../scene-description.ts';

/** Curves for 128-256 px policy images rendered on the CPU. */
export const TESSELLATION_RASTER: Tessellation = { radial: 12, cap: 3 };

/** One drawable geom, in RenderScene.geoms order. */
export interface PackedGeom {
  /** first vertex in PackedScene.positions / normals (vertex index, not float index) */
  readonly vertexStart: number;
  readonly vertexCount: number;
  /** first entry in PackedScene.indices, and how many (3 per triangle; local vertex numbers) */
  readonly indexStart: number;
  readonly indexCount: number;
  /** bounding sphere in the geom frame: centre, m */
  readonly cx: number;
  readonly cy: number;
  readonly cz: number;
  /** m */
  readonly radius: number;
  /** linear RGB in [0, 1], alpha */
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
  readonly emission: number;
  readonly specular: number;
  /** Blinn-Phong exponent (three-scene's max(1, shininess * 128)) */
  readonly exponent: number;
}

export interface PackedScene {
  /** geom-frame vertex positions, m, xyz interleaved */
  readonly positions: Float32Array;
  /** geom-frame unit vertex normals, xyz interleaved */
  readonly normals: Float32Array;
  /** triangles: 3 vertex numbers each, local to their geom's vertex range, counter-clockwise seen from outside */
  readonly indices: Uint32Array;
  /** per triangle (index / 3): 1 where its three vertex normals agree (a flat face), else 0 */
  readonly flat: Uint8Array;
  readonly geoms: readonly PackedGeom[];
  /** most vertices of any one geom (sizes the per-frame scratch) */
  readonly maxVertices: number;
  readonly triangles: number;
}

/** Tessellate every geom of `scene` (meshes shared between geoms are stored once). */
export function packScene(scene: RenderScene, tess: Tessellation = TESSELLATION_RASTER): PackedScene {
  if (scene.format !== 'armature.scene/1') {
    throw new RenderSceneError(`scene description format '${String(scene.format)}' is not 'armature.scene/1': regenerate it with describeScene`);
  }
  const pos: Float32Array[] = [];
  const nrm: Float32Array[] = [];
  const idx: Uint32Array[] = [];
  const meshRange = new Map<number, { vs: number; vc: number; is: number; ic: number; sphere: [number, number, number, number] }>();
  const geoms: PackedGeom[] = [];
  let nv = 0;
  let ni = 0;
  let maxVertices = 0;
  for (const g of scene.geoms) {
    let range = g.type === 'mesh' && g.mesh !== undefined ? meshRange.get(g.mesh) : undefined;
    if (range === undefined) {
      const geo = geometryFor(g, scene.meshes, scene.zfar, tess);
      const p = Float32Array.from(geo.getAttribute('position').array);
      const normal = geo.getAttribute('normal');
      if (normal === undefined) geo.computeVertexNormals();
      const n = Float32Array.from(geo.getAttribute('normal').array);
      const vc = p.length / 3;
      const index = geo.getIndex();
      const tri = index !== null ? Uint32Array.from(index.array) : Uint32Array.from({ length: vc }, (_, i) => i);
      geo.dispose();
      range = { vs: nv, vc, is: ni, ic: tri.length, sphere: boundingSphere(p) };
      if (g.type === 'mesh' && g.mesh !== undefined) meshRange.set(g.mesh, range);
      pos.push(p);
      nrm.push(n);
      idx.push(tri);
      nv += vc;
      ni += tri.length;
      maxVertices = Math.max(maxVertices, vc);
    }
    const [cx, cy, cz, radius] = range.sphere;
    geoms.push({
      vertexStart: range.vs,
      vertexCount: range.vc,
      indexStart: range.is,
      indexCount: range.ic,
      cx,
      cy,
      cz,
      radius,
      r: g.rgba[0],
      g: g.rgba[1],
      b: g.rgba[2],
      a: g.rgba[3],
      emission: g.emission,
      specular: g.specular,
      exponent: Math.max(1, g.shininess * 128),
    });
  }
  const concat = <T extends Float32Array | Uint32Array>(parts: T[], out: T): T => {
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const positions = concat(pos, new Float32Array(3 * nv));
  const normals = concat(nrm, new Float32Array(3 * nv));
  const indices = concat(idx, new Uint32Array(ni));
  const flat = new Uint8Array(ni / 3);
  for (const g of geoms) {
    for (let t = g.indexStart; t < g.indexStart + g.indexCount; t += 3) {
      const a = 3 * (g.vertexStart + indices[t]);
      const b = 3 * (g.vertexStart + indices[t + 1]);
      const c = 3 * (g.vertexStart + indices[t + 2]);
      const dab = normals[a] * normals[b] + normals[a + 1] * normals[b + 1] + normals[a + 2] * normals[b + 2];
      const dac = normals[a] * normals[c] + normals[a + 1] * normals[c + 1] + normals[a + 2] * normals[c + 2];
      flat[t / 3] = dab > 0.99999 && dac > 0.99999 ? 1 : 0;
    }
  }
  return {
    positions,
    normals,
    indices,
    flat,
    geoms,
    maxVertices,
    triangles: geoms.reduce((s, g) => s + g.indexCount / 3, 0),
  };
}

/** Centre of the bounding box and the largest distance from it: [x, y, z, r], m. */
function boundingSphere(p: Float32Array): [number, number, number, number] {
  if (p.length === 0) return [0, 0, 0, 0];
  let x0 = Infinity;
  let y0 = Infinity;
  let z0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let z1 = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    x0 = Math.min(x0, p[i]);
    x1 = Math.max(x1, p[i]);
    y0 = Math.min(y0, p[i + 1]);
    y1 = Math.max(y1, p[i + 1]);
    z0 = Math.min(z0, p[i + 2]);
    z1 = Math.max(z1, p[i + 2]);
  }
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const cz = (z0 + z1) / 2;
  let r2 = 0;
  for (let i = 0; i < p.length; i += 3) {
    const dx = p[i] - cx;
    const dy = p[i + 1] - cy;
    const dz = p[i + 2] - cz;
    r2 = Math.max(r2, dx * dx + dy * dy + dz * dz);
  }
  // float32 vertices: a hair of slack so culling never clips a touching geom
  return [cx, cy, cz, Math.sqrt(r2) * (1 + 1e-6) + 1e-9];
}
