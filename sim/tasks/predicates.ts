/**
 * Goal predicates evaluated on physics state: body poses, contacts and joint positions
 * read from the simulation, with object sizes from the task's scene (task-scene.ts).
 * Nothing here remembers what the robot did: a bowl dropped on the plate counts, a bowl
 * still held above it does not.
 */
import { ArmatureError } from '../../src/errors.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import type { Simulation } from '../physics/simulation.ts';
import type { Vec3 } from '../scene/types.ts';
import { PREDICATES, formatPredicate, type ArgRef, type BddlTask, type Formula, type Predicate, type Rect, type TaskRegion } from './task.ts';
import { TABLE_CENTRE, TABLE_TOP_Z, taskShapes, type EntityShape } from './task-scene.ts';

/** A goal names something the world cannot score. */
export class PredicateError extends ArmatureError {
  constructor(message: string) {
    super('task.predicate', message);
  }
}

/** A body's pose, world: position m, rotation matrix row-major world <- local. */
export interface BodyPose {
  pos: ArrayLike<number>;
  mat: ArrayLike<number>;
}

/** What predicates read from the world. `SimWorldView` implements it over a Simulation. */
export interface WorldView {
  /** shapes of the task's objects and fixtures (not the table), by name */
  readonly shapes: ReadonlyMap<string, EntityShape>;
  readonly regions: readonly TaskRegion[];
  /** centre of the table top, m, world (table regions are relative to it) */
  readonly tableCentre: Vec3;
  bodyPose(body: string): BodyPose;
  /** whether two bodies (or geoms) touch, from the last physics step */
  inContact(a: string, b: string): boolean;
  /** hinge (rad) or slide (m) joint position */
  jointPosition(joint: string): number;
  /**
   * Finger bodies of the robot's grippers, by arm name (robot description order). Absent
   * when the world has no robot; Grasped needs it.
   */
  readonly grippers?: ReadonlyMap<string, readonly string[]>;
}

/** The table body/geom name in task scenes (sim/scene builds the table as a world geom). */
export const TABLE_GEOM = 'table';

export class SimWorldView implements WorldView {
  readonly shapes: ReadonlyMap<string, EntityShape>;
  readonly regions: readonly TaskRegion[];
  readonly tableCentre: Vec3 = TABLE_CENTRE;
  readonly grippers?: ReadonlyMap<string, readonly string[]>;

  /** `robot`: the description of the robot in `sim`, for the gripper predicates */
  constructor(
    readonly sim: Simulation,
    task: BddlTask,
    robot?: Pick<RobotDescription, 'arms'>,
  ) {
    this.shapes = taskShapes(task);
    this.regions = task.regions;
    if (robot) this.grippers = gripperBodies(sim, robot);
  }

  bodyPose(body: string): BodyPose {
    return this.sim.bodyPose(body);
  }

  inContact(a: string, b: string): boolean {
    return this.sim.inContact(a, b);
  }

  jointPosition(joint: string): number {
    return this.sim.jointPositions([joint])[0]!;
  }
}

/** Each arm's finger bodies: the bodies its gripper joints move. */
export function gripperBodies(sim: Simulation, robot: Pick<RobotDescription, 'arms'>): Map<string, string[]> {
  const bodyOf = sim.model.jnt_bodyid as Int32Array;
  const bodies = sim.names('body');
  return new Map(robot.arms.map((a) => [a.name, [...new Set(a.gripper.joints.map((j) => bodies[bodyOf[sim.id('joint', j)]!]!))]]));
}

export interface PredicateOptions {
  /** allowed height of an object's bottom above the supporting top surface, m (default 0.02) */
  onAbove?: number;
  /** allowed depth of an object's bottom below the supporting top (penetration, tilt), m (default 0.015) */
  onBelow?: number;
  /** without contact, an object still rests on a support when its bottom is this close, m (default 0.003) */
  restGap?: number;
  /** drawer Open when its slide is at least this fraction of its travel (default 0.5) */
  openFraction?: number;
  /** drawer Close when its slide is at most this fraction of its travel (default 0.1) */
  closeFraction?: number;
  /** stove TurnOn when |knob angle| >= this, rad (default 0.5) */
  turnOnAngle?: number;
  /** stove TurnOff when |knob angle| <= this, rad (default 0.15) */
  turnOffAngle?: number;
  /** an object counts as In a container when its bottom is at least this far below the rim, m (default 0.005) */
  inDepth?: number;
  /** Lifted: lowest point at least this high above the table top, m (default 0.05) */
  liftHeight?: number;
}

const DEFAULTS: Required<PredicateOptions> = {
  onAbove: 0.02,
  onBelow: 0.015,
  restGap: 0.003,
  openFraction: 0.5,
  closeFraction: 0.1,
  turnOnAngle: 0.5,
  turnOffAngle: 0.15,
  inDepth: 0.005,
  liftHeight: 0.05,
};

// ------------------------------------------------------------------ geometry helpers

/** Geometric centre and vertical half extent of a shape in its current pose, m, world. */
export function shapeExtent(shape: EntityShape, pose: BodyPose): { centre: Vec3; halfZ: number } {
  const m = pose.mat;
  const [sx, sy, sz] = shape.size;
  // local z axis in world = column 2 of the row-major matrix
  const off = shape.originAtBottom ? sz : 0;
  const centre: Vec3 = [pose.pos[0]! + m[2]! * off, pose.pos[1]! + m[5]! * off, pose.pos[2]! + m[8]! * off];
  const round = shape.kind === 'bowl' || shape.kind === 'plate' || shape.kind === 'cylinder' || shape.kind === 'bottle' || shape.kind === 'mug';
  const r22 = Math.min(1, Math.abs(m[8]!));
  const halfZ = round
    ? r22 * sz + sx * Math.sqrt(Math.max(0, 1 - r22 * r22))
    : Math.abs(m[6]!) * sx + Math.abs(m[7]!) * sy + r22 * sz;
  return { centre, halfZ };
}

/** World point expressed in a body's frame (rotation only about the body's axes), m. */
function toLocal(p: ArrayLike<number>, pose: BodyPose): [number, number, number] {
  const m = pose.mat;
  const d = [p[0]! - pose.pos[0]!, p[1]! - pose.pos[1]!, p[2]! - pose.pos[2]!];
  // R^T d
  return [m[0]! * d[0]! + m[3]! * d[1]! + m[6]! * d[2]!, m[1]! * d[0]! + m[4]! * d[1]! + m[7]! * d[2]!, m[2]! * d[0]! + m[5]! * d[1]! + m[8]! * d[2]!];
}

const inRect = (x: number, y: number, r: Rect): boolean => x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3];

interface Located {
  shape: EntityShape;
  pose: BodyPose;
  centre: Vec3;
  bottom: number;
  top: number;
}

function locate(world: WorldView, name: string, where: string): Located {
  const shape = world.shapes.get(name);
  if (!shape) throw new PredicateError(`${where}: '${name}' is not an object or fixture of this task's scene`);
  const pose = world.bodyPose(shape.body);
  const { centre, halfZ } = shapeExtent(shape, pose);
  return { shape, pose, centre, bottom: centre[2] - halfZ, top: centre[2] + halfZ };
}

function footprintContains(t: Located, p: Vec3): boolean {
  const [lx, ly] = toLocal(p, t.pose);
  const [sx, sy] = t.shape.size;
  switch (t.shape.kind) {
    case 'bowl':
    case 'plate':
    case 'cylinder':
    case 'bottle':
    case 'mug':
      return Math.hypot(lx, ly) <= sx;
    default:
      return Math.abs(lx) <= sx && Math.abs(ly) <= sy;
  }
}

// ------------------------------------------------------------------ predicates

type Target =
  | { type: 'entity'; name: string; part: 'body' | 'top' | 'drawer' | 'cook' }
  | { type: 'rect'; owner: string | null; ranges: Rect[]; key: string };

/** What a predicate argument refers to physically. */
function target(world: WorldView, ref: ArgRef, where: string): Target {
  if (ref.kind !== 'region') {
    if (!world.shapes.has(ref.name)) return { type: 'rect', owner: null, ranges: [[-Infinity, -Infinity, Infinity, Infinity]], key: ref.name };
    return { type: 'entity', name: ref.name, part: 'body' };
  }
  const region = world.regions.find((r) => r.name === ref.name && r.target === ref.owner);
  if (!region) throw new PredicateError(`${where}: region '${ref.owner}_${ref.name}' is not declared in the task`);
  const ownerIsEntity = world.shapes.has(ref.owner);
  if (region.ranges.length > 0) return { type: 'rect', owner: ownerIsEntity ? ref.owner : null, ranges: region.ranges, key: `${ref.owner}_${ref.name}` };
  if (!ownerIsEntity) throw new PredicateError(`${where}: table region '${ref.owner}_${ref.name}' has no :ranges, so nothing can be on or in it`);
  const owner = world.shapes.get(ref.owner)!;
  if (owner.drawer && /top_side|top_surface/.test(ref.name)) return { type: 'entity', name: ref.owner, part: 'top' };
  if (owner.drawer) return { type: 'entity', name: ref.owner, part: 'drawer' };
  if (owner.knob) return { type: 'entity', name: ref.owner, part: 'cook' };
  return { type: 'entity', name: ref.owner, part: 'body' };
}

function resting(world: WorldView, a: Located, support: string, topZ: number, o: Required<PredicateOptions>): boolean {
  const gap = a.bottom - topZ;
  if (gap > o.onAbove || gap < -o.onBelow) return false;
  return Math.abs(gap) <= o.restGap || world.inContact(a.shape.body, support);
}

function evalOn(world: WorldView, p: Predicate, o: Required<PredicateOptions>): boolean {
  const where = formatPredicate(p);
  const a = locate(world, p.args[0]!, where);
  const t = target(world, p.refs[1]!, where);
  if (t.type === 'rect') {
    if (t.owner === null) {
      const lx = a.centre[0] - world.tableCentre[0];
      const ly = a.centre[1] - world.tableCentre[1];
      return t.ranges.some((r) => inRect(lx, ly, r)) && resting(world, a, TABLE_GEOM, TABLE_TOP_Z, o);
    }
    const b = locate(world, t.owner, where);
    const [lx, ly] = toLocal(a.centre, b.pose);
    return t.ranges.some((r) => inRect(lx, ly, r)) && resting(world, a, b.shape.body, b.top, o);
  }
  const b = locate(world, t.name, where);
  if (t.part === 'drawer') return evalInDrawer(world, a, b, o);
  if (!footprintContains(b, a.centre)) return false;
  return resting(world, a, b.shape.body, b.top, o);
}

function evalInDrawer(world: WorldView, a: Located, cab: Located, o: Required<PredicateOptions>): boolean {
  const d = cab.shape.drawer;
  if (!d) return false;
  const pose = world.bodyPose(d.body);
  const [lx, ly] = toLocal(a.centre, pose);
  const bottomLocal = a.bottom - pose.pos[2]!;
  return (
    lx >= d.interiorMin[0] && lx <= d.interiorMax[0] && ly >= d.interiorMin[1] && ly <= d.interiorMax[1] &&
    bottomLocal >= d.interiorMin[2] - o.onBelow && bottomLocal <= d.interiorMax[2] - o.inDepth
  );
}

function evalIn(world: WorldView, p: Predicate, o: Required<PredicateOptions>): boolean {
  const where = formatPredicate(p);
  const a = locate(world, p.args[0]!, where);
  const t = target(world, p.refs[1]!, where);
  if (t.type === 'rect') return evalOn(world, { ...p, predicate: 'on' }, o);
  const b = locate(world, t.name, where);
  if (b.shape.drawer && (t.part === 'drawer' || t.part === 'body')) return evalInDrawer(world, a, b, o);
  const wall = b.shape.wall;
  if (wall === undefined) {
    // not a container: In means on it (LIBERO's In on regions of flat things)
    return footprintContains(b, a.centre) && resting(world, a, b.shape.body, b.top, o);
  }
  const [lx, ly] = toLocal(a.centre, b.pose);
  const [sx, sy] = b.shape.size;
  const inside = b.shape.kind === 'bowl' ? Math.hypot(lx, ly) <= sx - wall : Math.abs(lx) <= sx - wall && Math.abs(ly) <= sy - wall;
  const floor = b.bottom + wall;
  return inside && a.bottom >= floor - o.onBelow && a.bottom <= b.top - o.inDepth;
}

/** Every finger of the named gripper (any gripper for `gripper`) touches the object. */
function evalGrasped(world: WorldView, p: Predicate): boolean {
  const where = formatPredicate(p);
  const ref = p.refs[0]!;
  if (ref.kind !== 'gripper') throw new PredicateError(`${where}: the first argument of Grasped must be a gripper (gripper, <arm>_gripper), not '${p.args[0]}'`);
  const grippers = world.grippers;
  if (!grippers || grippers.size === 0) throw new PredicateError(`${where}: this world has no robot grippers; build SimWorldView with the robot description`);
  const arms = ref.arm === null ? [...grippers.keys()] : [ref.arm];
  const a = locate(world, p.args[1]!, where);
  return arms.some((arm) => {
    const fingers = grippers.get(arm);
    if (!fingers) throw new PredicateError(`${where}: the robot has no arm '${arm}'; its grippers are ${[...grippers.keys()].map((k) => `${k}_gripper`).join(', ')}`);
    return fingers.length > 0 && fingers.every((f) => world.inContact(f, a.shape.body));
  });
}

function articulated(world: WorldView, p: Predicate, want: 'drawer' | 'knob'): { shape: EntityShape; q: number } {
  const where = formatPredicate(p);
  const ref = p.refs[0]!;
  const name = ref.kind === 'region' ? ref.owner : ref.name;
  const shape = world.shapes.get(name);
  const part = shape && (want === 'drawer' ? shape.drawer : shape.knob);
  if (!shape || !part) {
    const fits = [...world.shapes.values()].filter((s) => (want === 'drawer' ? s.drawer : s.knob)).map((s) => s.name);
    throw new PredicateError(`${where}: '${p.args[0]}' has no ${want}; ${PREDICATES[p.predicate].bddl} applies to ${fits.join(', ') || '(nothing in this task)'}`);
  }
  return { shape, q: world.jointPosition(part.joint) };
}

/** Truth of one atom in the current physics state. */
export function evaluateAtom(p: Predicate, world: WorldView, opts: PredicateOptions = {}): boolean {
  const o = { ...DEFAULTS, ...opts };
  switch (p.predicate) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'on':
      return evalOn(world, p, o);
    case 'in':
      return evalIn(world, p, o);
    case 'open':
    case 'close': {
      const { shape, q } = articulated(world, p, 'drawer');
      const f = q / shape.drawer!.travel;
      return p.predicate === 'open' ? f >= o.openFraction : f <= o.closeFraction;
    }
    case 'turnon':
    case 'turnoff': {
      const { q } = articulated(world, p, 'knob');
      return p.predicate === 'turnon' ? Math.abs(q) >= o.turnOnAngle : Math.abs(q) <= o.turnOffAngle;
    }
    case 'grasped':
      return evalGrasped(world, p);
    case 'lifted': {
      const where = formatPredicate(p);
      const a = locate(world, p.args[0]!, where);
      return a.bottom >= TABLE_TOP_Z + o.liftHeight && !world.inContact(a.shape.body, TABLE_GEOM);
    }
    default:
      throw new PredicateError(`${formatPredicate(p)}: Armature does not score '${PREDICATES[p.predicate].bddl}'; use On, In, Open, Close, Turnon, Turnoff, Grasped or Lifted`);
  }
}

export interface AtomTruth {
  /** the atom in BDDL, e.g. '(On akita_black_bowl_1 plate_1)' */
  atom: string;
  value: boolean;
}

export interface GoalResult {
  success: boolean;
  /** every atom of the formula, in order of appearance */
  detail: AtomTruth[];
}

/** Evaluates a goal formula (every atom, no short-circuit, so `detail` is complete). */
export function evaluateGoal(formula: Formula, world: WorldView, opts: PredicateOptions = {}): GoalResult {
  const detail: AtomTruth[] = [];
  const walk = (f: Formula): boolean => {
    switch (f.type) {
      case 'atom': {
        const value = evaluateAtom(f, world, opts);
        detail.push({ atom: formatPredicate(f), value });
        return value;
      }
      case 'not':
        return !walk(f.arg);
      case 'and': {
        const vs = f.args.map(walk);
        return vs.every(Boolean);
      }
      case 'or': {
        const vs = f.args.map(walk);
        return vs.some(Boolean);
      }
    }
  };
  const success = walk(formula);
  return { success, detail };
}
