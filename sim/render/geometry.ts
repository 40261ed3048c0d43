/**
 * Triangle geometry for each MuJoCo geom type, built with three.js geometry
 * classes (pure math: no WebGL or DOM), shared by the browser scene
 * (three-scene.ts) and the in-process software rasterizer (software/), so
 * both draw the same shapes.
 *
 * Frames: geometry is in the geom's local frame (MuJoCo: capsules and
 * cylinders along local z, planes in local xy with normal +z), metres.
 */
import * as THREE from 'three';
import { RenderSceneError, unpackArray, type GeomDesc, type MeshDesc } from './scene-description.ts';

/** an infinite MuJoCo plane (size 0) is drawn this many zfar wide */
export const INFINITE_PLANE_HALF = 0.5;

/** Tessellation of curved primitives: radial segments, and segments per capsule cap / sphere half. */
export interface Tessellation {
  readonly radial: number;
  readonly cap: number;
}
/** MuJoCo-like smoothness (its default is 28 slices), for the interactive viewer */
export const TESSELLATION_FULL: Tessellation = { radial: 24, cap: 8 };
/**
 * For 128-256 px policy images: about a third of the triangles, which is what
 * software rasterisation pays for (measurements in renderer.ts's header).
 */
export const TESSELLATION_LOW: Tessellation = { radial: 16, cap: 4 };

export function geometryFor(g: GeomDesc, meshes: readonly MeshDesc[], zfar: number, t: Tessellation): THREE.BufferGeometry {
  const [a, b, c] = g.size;
  switch (g.type) {
    case 'plane': {
      const hx = a > 0 ? a : zfar * INFINITE_PLANE_HALF;
      const hy = b > 0 ? b : zfar * INFINITE_PLANE_HALF;
      return new THREE.PlaneGeometry(2 * hx, 2 * hy); // in local xy, normal +z as in MuJoCo
    }
    case 'sphere':
      return new THREE.SphereGeometry(a, t.radial, 2 * t.cap);
    case 'ellipsoid':
      return new THREE.SphereGeometry(1, t.radial, 2 * t.cap).scale(a, b, c);
    case 'capsule':
      // three's capsule/cylinder run along y; MuJoCo's along z
      return new THREE.CapsuleGeometry(a, 2 * b, t.cap, t.radial).rotateX(Math.PI / 2);
    case 'cylinder':
      return new THREE.CylinderGeometry(a, a, 2 * b, t.radial).rotateX(Math.PI / 2);
    case 'box':
      return new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
    case 'mesh': {
      const m = g.mesh !== undefined ? meshes[g.mesh] : undefined;
      if (m === undefined) throw new RenderSceneError(`geom '${g.name || g.id}' is a mesh without a mesh entry: rebuild the description with describeScene`);
      const geo = new THREE.BufferGeometry();
      geo.setAttribute('position', new THREE.BufferAttribute(unpackArray(m.vertices) as Float32Array, 3));
      geo.setIndex(new THREE.BufferAttribute(new Uint32Array(unpackArray(m.faces)), 1));
      geo.computeVertexNormals();
      return geo;
    }
  }
}
