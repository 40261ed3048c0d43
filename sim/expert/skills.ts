/**
 * Motion primitives of the scripted expert: small state machines ("stages") that each
 * produce one 7-D action per policy tick from privileged state, and skills that chain
 * them (pick, place, open a drawer, turn a knob).
 *
 * Action: [dx, dy, dz (m), drx, dry, drz (rad, axis-angle, world frame), gripper width (m)],
 * deltas for one tick, the same as the `ee_delta` RobotCommand (LIBERO's 7-D action,
 * unscaled). World frame: z up. Closed loop: every target is recomputed each tick from
 * the current object poses, so small slips are corrected.
 */
import { ArmatureError } from '../../src/errors.ts';
import { mat2axisAngle, matMulT3 } from '../physics/math.ts';
import type { EntityShape } from '../tasks/task-scene.ts';

export type Vec3 = [number, number, number];

/** A skill was asked to act on something it cannot handle. */
export class SkillError extends ArmatureError {
  constructor(message: string) {
    super('expert.skill', message);
  }
}

/** Privileged simulator state the skills read (world frame); sim/tasks/predicates.ts WorldView provides it. */
export interface SkillWorld {
  /** body pose: position (m) and rotation matrix (row-major, world <- body) */
  bodyPose(name: string): { pos: ArrayLike<number>; mat: ArrayLike<number> };
  /** position of a hinge (rad) or slide (m) joint */
  jointPosition(name: string): number;
}

/** Measured TCP state (world frame). */
export interface TcpState {
  /** m */
  pos: Float64Array;
  /** row-major rotation, world <- tcp; tcp z points out of the fingers, y is the closing axis */
  mat: Float64Array;
  /** gripper width, m (sum of both fingers) */
  width: number;
}

export interface SkillContext {
  tcp: TcpState;
  world: SkillWorld;
  /** lowest TCP height the robot's safety workspace allows, m, world; targets are kept above it */
  minZ?: number;
  /** highest TCP height targets may ask for, m, world (an approach that chases an object stuck to the hand stops here) */
  maxZ?: number;
}

export interface PoseTarget {
  /** TCP position, m, world */
  pos: Vec3;
  /** TCP rotation, row-major, world <- tcp */
  mat: Float64Array;
}

/** Gripper widths, m. */
export const GRIPPER_OPEN = 0.08;
export const GRIPPER_CLOSED = 0;

/** One phase of a skill: a TCP target, a gripper width and an end condition. */
export interface Stage {
  readonly name: string;
  /** called on the first tick of the stage (capture poses here) */
  begin?(ctx: SkillContext): void;
  /** TCP goal for this tick */
  target(ctx: SkillContext): PoseTarget;
  /** gripper width target, m (a stage's begin may set it, e.g. from the width it grasped at) */
  gripper: number;
  /** 'reach': pose within tolerance (or motion stalled); 'gripper': fingers stopped; 'ticks': after maxTicks */
  readonly until: 'reach' | 'gripper' | 'ticks';
  /** position tolerance for 'reach', m (default 0.005) */
  readonly tol?: number;
  /** largest translation per tick, m (default 0.015) */
  readonly maxStep?: number;
  /** ramp the step limit up from 1/rampTicks of maxStep over this many ticks (gentle starts under load) */
  readonly rampTicks?: number;
  /** the stage ends after this many ticks whatever happens */
  readonly maxTicks: number;
  /** extra end condition, checked every tick */
  readonly doneWhen?: (ctx: SkillContext) => boolean;
}

/** Largest rotation per tick, rad (the safety filter allows 2.5 rad/s = 0.125 rad per tick at 20 Hz). */
export const MAX_ROT_STEP = 0.08;

/** Rotation of a gripper pointing straight down with its closing axis at `yaw` (rad about world z). */
export function topDown(yaw: number): Float64Array {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  // columns: x = (-s, c, 0), y (closing) = (c, s, 0), z (fingers) = (0, 0, -1)
  return Float64Array.of(-s, c, 0, c, s, 0, 0, 0, -1);
}

/** Yaw of the closing axis (tcp y) projected on the world xy plane, rad. */
export function closingYaw(mat: ArrayLike<number>): number {
  return Math.atan2(mat[4], mat[1]);
}

/** The yaw equivalent to `yaw` for a parallel gripper (mod pi) closest to `ref`. */
export function nearestYaw(yaw: number, ref: number): number {
  let y = yaw;
  while (y - ref > Math.PI / 2) y -= Math.PI;
  while (y - ref < -Math.PI / 2) y += Math.PI;
  return y;
}

/** Rotation with the given columns (x, y, z as world vectors). */
export function fromColumns(x: ArrayLike<number>, y: ArrayLike<number>, z: ArrayLike<number>): Float64Array {
  return Float64Array.of(x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]);
}

/** Angle between two rotations, rad. */
export function rotationDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = mat2axisAngle(matMulT3(a, b));
  return Math.hypot(w[0], w[1], w[2]);
}

/**
 * One tick's action towards `target`: the translation error clipped to `maxStep` (norm)
 * and the rotation error (axis-angle, world) clipped to MAX_ROT_STEP.
 */
export function deltaTowards(tcp: TcpState, target: PoseTarget, gripper: number, maxStep: number, out = new Float64Array(7)): Float64Array {
  let n = 0;
  for (let i = 0; i < 3; i++) {
    out[i] = target.pos[i] - tcp.pos[i];
    n += out[i] * out[i];
  }
  n = Math.sqrt(n);
  if (n > maxStep) for (let i = 0; i < 3; i++) out[i] *= maxStep / n;
  const w = mat2axisAngle(matMulT3(target.mat, tcp.mat));
  const r = Math.hypot(w[0], w[1], w[2]);
  const s = r > MAX_ROT_STEP ? MAX_ROT_STEP / r : 1;
  for (let i = 0; i < 3; i++) out[3 + i] = w[i] * s;
  out[6] = gripper;
  return out;
}

/** Runs stages in order, one action per tick. */
export class StageRunner {
  private index = 0;
  private ticks = 0;
  private started = false;
  private readonly history: Float64Array[] = [];
  private lastWidth = Number.NaN;
  private stillTicks = 0;
  /** names of stages that ended by timeout rather than by their condition */
  readonly timeouts: string[] = [];

  constructor(private stages: Stage[]) {}

  get done(): boolean {
    return this.index >= this.stages.length;
  }

  get current(): Stage | undefined {
    return this.stages[this.index];
  }

  /** Replace the remaining stages (replanning after a failed grasp). */
  replace(stages: Stage[]): void {
    this.stages = stages;
    this.index = 0;
    this.resetStage();
  }

  /** Next action, or null when every stage is done. */
  step(ctx: SkillContext): Float64Array | null {
    for (let guard = 0; guard < 64 && this.index < this.stages.length; guard++) {
      const st = this.stages[this.index];
      if (!this.started) {
        st.begin?.(ctx);
        this.started = true;
      }
      const target = st.target(ctx);
      if (ctx.minZ !== undefined && target.pos[2] < ctx.minZ) target.pos = [target.pos[0], target.pos[1], ctx.minZ];
      if (ctx.maxZ !== undefined && target.pos[2] > ctx.maxZ) target.pos = [target.pos[0], target.pos[1], ctx.maxZ];
      if (this.ticks > 0 && this.finished(st, ctx, target)) {
        this.index++;
        this.resetStage();
        continue;
      }
      if (this.ticks >= st.maxTicks) {
        this.timeouts.push(st.name);
        this.index++;
        this.resetStage();
        continue;
      }
      this.ticks++;
      this.history.push(Float64Array.from(ctx.tcp.pos));
      if (this.history.length > 4) this.history.shift();
      const ramp = st.rampTicks ? Math.min(1, this.ticks / st.rampTicks) : 1;
      return deltaTowards(ctx.tcp, target, st.gripper, (st.maxStep ?? 0.015) * ramp);
    }
    return null;
  }

  private resetStage(): void {
    this.ticks = 0;
    this.started = false;
    this.history.length = 0;
    this.lastWidth = Number.NaN;
    this.stillTicks = 0;
  }

  private finished(st: Stage, ctx: SkillContext, target: PoseTarget): boolean {
    if (st.doneWhen?.(ctx)) return true;
    switch (st.until) {
      case 'ticks':
        return this.ticks >= st.maxTicks;
      case 'gripper': {
        // fingers stopped: on the object, or at the commanded width
        const moved = Math.abs(ctx.tcp.width - this.lastWidth);
        this.lastWidth = ctx.tcp.width;
        this.stillTicks = moved < 3e-4 ? this.stillTicks + 1 : 0;
        return this.ticks >= 3 && this.stillTicks >= 2;
      }
      case 'reach': {
        const e = Math.hypot(target.pos[0] - ctx.tcp.pos[0], target.pos[1] - ctx.tcp.pos[1], target.pos[2] - ctx.tcp.pos[2]);
        const r = rotationDistance(target.mat, ctx.tcp.mat);
        if (e < (st.tol ?? 0.005) && r < 0.05) return true;
        // blocked (contact, workspace clip): the TCP stopped moving although the goal is not reached
        if (this.history.length >= 4) {
          const h0 = this.history[0];
          const d = Math.hypot(ctx.tcp.pos[0] - h0[0], ctx.tcp.pos[1] - h0[1], ctx.tcp.pos[2] - h0[2]);
          return d < 0.0015 && r < 0.1;
        }
        return false;
      }
    }
  }
}

// ------------------------------------------------------------------ geometry of objects

/** Height of an object's bottom, m, world (upright objects). */
export function bottomZ(shape: EntityShape, pos: ArrayLike<number>): number {
  return shape.originAtBottom ? pos[2] : pos[2] - shape.size[2];
}

/**
 * Lowest point of an object in its current pose, m, world: a bowl held by the rim droops,
 * and its far edge is then well below its origin.
 */
export function lowestZ(shape: EntityShape, pose: { pos: ArrayLike<number>; mat: ArrayLike<number> }): number {
  const m = pose.mat;
  const [sx, sy, sz] = shape.size;
  const cz = pose.pos[2] + (shape.originAtBottom ? m[8] * sz : 0);
  const c = Math.min(1, Math.abs(m[8]));
  const round = shape.kind === 'bowl' || shape.kind === 'plate' || shape.kind === 'cylinder' || shape.kind === 'bottle' || shape.kind === 'mug';
  const halfZ = round ? c * sz + sx * Math.sqrt(Math.max(0, 1 - c * c)) : Math.abs(m[6]) * sx + Math.abs(m[7]) * sy + c * sz;
  return cz - halfZ;
}

/** Height of an object's top, m, world. */
export function topZ(shape: EntityShape, pos: ArrayLike<number>): number {
  return bottomZ(shape, pos) + 2 * shape.size[2];
}

/** Where and how to grasp an object: TCP position and closing-axis yaw, plus the width to open to. */
export interface Grasp {
  pos: Vec3;
  yaw: number;
  open: number;
}

export interface GraspNoise {
  /** xy offset of the grasp point, m */
  dx: number;
  dy: number;
  /** yaw offset, rad */
  dyaw: number;
  /** height offset of the grasp point, m (positive: the fingers close above where they should) */
  dz?: number;
}

const NO_GRASP_NOISE: GraspNoise = { dx: 0, dy: 0, dyaw: 0 };

/**
 * Top-down grasp of a free object. Boxes: across the shorter horizontal side. Cylinders:
 * across the axis at the current yaw. Bowls: by the rim on the side facing the robot base
 * (closing axis radial), since they are wider than the gripper opens.
 */
export function graspFor(
  shape: EntityShape,
  pose: { pos: ArrayLike<number>; mat: ArrayLike<number> },
  refYaw: number,
  noise: GraspNoise = NO_GRASP_NOISE,
  /** bowls: angle of the rim point to grasp, rad about world z from the centre (default: facing the robot base) */
  rimAngle?: number,
): Grasp {
  const p = pose.pos;
  const m = pose.mat;
  const bottom = bottomZ(shape, p);
  const height = 2 * shape.size[2];
  // fingertips (the TCP) about 2 cm below the top, never closer than 1 cm to the bottom
  const z = Math.max(bottom + Math.min(0.01, height / 2), bottom + height - 0.02);
  if (shape.kind === 'bowl') {
    // rim point (by default the one nearest the robot base, at the world origin), closing radially
    const rc = shape.size[0] - (shape.wall ?? 0.008) / 2;
    // grasp noise slides the grasp along the rim (a radial offset would put a finger on the 8 mm wall)
    const th = (rimAngle ?? Math.atan2(-p[1], -p[0])) + noise.dyaw + noise.dx / rc;
    const zr = bottom + height - 0.014 + (noise.dz ?? 0);
    return { pos: [p[0] + rc * Math.cos(th), p[1] + rc * Math.sin(th), zr], yaw: nearestYaw(th, refYaw), open: 0.05 };
  }
  let yaw = refYaw;
  if (shape.kind === 'box') {
    // closing along the body's shorter horizontal axis
    yaw = shape.size[0] <= shape.size[1] ? Math.atan2(m[3], m[0]) : Math.atan2(m[4], m[1]);
  }
  const w = 2 * Math.min(shape.size[0], shape.size[1]);
  return { pos: [p[0] + noise.dx, p[1] + noise.dy, z + (noise.dz ?? 0)], yaw: nearestYaw(yaw + noise.dyaw, refYaw), open: Math.min(GRIPPER_OPEN, w + 0.03) };
}

// ------------------------------------------------------------------ skills

export interface SkillOptions {
  /** reference yaw for parallel-gripper symmetry (the home yaw keeps joint 7 mid-range), rad */
  refYaw: number;
}

const constPose = (pos: Vec3, mat: Float64Array): PoseTarget => ({ pos, mat });

/** Move the TCP to a fixed pose. */
export function moveTo(name: string, pose: PoseTarget | ((ctx: SkillContext) => PoseTarget), opts: { gripper: number; tol?: number; maxStep?: number; maxTicks?: number }): Stage {
  const f = typeof pose === 'function' ? pose : () => pose;
  return { name, target: f, gripper: opts.gripper, until: 'reach', tol: opts.tol, maxStep: opts.maxStep, maxTicks: opts.maxTicks ?? 60 };
}

/** Hold the pose captured when the stage starts while the gripper moves to `width`. */
export function gripperTo(name: string, width: number, opts: { maxTicks?: number } = {}): Stage {
  let held: PoseTarget | null = null;
  return {
    name,
    begin: (ctx) => (held = constPose([ctx.tcp.pos[0], ctx.tcp.pos[1], ctx.tcp.pos[2]], Float64Array.from(ctx.tcp.mat))),
    target: (ctx) => held ?? constPose([ctx.tcp.pos[0], ctx.tcp.pos[1], ctx.tcp.pos[2]], ctx.tcp.mat),
    gripper: width,
    until: 'gripper',
    maxTicks: opts.maxTicks ?? 20,
  };
}

/** Close the gripper and wait until the fingers stop. */
export const grasp = (): Stage => gripperTo('grasp', GRIPPER_CLOSED, { maxTicks: 20 });
/** Open the gripper and wait until the fingers stop. */
export const release = (width = GRIPPER_OPEN): Stage => gripperTo('release', width, { maxTicks: 15 });

/** Move straight up (or to an absolute height) keeping the orientation captured at the start. */
export function lift(name: string, opts: { dz?: number; z?: number; gripper: number; maxTicks?: number }): Stage {
  let goal: PoseTarget | null = null;
  return {
    name,
    begin: (ctx) => {
      const z = opts.z !== undefined ? Math.max(opts.z, ctx.tcp.pos[2]) : ctx.tcp.pos[2] + (opts.dz ?? 0.1);
      goal = constPose([ctx.tcp.pos[0], ctx.tcp.pos[1], z], Float64Array.from(ctx.tcp.mat));
    },
    target: () => goal!,
    gripper: opts.gripper,
    until: 'reach',
    tol: 0.01,
    maxTicks: opts.maxTicks ?? 40,
  };
}

/** Retreat: open fingers stay open, move up by dz. */
export const retreat = (dz = 0.08): Stage => lift('retreat', { dz, gripper: GRIPPER_OPEN, maxTicks: 25 });

export interface PickOptions extends SkillOptions {
  object: string;
  shape: EntityShape;
  /** TCP height to carry the object at, m, world */
  carryZ: number;
  /** empty-hand TCP height that clears obstacles between the hand and the object, m, world */
  transitZ?: number;
  noise?: GraspNoise;
  /** bowls: which rim point to grasp (see graspFor) */
  rimAngle?: (world: SkillWorld) => number | undefined;
}

/** rise over obstacles, approach above the grasp, descend, close, lift to the carry height. */
export function pick(o: PickOptions): Stage[] {
  const g = (ctx: SkillContext): Grasp => graspFor(o.shape, ctx.world.bodyPose(o.object), o.refYaw, o.noise, o.rimAngle?.(ctx.world));
  let hover = 0;
  const transit = o.transitZ ?? 0;
  return [
    lift('rise', { z: transit, gripper: GRIPPER_OPEN, maxTicks: 30 }),
    moveTo(
      'approach',
      (ctx) => {
        const gr = g(ctx);
        hover = Math.max(gr.pos[2] + 0.1, topZ(o.shape, ctx.world.bodyPose(o.object).pos) + 0.06, transit);
        return { pos: [gr.pos[0], gr.pos[1], hover], mat: topDown(gr.yaw) };
      },
      { gripper: GRIPPER_OPEN, tol: 0.006, maxTicks: 80 },
    ),
    {
      name: 'pre-grasp',
      target: (ctx) => {
        const gr = g(ctx);
        return { pos: [gr.pos[0], gr.pos[1], hover], mat: topDown(gr.yaw) };
      },
      gripper: GRIPPER_OPEN,
      until: 'reach',
      tol: 0.003,
      maxStep: 0.01,
      maxTicks: 15,
    },
    moveTo(
      'descend',
      (ctx) => {
        const gr = g(ctx);
        return { pos: [gr.pos[0], gr.pos[1], gr.pos[2]], mat: topDown(gr.yaw) };
      },
      { gripper: GRIPPER_OPEN, tol: 0.003, maxStep: 0.012, maxTicks: 50 },
    ),
    grasp(),
    lift('lift', { z: o.carryZ, gripper: GRIPPER_CLOSED, maxTicks: 50 }),
  ];
}

/** Where an object should go: centre xy and supporting surface height (m, world), recomputed each tick. */
export interface PlaceTarget {
  /** the object goes into a container with walls (bowl, basket) */
  container?: boolean;
  /** bowls: preferred rim angle to grasp at for this target (rad about world z), e.g. clear of a drawer front */
  rimAngle?(world: SkillWorld, objectPos: ArrayLike<number>, refYaw: number): number;
  /** whether the held object touches its support (then the place stage sets it down until contact) */
  touching?(world: SkillWorld, object: string): boolean;
  /** called when the carry starts (pick a free spot in a container here) */
  prepare?(world: SkillWorld, object: string): void;
  center(world: SkillWorld): [number, number];
  surfaceZ(world: SkillWorld): number;
}

export interface PlaceOptions {
  object: string;
  shape: EntityShape;
  target: PlaceTarget;
  carryZ: number;
  /** gap between the object's bottom and the surface at release, m (default 0.012) */
  clearance?: number;
  /** open only 12 mm past the grasp width on release (into containers, see below); default: fully */
  narrowRelease?: boolean;
}

/** carry over the target, descend until the object is just above the surface, open, retreat. */
export function place(o: PlaceOptions): Stage[] {
  // goal for the TCP such that the held object's centre is over the target centre
  const over = (ctx: SkillContext, z: (w: SkillWorld, tcpToBottom: number) => number): PoseTarget => {
    const pose = ctx.world.bodyPose(o.object);
    const op = pose.pos;
    const [cx, cy] = o.target.center(ctx.world);
    const tcpToBottom = ctx.tcp.pos[2] - lowestZ(o.shape, pose);
    const mat = topDown(closingYaw(ctx.tcp.mat));
    return { pos: [cx + ctx.tcp.pos[0] - op[0], cy + ctx.tcp.pos[1] - op[1], z(ctx.world, tcpToBottom)], mat };
  };
  let carryMat: Float64Array | null = null;
  const keepMat = (p: PoseTarget): PoseTarget => ({ pos: p.pos, mat: carryMat ?? p.mat });
  // into a container, let go by opening a little past the grasp width: a fully opening finger can
  // wedge the container's wall against what was just put in it, and lift both on the retreat
  const letGo = release();
  const away = retreat();
  return [
    {
      name: 'carry',
      begin: (ctx) => {
        carryMat = topDown(closingYaw(ctx.tcp.mat));
        o.target.prepare?.(ctx.world, o.object);
        if (o.narrowRelease) letGo.gripper = away.gripper = Math.min(GRIPPER_OPEN, ctx.tcp.width + 0.012);
      },
      target: (ctx) => keepMat(over(ctx, () => o.carryZ)),
      gripper: GRIPPER_CLOSED,
      until: 'reach',
      tol: 0.006,
      maxTicks: 90,
    },
    {
      name: 'lower',
      // quickly to 2 cm above the surface, then 3 mm per tick until the object touches its support:
      // set down, not dropped (a bowl dropped on a plate can pass through it in MuJoCo)
      target: (ctx) =>
        keepMat(
          over(ctx, (w, d) => {
            const goal = o.target.surfaceZ(w) + d + (o.target.touching ? -0.01 : (o.clearance ?? 0.012));
            const gap = ctx.tcp.pos[2] - d - o.target.surfaceZ(w);
            return Math.max(goal, ctx.tcp.pos[2] - (gap > 0.02 ? 0.01 : 0.003));
          }),
        ),
      gripper: GRIPPER_CLOSED,
      until: 'reach',
      tol: 0.002,
      maxStep: 0.01,
      maxTicks: 60,
      doneWhen: (ctx) => o.target.touching?.(ctx.world, o.object) ?? false,
    },
    letGo,
    away,
  ];
}

// ------------------------------------------------------------------ articulated fixtures

export interface DrawerOptions {
  /** the cabinet (with `drawer`) */
  shape: EntityShape;
  /** fraction of the travel to move the drawer to: pull when it is further in, push when further out */
  fraction: number;
  /** gripper depression below horizontal, rad (default 35 deg): fingers clear the front panel */
  pitch?: number;
}

/**
 * Open (or close) a drawer: approach the handle bar from the front, gripper pitched down so
 * the hand clears the cabinet, close on the bar, pull (push) along the slide axis until the
 * slide reaches the goal, let go, back off.
 */
export function moveDrawer(o: DrawerOptions): Stage[] {
  const beta = o.pitch ?? (35 * Math.PI) / 180;
  const drawer = o.shape.drawer;
  if (!drawer) throw new SkillError(`openDrawer: '${o.shape.name}' (${o.shape.category}) has no drawer`);
  const sx = o.shape.size[0];
  const joint = drawer.joint;
  // slide direction u (cabinet -x), bar direction b (cabinet y), gripper axis a, closing axis c
  const frame = (w: SkillWorld): { bar: Vec3; u: Vec3; mat: Float64Array; a: Vec3 } => {
    const cab = w.bodyPose(o.shape.body).mat;
    const dp = w.bodyPose(drawer.body).pos;
    const u: Vec3 = [-cab[0], -cab[3], 0];
    const nu = Math.hypot(u[0], u[1]);
    u[0] /= nu;
    u[1] /= nu;
    const bar: Vec3 = [dp[0] + u[0] * (sx + 0.035), dp[1] + u[1] * (sx + 0.035), dp[2]];
    const a: Vec3 = [-u[0] * Math.cos(beta), -u[1] * Math.cos(beta), -Math.sin(beta)];
    const b: Vec3 = [-u[1], u[0], 0];
    // c = b x a, pointing up
    let c: Vec3 = [b[1] * a[2] - b[2] * a[1], b[2] * a[0] - b[0] * a[2], b[0] * a[1] - b[1] * a[0]];
    if (c[2] > 0) c = [-c[0], -c[1], -c[2]];
    const x: Vec3 = [c[1] * a[2] - c[2] * a[1], c[2] * a[0] - c[0] * a[2], c[0] * a[1] - c[1] * a[0]];
    return { bar, u, a, mat: fromColumns(x, c, a) };
  };
  // TCP a little past the bar along the gripper axis so the pads' centres sit on it
  // TCP (fingertips) 1.6 cm past the bar along the gripper axis: the bar sits deep in the pads,
  // which hold it by friction against the drawer's resistance pulling it towards the tips
  const depth = 0.016;
  const at = (f: ReturnType<typeof frame>, back: number): Vec3 => [f.bar[0] + f.a[0] * (depth - back), f.bar[1] + f.a[1] * (depth - back), f.bar[2] + f.a[2] * (depth - back)];
  // opening around the 16 mm bar: small, so the upper finger stays clear of the drawer front
  const open = 0.03;
  let pullMat: Float64Array | null = null;
  const goal = o.fraction * drawer.travel;
  let dir = 1;
  return [
    moveTo('drawer-approach', (ctx) => {
      const f = frame(ctx.world);
      const p = at(f, 0.1);
      return { pos: [p[0], p[1], Math.max(p[2], f.bar[2] + 0.08)], mat: f.mat };
    }, { gripper: open, tol: 0.01, maxTicks: 90 }),
    moveTo('drawer-align', (ctx) => {
      const f = frame(ctx.world);
      return { pos: at(f, 0.07), mat: f.mat };
    }, { gripper: open, tol: 0.004, maxStep: 0.01, maxTicks: 40 }),
    moveTo('drawer-insert', (ctx) => {
      const f = frame(ctx.world);
      return { pos: at(f, 0), mat: f.mat };
    }, { gripper: open, tol: 0.003, maxStep: 0.008, maxTicks: 40 }),
    gripperTo('drawer-grasp', GRIPPER_CLOSED),
    {
      name: 'drawer-pull',
      begin: (ctx) => {
        pullMat = Float64Array.from(ctx.tcp.mat);
        dir = goal >= ctx.world.jointPosition(joint) ? 1 : -1;
      },
      target: (ctx) => {
        const f = frame(ctx.world);
        // from the grasp pose on the bar as it is now (re-seating a bar that slipped towards the
        // fingertips), along the slide axis, a little past the goal
        const d = goal - ctx.world.jointPosition(joint) + 0.01 * dir;
        const p = at(f, 0);
        return { pos: [p[0] + f.u[0] * d, p[1] + f.u[1] * d, p[2]], mat: pullMat ?? f.mat };
      },
      gripper: GRIPPER_CLOSED,
      until: 'ticks',
      maxStep: 0.008,
      rampTicks: 4,
      maxTicks: 70,
      doneWhen: (ctx) => (ctx.world.jointPosition(joint) - goal) * dir >= 0,
    },
    gripperTo('drawer-release', 0.05, { maxTicks: 10 }),
    {
      name: 'drawer-back-off',
      target: (ctx) => {
        const f = frame(ctx.world);
        const p = at(f, 0.08);
        return { pos: [p[0], p[1], p[2] + 0.03], mat: f.mat };
      },
      gripper: 0.05,
      until: 'reach',
      tol: 0.01,
      maxTicks: 30,
    },
  ];
}

export interface KnobOptions {
  /** the stove (with `knob`) */
  shape: EntityShape;
  /** joint angle to turn to, rad */
  goal: number;
  /** turn until the angle is past goal by this margin, rad (default 0.1) */
  margin?: number;
  refYaw: number;
}

/**
 * Turn a stove knob: grasp it from above across the pointer, rotate the wrist about
 * the vertical until the hinge passes the goal angle, let go, move up.
 */
export function turnKnob(o: KnobOptions): Stage[] {
  const knob = o.shape.knob;
  if (!knob) throw new SkillError(`turnKnob: '${o.shape.name}' (${o.shape.category}) has no knob`);
  const joint = knob.joint;
  const body = knob.body;
  let yaw0 = 0;
  let q0 = 0;
  let grip: Vec3 = [0, 0, 0];
  const margin = o.margin ?? 0.1;
  const graspAt = (w: SkillWorld): { pos: Vec3; yaw: number } => {
    const kp = w.bodyPose(body);
    // closing axis across the pointer (knob local y) so the fingers miss it
    const yaw = Math.atan2(kp.mat[4], kp.mat[1]);
    return { pos: [kp.pos[0], kp.pos[1], kp.pos[2] + 0.011], yaw: nearestYaw(yaw, o.refYaw) };
  };
  return [
    moveTo('knob-approach', (ctx) => {
      const g = graspAt(ctx.world);
      return { pos: [g.pos[0], g.pos[1], g.pos[2] + 0.1], mat: topDown(g.yaw) };
    }, { gripper: GRIPPER_OPEN, tol: 0.005, maxTicks: 80 }),
    moveTo('knob-descend', (ctx) => {
      const g = graspAt(ctx.world);
      return { pos: g.pos, mat: topDown(g.yaw) };
    }, { gripper: GRIPPER_OPEN, tol: 0.003, maxStep: 0.01, maxTicks: 40 }),
    gripperTo('knob-grasp', GRIPPER_CLOSED),
    {
      name: 'knob-turn',
      begin: (ctx) => {
        yaw0 = closingYaw(ctx.tcp.mat);
        q0 = ctx.world.jointPosition(joint);
        grip = [ctx.tcp.pos[0], ctx.tcp.pos[1], ctx.tcp.pos[2]];
      },
      // the knob turns with the wrist about world z: aim the wrist at the goal angle plus a margin
      target: () => ({ pos: grip, mat: topDown(yaw0 + o.goal + margin * Math.sign(o.goal - q0 || 1) - q0) }),
      gripper: GRIPPER_CLOSED,
      until: 'ticks',
      maxTicks: 50,
      doneWhen: (ctx) => {
        const q = ctx.world.jointPosition(joint);
        return o.goal >= q0 ? q >= o.goal + margin * 0.5 : q <= o.goal - margin * 0.5;
      },
    },
    gripperTo('knob-release', GRIPPER_OPEN, { maxTicks: 10 }),
    retreat(0.08),
  ];
}
