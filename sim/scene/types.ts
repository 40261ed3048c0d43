/**
 * Scene descriptions: plain data that `buildScene` turns into one MJCF document.
 * World frame: z up, metres; quaternions are [w, x, y, z].
 */

export type Vec3 = readonly [number, number, number];
/** unit quaternion [w, x, y, z] */
export type Quat = readonly [number, number, number, number];
export type Rgba = readonly [number, number, number, number];

/** Robots shipped in hardware/. */
export type BuiltinRobot = 'franka_fr3' | 'agibot_dual_arm' | 'ur5e';

export type RobotPlacement =
  | {
      kind: BuiltinRobot;
      /** base position in the world, m */
      pos?: Vec3;
      quat?: Quat;
    }
  | {
      kind: 'mjcf';
      /** a user's MJCF file; mesh/texture files are read from beside it */
      path: string;
      pos?: Vec3;
      quat?: Quat;
    };

interface ObjectBase {
  /** unique; the body is called `name`, its geoms `name`, `name_1`, ... */
  name: string;
  /** world position of the body origin, m (centre of the object unless noted) */
  pos: Vec3;
  quat?: Quat;
  rgba?: Rgba;
  /** total mass, kg (spread evenly over the object's geoms) */
  mass?: number;
  /** sliding friction coefficient */
  friction?: number;
  /** welded to the world instead of free */
  fixed?: boolean;
}

export type SceneObject =
  | (ObjectBase & { type: 'box'; /** half extents, m */ size: Vec3 })
  | (ObjectBase & { type: 'cylinder'; /** m */ radius: number; /** m */ halfHeight: number })
  | (ObjectBase & { type: 'plate'; radius: number; /** default 0.008 m */ halfHeight?: number })
  | (ObjectBase & {
      type: 'bowl';
      /** outer radius, m */ radius: number;
      /** wall height, m (origin at the bottom centre) */ height: number;
      /** wall thickness, m (default 0.008) */ thickness?: number;
      /** wall boxes around the ring (default 12) */ segments?: number;
    })
  | (ObjectBase & {
      type: 'basket';
      /** outer half extents, m (origin at the bottom centre) */ size: Vec3;
      thickness?: number;
    })
  | (ObjectBase & {
      type: 'cabinet';
      /** outer half extents, m; the drawer opens towards local -x; origin at the bottom centre */
      size: Vec3;
      /** how far the drawer slides out, m (default 0.8 x depth) */
      travel?: number;
    })
  | (ObjectBase & {
      type: 'knob';
      /** stove knob: a fixed base plate with a knob turning about local z; radius, m */
      radius?: number;
    })
  | (ObjectBase & {
      type: 'mjcf';
      /** a user's MJCF file; its first top-level body is placed at `pos`/`quat` */
      path: string;
    });

export interface TableSpec {
  /** centre of the top surface, m */
  pos: Vec3;
  /** half extents of the top in x and y, m */
  halfSize: readonly [number, number];
  /** top thickness, m (default 0.05) */
  thickness?: number;
  rgba?: Rgba;
  friction?: number;
}

export interface CameraSpec {
  name: string;
  /** m, world */
  pos: Vec3;
  /** point the camera looks at, m, world */
  target: Vec3;
  /** vertical field of view, degrees */
  fovy?: number;
}

export interface LightSpec {
  pos: Vec3;
  /** direction the light points */
  dir: Vec3;
  directional?: boolean;
  diffuse?: readonly [number, number, number];
  castshadow?: boolean;
}

export interface SceneDescription {
  name?: string;
  /** physics step, s (default 0.002) */
  timestep?: number;
  /** floor plane at z = 0 (default true) */
  floor?: boolean;
  table?: TableSpec;
  robots?: RobotPlacement[];
  objects?: SceneObject[];
  /** extra fixed cameras; `agentview` is added looking at the table unless given here */
  cameras?: CameraSpec[];
  /** default: one directional key light and one fill light */
  lights?: LightSpec[];
}
