/**
 * From a BDDL task to a MuJoCo scene: the table, the Franka, fixtures and objects at
 * the poses of an initial layout, and the sampling of such layouts from the task's
 * `:init` regions (LIBERO's placement samplers: uniform in the region rectangle,
 * rejecting overlapping bounding circles).
 *
 * World frame: z up, m. The table top is at z = 0.4 with its centre at x = 0.5; the
 * Franka's base sits at the table edge, [0, 0, 0.4], facing +x (other robots: robots.ts). Region rectangles of the
 * table are relative to the table centre (as in LIBERO); rectangles of other targets
 * are in that target's frame.
 */
import { ArmatureError } from '../../src/errors.ts';
import { Rng } from '../../src/util/random.ts';
import type { BuiltinRobot, Quat, SceneDescription, SceneObject, Vec3 } from '../scene/types.ts';
import { categoryGeometry, toSceneObject, type CategoryGeometry, type GeometryKind } from './categories.ts';
import { regionKey, type ArgRef, type BddlTask, type Predicate, type Rect, type TaskRegion } from './task.ts';

/** A task cannot be turned into a scene or a layout. */
export class TaskSceneError extends ArmatureError {
  constructor(message: string) {
    super('task.scene', message);
  }
}

/** centre of the table top, m, world */
export const TABLE_CENTRE: Vec3 = [0.5, 0, 0.4];
/** z of the table top, m */
export const TABLE_TOP_Z = TABLE_CENTRE[2];
/** Franka base, m, world */
export const ROBOT_BASE: Vec3 = [0, 0, 0.4];
/** the robot's base keeps this radius free of objects, m */
const ROBOT_KEEP_OUT = 0.2;

/** stove knob radius, m; its base plate is 3 x this on each side */
const KNOB_RADIUS = 0.022;
/** cabinet drawer travel as a multiple of the cabinet's half depth: far enough to put a bowl in */
const DRAWER_TRAVEL_PER_HALF_DEPTH = 1.58;
/** carcass wall thickness of sim/scene cabinets, m (sim/scene/build.ts) */
const CABINET_WALL = 0.015;

/**
 * Geometry changes against categories.ts for objects a Franka hand (0.08 m opening)
 * must grasp in our suites.
 */
const GRASPABLE_OVERRIDES: Readonly<Record<string, Partial<Pick<CategoryGeometry, 'size'>>>> = {
  // 0.09 m across is wider than the open hand
  moka_pot: { size: [0.035, 0.035, 0.07] },
};

/** A category's geometry as the task scenes use it (categories.ts plus GRASPABLE_OVERRIDES). */
export function taskGeometry(category: string): CategoryGeometry {
  const g = categoryGeometry(category);
  const o = GRASPABLE_OVERRIDES[category.toLowerCase()];
  return o?.size ? { ...g, size: [o.size[0], o.size[1], o.size[2]] } : g;
}

/** Where one object or fixture starts. */
export interface Placement {
  name: string;
  /** point on the supporting surface below the object's centre, m, world */
  pos: [number, number, number];
  /** rotation about world +z, rad */
  yaw: number;
}

/**
 * One initial state of a task: every object and fixture (not the table). Fixtures are
 * welded into the compiled model, so they sit at the same place in all layouts of a task.
 */
export interface InitLayout {
  placements: Placement[];
}

/** What the predicates and the expert need to know about one object or fixture. */
export interface EntityShape {
  name: string;
  category: string;
  kind: GeometryKind;
  /** half extents along the body's local x, y, z, m (x = y = radius for round kinds) */
  size: Vec3;
  fixture: boolean;
  /** model body whose frame `size` refers to */
  body: string;
  /** body origin at the bottom centre (bowl, basket, cabinet) rather than the centre */
  originAtBottom: boolean;
  /** wall/floor thickness of containers (bowl, basket), m */
  wall?: number;
  /** a cabinet's drawer: slides along the cabinet's local -x, `joint` in m from 0 (closed) to `travel` */
  drawer?: {
    body: string;
    joint: string;
    /** m */
    travel: number;
    /** inside of the tray in the drawer body's frame, m */
    interiorMin: Vec3;
    interiorMax: Vec3;
    /** the handle geom (pull it along the cabinet's -x) */
    handle: string;
  };
  /** a stove's knob: hinge about world z, rad, 0 = off */
  knob?: { body: string; joint: string; /** m */ radius: number };
}

export function isTableCategory(category: string): boolean {
  return taskGeometry(category).kind === 'table';
}

/** Shapes of every object and fixture of the task except tables, keyed by name. */
export function taskShapes(task: BddlTask): Map<string, EntityShape> {
  const out = new Map<string, EntityShape>();
  for (const e of [...task.fixtures, ...task.objects]) {
    const g = taskGeometry(e.category);
    if (g.kind === 'table') continue;
    const [sx, sy, sz] = g.size;
    const shape: EntityShape = {
      name: e.name,
      category: e.category,
      kind: g.kind,
      size: [sx, sy, sz],
      fixture: g.fixture,
      body: e.name,
      originAtBottom: g.kind === 'bowl' || g.kind === 'basket' || g.kind === 'cabinet',
    };
    if (g.kind === 'bowl') shape.wall = 0.008;
    if (g.kind === 'basket') shape.wall = 0.006;
    if (g.kind === 'cabinet') {
      // mirrors the drawer geoms of sim/scene/build.ts
      const dx = sx - CABINET_WALL;
      const dy = sy - CABINET_WALL - 0.004;
      const dz = sz - CABINET_WALL - 0.004;
      shape.drawer = {
        body: `${e.name}_drawer`,
        joint: `${e.name}_drawer_joint`,
        travel: DRAWER_TRAVEL_PER_HALF_DEPTH * sx,
        interiorMin: [-sx + 0.012, -dy + 0.008, -dz + 0.008],
        interiorMax: [dx - 0.016, dy - 0.008, dz],
        handle: `${e.name}_handle`,
      };
    }
    if (g.kind === 'stove') {
      shape.body = `${e.name}_burner`;
      shape.knob = { body: `${e.name}_knob`, joint: `${e.name}_joint`, radius: KNOB_RADIUS };
    }
    out.set(e.name, shape);
  }
  return out;
}

/** local offset of a stove's knob from its burner centre: in front (local -x), towards the robot */
const knobOffset = (shape: EntityShape): [number, number] => [-shape.size[0] - 3 * KNOB_RADIUS, 0];

/** Circles [x, y, r] (local to the placement, m) that hold the whole footprint. */
function footprintCircles(shape: EntityShape): [number, number, number][] {
  const [sx, sy] = shape.size;
  switch (shape.kind) {
    case 'box':
    case 'basket':
    case 'cabinet':
      return [[0, 0, Math.hypot(sx, sy)]];
    case 'stove': {
      const [kx, ky] = knobOffset(shape);
      return [[0, 0, Math.hypot(sx, sy)], [kx, ky, 3 * KNOB_RADIUS * Math.SQRT2]];
    }
    default:
      return [[0, 0, sx]];
  }
}

const yawQuat = (yaw: number): Quat => [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];

/** Local offset [x, y] rotated by yaw. */
function rotate(x: number, y: number, yaw: number): [number, number] {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return [c * x - s * y, s * x + c * y];
}

/** The scene objects standing in for one entity at a placement (a stove is a burner plus a knob). */
export function sceneObjectsFor(shape: EntityShape, p: Placement): SceneObject[] {
  const quat = yawQuat(p.yaw);
  if (shape.kind === 'stove') {
    const g = taskGeometry(shape.category);
    const [kx, ky] = rotate(...knobOffset(shape), p.yaw);
    return [
      { type: 'box', name: shape.body, pos: [p.pos[0], p.pos[1], p.pos[2] + shape.size[2]], quat, size: shape.size, rgba: g.rgba, fixed: true },
      { type: 'knob', name: shape.name, pos: [p.pos[0] + kx, p.pos[1] + ky, p.pos[2]], quat, radius: KNOB_RADIUS, rgba: [0.25, 0.25, 0.25, 1] },
    ];
  }
  const obj = toSceneObject({ name: shape.name, category: shape.category, pos: p.pos, quat });
  if (!obj) return [];
  const sized = withSize(obj, shape);
  if (sized.type === 'cabinet') return [{ ...sized, travel: shape.drawer?.travel }];
  return [sized];
}

/** applies GRASPABLE_OVERRIDES, which toSceneObject does not know */
function withSize(obj: SceneObject, shape: EntityShape): SceneObject {
  const [sx, sy, sz] = shape.size;
  // toSceneObject centred these with the categories.ts half height; re-centre with ours
  const z = obj.pos[2] - categoryGeometry(shape.category).size[2] + sz;
  if (obj.type === 'cylinder') return { ...obj, pos: [obj.pos[0], obj.pos[1], z], radius: sx, halfHeight: sz };
  if (obj.type === 'box') return { ...obj, pos: [obj.pos[0], obj.pos[1], z], size: [sx, sy, sz] };
  return obj;
}

/** Which simulated robot stands where (sim/tasks/robots.ts: TaskRobot). */
export interface SceneRobot {
  kind: BuiltinRobot;
  /** base position, m, world */
  base: Vec3;
}

/** The robot of the LIBERO-style suites. */
export const FRANKA_SCENE_ROBOT: SceneRobot = { kind: 'franka_fr3', base: ROBOT_BASE };

/** The MuJoCo scene of a task in one layout (objects at their placements), with `robot` (default the Franka). */
export function buildTaskScene(task: BddlTask, layout: InitLayout, robot: SceneRobot = FRANKA_SCENE_ROBOT): SceneDescription {
  const shapes = taskShapes(task);
  const byName = new Map(layout.placements.map((p) => [p.name, p]));
  const tableEntity = task.fixtures.find((f) => isTableCategory(f.category) && taskGeometry(f.category).size[2] > 0);
  const tg = taskGeometry(tableEntity?.category ?? 'kitchen_table');
  const objects: SceneObject[] = [];
  for (const shape of shapes.values()) {
    const p = byName.get(shape.name);
    if (!p) throw new TaskSceneError(`layout has no placement for '${shape.name}' of task '${task.problem}': sample it with sampleInitLayout`);
    objects.push(...sceneObjectsFor(shape, p));
  }
  return {
    name: task.problem.toLowerCase(),
    table: { pos: TABLE_CENTRE, halfSize: [tg.size[0], tg.size[1]], thickness: 2 * tg.size[2], rgba: tg.rgba },
    robots: [{ kind: robot.kind, pos: robot.base }],
    objects,
  };
}

/** Body pose (centre for centred kinds, bottom centre otherwise) of an entity at a placement. */
export function placementBodyPose(shape: EntityShape, p: Placement): { pos: Vec3; quat: Quat } {
  const o = sceneObjectsFor(shape, p)[0];
  if (!o) throw new TaskSceneError(`'${shape.name}' has no body`);
  return { pos: o.pos, quat: o.quat ?? [1, 0, 0, 0] };
}

// ---------------------------------------------------------------- layout sampling

/** How an entity's :init predicate places it. */
type Support =
  | { type: 'rect'; owner: string | null; ranges: Rect[]; yaw: [number, number]; region: string }
  | { type: 'on'; target: string; part: 'top' | 'cook' }
  | { type: 'in'; target: string };

export interface SampleOptions {
  /** tries per entity before giving up (default 2000) */
  maxTries?: number;
  /** gap kept between bounding circles, m (default 0.01) */
  clearance?: number;
  /** robot base, m, world: objects keep 0.2 m from it (default ROBOT_BASE, the Franka's) */
  robotBase?: Vec3;
}

function supportOf(task: BddlTask, name: string, shapes: Map<string, EntityShape>): Support {
  const atom: Predicate | undefined = task.init.find((p) => (p.predicate === 'on' || p.predicate === 'in') && p.args[0] === name);
  if (!atom) {
    throw new TaskSceneError(`'${name}' of task '${task.problem}' has no (On ${name} ...) or (In ${name} ...) in :init: add one naming a region or an object`);
  }
  const ref: ArgRef = atom.refs[1]!;
  const where = `(${atom.predicate} ${atom.args.join(' ')})`;
  if (ref.kind === 'region') {
    const region = task.regions.find((r) => r.name === ref.name && r.target === ref.owner) as TaskRegion;
    const ownerIsTable = !shapes.has(ref.owner);
    if (region.ranges.length > 0) {
      return { type: 'rect', owner: ownerIsTable ? null : ref.owner, ranges: region.ranges, yaw: region.yawRotation ?? [0, 0], region: regionKey(region) };
    }
    if (ownerIsTable) throw new TaskSceneError(`${where}: table region '${regionKey(region)}' has no :ranges to sample from; give it (:ranges ((x0 y0 x1 y1)))`);
    if (atom.predicate === 'in') return { type: 'in', target: ref.owner };
    return { type: 'on', target: ref.owner, part: region.name.includes('cook') ? 'cook' : 'top' };
  }
  if (!shapes.has(ref.name)) throw new TaskSceneError(`${where}: '${ref.name}' is a table; name one of its regions instead`);
  return atom.predicate === 'in' ? { type: 'in', target: ref.name } : { type: 'on', target: ref.name, part: 'top' };
}

/** z of the top surface of a placed entity, m, world */
function topZ(shape: EntityShape, p: Placement): number {
  return p.pos[2] + 2 * shape.size[2];
}

/** Where something put In `shape` rests, world: [x, y, z] */
function interiorPoint(shape: EntityShape, p: Placement): [number, number, number] {
  if (shape.drawer) {
    const d = shape.drawer;
    const cx = (d.interiorMin[0] + d.interiorMax[0]) / 2;
    const [ox, oy] = rotate(cx, 0, p.yaw);
    return [p.pos[0] + ox, p.pos[1] + oy, p.pos[2] + shape.size[2] + d.interiorMin[2]];
  }
  return [p.pos[0], p.pos[1], p.pos[2] + (shape.wall ?? 0)];
}

/**
 * `count` layouts from the stream (seed, task index) that `armature record` draws its
 * demonstrations' layouts from, so a seed names one set of layouts per task: the recorder's
 * training layouts, or validation layouts for `armature eval --layouts` (any seed neither
 * records used). The suites' fixed evaluation states come from their own per-task seeds.
 */
export function freshLayouts(task: BddlTask, seed: number, taskIndex: number, count: number, opts: SampleOptions = {}): InitLayout[] {
  const rng = new Rng((seed * 7919 + taskIndex * 104729 + 1) >>> 0);
  return Array.from({ length: count }, () => sampleInitLayout(task, rng, opts));
}

/**
 * Samples one initial layout: fixtures at the centre of their region (they are welded into
 * the model, so they must not move between layouts of a task), objects uniformly in their
 * region with the region's yaw range, and objects `On`/`In` another entity centred on it.
 * Rejects overlapping bounding circles of entities standing on the table.
 */
export function sampleInitLayout(task: BddlTask, rng: Rng, opts: SampleOptions = {}): InitLayout {
  const shapes = taskShapes(task);
  const maxTries = opts.maxTries ?? 2000;
  const clearance = opts.clearance ?? 0.01;
  const base = opts.robotBase ?? ROBOT_BASE;
  const supports = new Map([...shapes.keys()].map((n) => [n, supportOf(task, n, shapes)]));
  const placed = new Map<string, Placement>();
  /** table-standing footprints: centre x, y and radius */
  const circles: { name: string; x: number; y: number; r: number }[] = [];
  const [tx, ty, tz] = TABLE_CENTRE;
  const tableHalf = taskGeometry('kitchen_table').size;

  const place = (name: string, stack: string[]): Placement => {
    const done = placed.get(name);
    if (done) return done;
    if (stack.includes(name)) throw new TaskSceneError(`:init of task '${task.problem}' places ${[...stack, name].join(' -> ')} in a cycle`);
    const shape = shapes.get(name)!;
    const sup = supports.get(name)!;
    let p: Placement;
    if (sup.type === 'on' || sup.type === 'in') {
      const targetShape = shapes.get(sup.target)!;
      const t = place(sup.target, [...stack, name]);
      if (sup.type === 'in') {
        const [x, y, z] = interiorPoint(targetShape, t);
        p = { name, pos: [x, y, z], yaw: t.yaw };
      } else {
        p = { name, pos: [t.pos[0], t.pos[1], topZ(targetShape, t)], yaw: t.yaw };
      }
    } else {
      const owner = sup.owner === null ? null : place(sup.owner, [...stack, name]);
      const ownerShape = sup.owner === null ? null : shapes.get(sup.owner)!;
      const local = footprintCircles(shape);
      const circlesAt = (c: Placement): { x: number; y: number; r: number }[] =>
        local.map(([x, y, r]) => {
          const [ox, oy] = rotate(x, y, c.yaw);
          return { x: c.pos[0] + ox, y: c.pos[1] + oy, r };
        });
      let found: Placement | undefined;
      for (let k = 0; k < (shape.fixture ? 1 : maxTries) && !found; k++) {
        const rect = shape.fixture ? sup.ranges[0]! : sup.ranges[rng.int(sup.ranges.length)]!;
        const u = shape.fixture ? 0.5 : rng.uniform();
        const v = shape.fixture ? 0.5 : rng.uniform();
        const w = shape.fixture ? 0.5 : rng.uniform();
        const lx = rect[0] + u * (rect[2] - rect[0]);
        const ly = rect[1] + v * (rect[3] - rect[1]);
        const yaw = sup.yaw[0] + w * (sup.yaw[1] - sup.yaw[0]);
        let cand: Placement;
        if (owner && ownerShape) {
          const [ox, oy] = rotate(lx, ly, owner.yaw);
          cand = { name, pos: [owner.pos[0] + ox, owner.pos[1] + oy, topZ(ownerShape, owner)], yaw: owner.yaw + yaw };
        } else {
          cand = { name, pos: [tx + lx, ty + ly, tz], yaw };
          const mine = circlesAt(cand);
          const inside = mine.every((m) => Math.abs(m.x - tx) + m.r <= tableHalf[0] && Math.abs(m.y - ty) + m.r <= tableHalf[1]);
          const clearOfRobot = mine.every((m) => Math.hypot(m.x - base[0], m.y - base[1]) >= ROBOT_KEEP_OUT + m.r);
          const free = mine.every((m) => circles.every((c) => Math.hypot(c.x - m.x, c.y - m.y) >= c.r + m.r + clearance));
          if (!inside || !clearOfRobot || !free) {
            if (shape.fixture) {
              throw new TaskSceneError(`fixture '${name}' at the centre of region '${sup.region}' overlaps another fixture, the robot base or the table edge: move the region`);
            }
            continue;
          }
        }
        found = cand;
      }
      if (!found) {
        throw new TaskSceneError(`could not place '${name}' in region '${sup.region}' without overlaps after ${maxTries} tries: enlarge the region or move the others`);
      }
      p = found;
      if (!owner) circles.push(...circlesAt(p).map((c) => ({ name, ...c })));
    }
    placed.set(name, p);
    return p;
  };

  // fixtures first: they are fixed, objects must avoid them
  const order = [...shapes.values()].sort((a, b) => Number(b.fixture) - Number(a.fixture)).map((s) => s.name);
  for (const n of order) place(n, []);
  return { placements: order.map((n) => roundPlacement(placed.get(n)!)) };
}

/** 0.1 mm / 1e-4 rad: init files stay short and read back exactly */
function roundPlacement(p: Placement): Placement {
  const r = (x: number): number => Math.round(x * 1e4) / 1e4 + 0;
  return { name: p.name, pos: [r(p.pos[0]), r(p.pos[1]), r(p.pos[2])], yaw: r(p.yaw) };
}

/**
 * Bounding circles of the entities standing on the table in a layout, world, m (objects
 * resting on or in another entity are left out). Sampled layouts keep these apart.
 */
export function tableFootprints(task: BddlTask, layout: InitLayout): { name: string; x: number; y: number; r: number }[] {
  const shapes = taskShapes(task);
  const out: { name: string; x: number; y: number; r: number }[] = [];
  for (const p of layout.placements) {
    const shape = shapes.get(p.name);
    if (!shape) continue;
    const sup = supportOf(task, p.name, shapes);
    if (sup.type !== 'rect' || sup.owner !== null) continue;
    for (const [x, y, r] of footprintCircles(shape)) {
      const [ox, oy] = rotate(x, y, p.yaw);
      out.push({ name: p.name, x: p.pos[0] + ox, y: p.pos[1] + oy, r });
    }
  }
  return out;
}

/** The table region rectangle (relative to the table centre) an entity's :init samples from, if any. */
export function initRegion(task: BddlTask, name: string): { key: string; ranges: Rect[] } | undefined {
  const sup = supportOf(task, name, taskShapes(task));
  return sup.type === 'rect' && sup.owner === null ? { key: sup.region, ranges: sup.ranges } : undefined;
}
