/**
 * The scripted expert for two-arm robots (the dual-arm suite) as a Policy: one program of
 * phases per arm, built from the single-arm skills (skills.ts), run concurrently and
 * synchronised by named events ("left: at hand-over", "right: grasped"). It plans from the
 * goal formula:
 *
 * - (Grasped left_gripper x) and (Grasped right_gripper x): both hands grasp x near its ends
 *   and lift it together.
 * - (Grasped <arm>_gripper x) for one arm, or (On/In x t) with x and t on different sides: the
 *   arm on x's side picks it near one end, brings it to the middle, the other arm grasps the
 *   other end, the first lets go; then the receiver holds it up or places it.
 * - (On/In x t) on one side: that side's arm picks and places; two objects onto one target
 *   go to spots offset towards each arm, the right arm setting down after the left.
 *
 * The left arm is arm 0 (+y side), the right arm arm 1. Action per tick: for each arm
 * [dx, dy, dz (m), drx, dry, drz (rad), gripper width (m)], world (= base) frame, left then
 * right (14-D, gripper dims 6 and 13).
 */
import type { Observation } from '../../src/observation/types.ts';
import type { ActionChunk, InferOptions, Policy, PolicyMetadata } from '../../src/policy/types.ts';
import { Rng } from '../../src/util/random.ts';
import { TABLE_TOP_Z, type EntityShape } from '../tasks/task-scene.ts';
import type { WorldView } from '../tasks/predicates.ts';
import type { ArgRef, Formula, Predicate } from '../tasks/task.ts';
import { ExpertError, tcpFromObservation, type ExpertNoise } from './expert.ts';
import {
  GRIPPER_CLOSED,
  GRIPPER_OPEN,
  StageRunner,
  bottomZ,
  closingYaw,
  gripperTo,
  lift,
  moveTo,
  nearestYaw,
  place,
  release,
  retreat,
  topDown,
  topZ,
  type PlaceTarget,
  type SkillContext,
  type Stage,
  type Vec3,
} from './skills.ts';

export interface BimanualExpertOptions {
  world: WorldView;
  goal: Formula;
  /** arm names in command order (default ['left', 'right']) */
  arms?: readonly string[];
  /** embodiment key of the action space (default 'agibot') */
  embodiment?: string;
  /** policy rate, Hz (default 20) */
  rateHz?: number;
  noise?: ExpertNoise;
  seed?: number;
  /** lowest TCP height, m, world (default table top + 0.021) */
  minTcpZ?: number;
  /** highest TCP height, m, world (default table top + 0.5) */
  maxTcpZ?: number;
  /** retries of a failed grasp per phase (default 2) */
  retries?: number;
}

/** One planned step of one arm. */
interface Phase {
  name: string;
  build(ctx: SkillContext): Stage[];
  /** the phase waits (holding its pose) until this holds */
  ready?(): boolean;
  /** whether it achieved what it should (else: let go, back off, build again) */
  verify?(ctx: SkillContext): boolean;
}

export interface BimanualStatus {
  /** per arm: phase names in plan order, the running phase index and stage */
  arms: { arm: string; plan: string[]; phase: number; stage: string | null }[];
  /** events reached so far ('left:pick', 'right:grasp end') */
  events: string[];
  retries: number;
  timeouts: string[];
}

/** Grasp height for a top-down grasp of a box-like object: 2 cm below its top, not lower than 1 cm above its bottom. */
function graspZ(shape: EntityShape, pos: ArrayLike<number>): number {
  const bottom = bottomZ(shape, pos);
  const h = 2 * shape.size[2];
  return Math.max(bottom + Math.min(0.01, h / 2), bottom + h - 0.02);
}

/** A point on the object's long horizontal axis, `offset` m from its centre, and the closing yaw across that axis. */
function alongObject(w: WorldView, shape: EntityShape, offset: number, refYaw: number): { pos: Vec3; yaw: number } {
  const pose = w.bodyPose(shape.body);
  const m = pose.mat;
  const p = pose.pos;
  // long axis: local y when y is the longer half extent, else local x
  const long: [number, number] = shape.size[1] >= shape.size[0] ? [m[1]!, m[4]!] : [m[0]!, m[3]!];
  const across: [number, number] = shape.size[1] >= shape.size[0] ? [m[0]!, m[3]!] : [m[1]!, m[4]!];
  return { pos: [p[0]! + long[0] * offset, p[1]! + long[1] * offset, graspZ(shape, p)], yaw: nearestYaw(Math.atan2(across[1], across[0]), refYaw) };
}

/**
 * Offset along the long axis that puts the grasp near the end on the +y (left) or -y (right)
 * side: 4 cm in from the end, at least END_GRASP from the centre.
 */
function sideOffset(w: WorldView, shape: EntityShape, side: 1 | -1): number {
  const m = w.bodyPose(shape.body).mat;
  const longY = shape.size[1] >= shape.size[0] ? m[4]! : m[3]!;
  const half = Math.max(shape.size[0], shape.size[1]);
  return (longY >= 0 ? side : -side) * Math.max(END_GRASP, half - 0.04);
}

/** Hold the pose captured when the stage starts until `until()` holds (or for maxTicks). */
function waitStage(name: string, gripper: number, until: (() => boolean) | undefined, maxTicks = 400): Stage {
  let held: { pos: Vec3; mat: Float64Array } | null = null;
  return {
    name,
    begin: (ctx) => (held = { pos: [ctx.tcp.pos[0]!, ctx.tcp.pos[1]!, ctx.tcp.pos[2]!], mat: Float64Array.from(ctx.tcp.mat) }),
    target: (ctx) => held ?? { pos: [ctx.tcp.pos[0]!, ctx.tcp.pos[1]!, ctx.tcp.pos[2]!], mat: ctx.tcp.mat },
    gripper,
    until: 'ticks',
    maxTicks,
    doneWhen: until ? () => until() : undefined,
  };
}

/** Approach above a grasp point, descend, close. `at` is recomputed every tick (closed loop). */
function graspStages(at: (ctx: SkillContext) => { pos: Vec3; yaw: number }, opts: { hover?: number; transitZ?: number; open?: number } = {}): Stage[] {
  const hoverDz = opts.hover ?? 0.08;
  const open = opts.open ?? GRIPPER_OPEN;
  return [
    lift('rise', { z: opts.transitZ ?? 0, gripper: open, maxTicks: 30 }),
    moveTo('approach', (ctx) => {
      const g = at(ctx);
      return { pos: [g.pos[0], g.pos[1], Math.max(g.pos[2] + hoverDz, opts.transitZ ?? 0)], mat: topDown(g.yaw) };
    }, { gripper: open, tol: 0.006, maxTicks: 90 }),
    moveTo('pre-grasp', (ctx) => {
      const g = at(ctx);
      return { pos: [g.pos[0], g.pos[1], g.pos[2] + hoverDz], mat: topDown(g.yaw) };
    }, { gripper: open, tol: 0.003, maxStep: 0.01, maxTicks: 15 }),
    moveTo('descend', (ctx) => {
      const g = at(ctx);
      return { pos: g.pos, mat: topDown(g.yaw) };
    }, { gripper: open, tol: 0.003, maxStep: 0.012, maxTicks: 50 }),
    gripperTo('grasp', GRIPPER_CLOSED, { maxTicks: 20 }),
  ];
}

/** Runs one arm's phases; a phase that is not ready holds the arm still. */
class ArmProgram {
  readonly phases: Phase[] = [];
  index = 0;
  private runner: StageRunner | null = null;
  private waiting: StageRunner | null = null;
  private recovering = false;
  private retriesLeft: number;
  retriesUsed = 0;
  lastGripper = GRIPPER_OPEN;
  readonly timeouts: string[] = [];

  constructor(
    readonly arm: string,
    private readonly events: Set<string>,
    retries: number,
  ) {
    this.retriesLeft = retries;
  }

  get stage(): string | null {
    return this.runner?.current?.name ?? (this.waiting ? 'wait' : null);
  }

  step(ctx: SkillContext): Float64Array {
    for (let guard = 0; guard < 16 && this.index < this.phases.length; guard++) {
      const phase = this.phases[this.index]!;
      if (!this.runner) {
        if (phase.ready && !phase.ready()) {
          this.waiting ??= new StageRunner([waitStage('wait', this.lastGripper, () => false, Number.MAX_SAFE_INTEGER)]);
          return this.waiting.step(ctx)!;
        }
        this.waiting = null;
        this.runner = new StageRunner(phase.build(ctx));
        this.recovering = false;
      }
      const a = this.runner.step(ctx);
      if (a) {
        this.lastGripper = a[6]!;
        return a;
      }
      this.timeouts.push(...this.runner.timeouts.map((s) => `${this.arm}:${phase.name}/${s}`));
      if (this.recovering) {
        this.runner = null;
        continue;
      }
      if (phase.verify && !phase.verify(ctx) && this.retriesLeft > 0) {
        this.retriesLeft--;
        this.retriesUsed++;
        this.runner = new StageRunner([release(), retreat(0.06)]);
        this.recovering = true;
        continue;
      }
      this.events.add(`${this.arm}:${phase.name}`);
      this.index++;
      this.runner = null;
    }
    this.waiting ??= new StageRunner([waitStage('done', this.lastGripper, () => false, Number.MAX_SAFE_INTEGER)]);
    return this.waiting.step(ctx)!;
  }
}

/** Goal atoms, each with whether it is negated. */
function literals(goal: Formula): { p: Predicate; negated: boolean }[] {
  const out: { p: Predicate; negated: boolean }[] = [];
  const walk = (f: Formula, neg: boolean): void => {
    if (f.type === 'atom') out.push({ p: f, negated: neg });
    else if (f.type === 'not') walk(f.arg, !neg);
    else if (f.type === 'and') f.args.forEach((a) => walk(a, neg));
    else throw new ExpertError(`the dual-arm expert plans for conjunctions only: rewrite (Or ...) in the goal as one of its branches`);
  };
  walk(goal, false);
  return out;
}

const ACTION_NAMES = ['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper'];
const UNITS = ['m', 'm', 'm', 'rad', 'rad', 'rad', 'm'];

/** distance of end grasps from the centre of a long object, m */
const END_GRASP = 0.05;
/** two objects on one target: each this far (y, m) from its centre towards its arm */
const SHARED_SPOT = 0.05;
/** how far past the middle of the table (|y|, m) an arm still places things */
const MIDDLE_REACH = 0.1;
/** lift of a jointly held object, m */
const JOINT_LIFT = 0.1;

export class BimanualExpertPolicy implements Policy {
  readonly metadata: PolicyMetadata;
  private readonly rng: Rng;
  private readonly actionStd: Float64Array;
  private readonly arms: readonly string[];
  private readonly events = new Set<string>();
  private programs: ArmProgram[] = [];
  private planned = false;
  private refYaw: number[] = [0, 0];
  private readonly minZ: number;
  private readonly maxZ: number;

  constructor(private readonly opts: BimanualExpertOptions) {
    this.arms = opts.arms ?? ['left', 'right'];
    if (this.arms.length !== 2) throw new ExpertError(`the dual-arm expert drives two arms, got ${this.arms.length} (${this.arms.join(', ')}): use ExpertPolicy for one`);
    const emb = opts.embodiment ?? 'agibot';
    const names = this.arms.flatMap((a) => ACTION_NAMES.map((n) => `${a}_${n}`));
    this.metadata = {
      name: 'scripted-bimanual-expert',
      kind: 'chunk_regression',
      horizon: 1,
      controlRateHz: opts.rateHz ?? 20,
      embodiments: {
        [emb]: {
          space: 'ee_delta_pose',
          names,
          units: [...UNITS, ...UNITS],
          mean: new Array(14).fill(0),
          std: new Array(14).fill(1),
          gripper_dims: [6, 13],
        },
      },
      cameras: [],
      proprioFields: { [emb]: ['ee_position', 'ee_quaternion', 'gripper'] },
    };
    this.rng = new Rng(opts.seed ?? 0);
    this.minZ = opts.minTcpZ ?? TABLE_TOP_Z + 0.021;
    this.maxZ = opts.maxTcpZ ?? TABLE_TOP_Z + 0.5;
    const s = opts.noise?.actionStd ?? 0;
    this.actionStd = Float64Array.from({ length: 6 }, (_, i) => (typeof s === 'number' ? s : (s[i] ?? 0)));
    // fail at construction on goals it cannot plan
    this.planPrograms(true);
  }

  async predictChunk(obs: Observation, _opts?: InferOptions): Promise<ActionChunk> {
    const t0 = performance.now();
    const ctxs = this.arms.map((_, i): SkillContext => ({ tcp: tcpFromObservation(obs, i), world: this.opts.world, minZ: this.minZ, maxZ: this.maxZ }));
    if (!this.planned) {
      this.refYaw = ctxs.map((c) => closingYaw(c.tcp.mat));
      this.programs = this.planPrograms(false);
      this.planned = true;
    }
    const out = new Float32Array(14);
    this.programs.forEach((prog, i) => {
      const a = prog.step(ctxs[i]!);
      const moving = Math.hypot(a[0]!, a[1]!, a[2]!) > 1e-4;
      for (let k = 0; k < 6; k++) out[7 * i + k] = a[k]! + (moving && this.actionStd[k]! > 0 ? this.actionStd[k]! * this.rng.normal() : 0);
      out[7 * i + 6] = a[6]!;
    });
    const emb = Object.keys(this.metadata.embodiments)[0]!;
    return { embodiment: emb, horizon: 1, dim: 14, actions: out, stamp: obs.stamp, stats: { latencyMs: performance.now() - t0 } };
  }

  status(): BimanualStatus {
    return {
      arms: this.programs.map((p) => ({ arm: p.arm, plan: p.phases.map((ph) => ph.name), phase: p.index, stage: p.stage })),
      events: [...this.events],
      retries: this.programs.reduce((n, p) => n + p.retriesUsed, 0),
      timeouts: this.programs.flatMap((p) => p.timeouts),
    };
  }

  /** every arm has run all its phases */
  get finished(): boolean {
    return this.planned && this.programs.every((p) => p.index >= p.phases.length);
  }

  reset(): void {
    this.planned = false;
    this.programs = [];
    this.events.clear();
  }

  async dispose(): Promise<void> {}

  // ---------------------------------------------------------------- planning

  private shape(name: string, where: string): EntityShape {
    const s = this.opts.world.shapes.get(name);
    if (!s) throw new ExpertError(`${where}: '${name}' is not an object of the task scene; known: ${[...this.opts.world.shapes.keys()].join(', ')}`);
    if (s.fixture) throw new ExpertError(`${where}: '${name}' is a fixture; the expert only moves free objects`);
    return s;
  }

  /** arm index of a gripper ref (null: the side of the object) */
  private armOf(ref: ArgRef, where: string): number | null {
    if (ref.kind !== 'gripper') throw new ExpertError(`${where}: Grasped needs a gripper first (left_gripper, right_gripper)`);
    if (ref.arm === null) return null;
    const i = this.arms.indexOf(ref.arm);
    if (i < 0) throw new ExpertError(`${where}: the robot has no arm '${ref.arm}'; arms: ${this.arms.join(', ')}`);
    return i;
  }

  /** 0 (left) for things at y >= 0, 1 (right) otherwise */
  private sideOf(y: number): number {
    return y >= 0 ? 0 : 1;
  }

  private planPrograms(dryRun: boolean): ArmProgram[] {
    const progs = this.arms.map((a) => new ArmProgram(a, this.events, this.opts.retries ?? 2));
    const w = this.opts.world;
    const lits = literals(this.opts.goal);
    const holders = new Map<string, Set<number>>();
    const released = new Map<string, Set<number>>();
    const placements: { object: string; target: ArgRef; predicate: 'on' | 'in'; where: string }[] = [];
    for (const { p, negated } of lits) {
      const where = `(${p.predicate} ${p.args.join(' ')})`;
      switch (p.predicate) {
        case 'grasped': {
          const obj = this.shape(p.args[1]!, where).name;
          const arm = this.armOf(p.refs[0]!, where);
          const set = negated ? released : holders;
          if (!set.has(obj)) set.set(obj, new Set());
          if (arm !== null) set.get(obj)!.add(arm);
          break;
        }
        case 'lifted':
          this.shape(p.args[0]!, where);
          break;
        case 'on':
        case 'in':
          if (negated) throw new ExpertError(`${where}: the expert cannot plan a negated ${p.predicate}`);
          placements.push({ object: this.shape(p.args[0]!, where).name, target: p.refs[1]!, predicate: p.predicate, where });
          break;
        case 'true':
          break;
        default:
          throw new ExpertError(`${where}: the dual-arm expert handles On, In, Grasped and Lifted, not '${p.predicate}'`);
      }
    }
    if (dryRun) {
      for (const pl of placements) this.placeTarget(pl.target, pl.predicate, 0, pl.where);
      return progs;
    }
    const [L, R] = progs as [ArmProgram, ArmProgram];
    for (const [obj, arms] of holders) {
      const shape = this.shape(obj, obj);
      if (arms.size === 2) this.planJointLift(L, R, shape);
      else {
        const to = arms.size === 1 ? [...arms][0]! : this.sideOf(w.bodyPose(shape.body).pos[1]!);
        const from = this.sideOf(w.bodyPose(shape.body).pos[1]!);
        if (from === to) this.planPickHold(progs[to]!, to, shape);
        else this.planHandover(progs[from]!, from, progs[to]!, to, shape, null);
      }
    }
    // objects sharing a target: spots towards each arm, and the second arm sets down after the first
    const byTarget = new Map<string, number>();
    for (const pl of placements) byTarget.set(this.targetKey(pl.target), (byTarget.get(this.targetKey(pl.target)) ?? 0) + 1);
    const placedFirst = new Map<string, string>();
    for (const pl of placements) {
      const shape = this.shape(pl.object, pl.where);
      const from = this.sideOf(w.bodyPose(shape.body).pos[1]!);
      const shared = (byTarget.get(this.targetKey(pl.target)) ?? 0) > 1;
      // the object's own arm places it unless the target lies well over on the other side
      const ty = this.placeTarget(pl.target, pl.predicate, 0, pl.where).center(w)[1];
      const to = Math.abs(ty) > MIDDLE_REACH ? this.sideOf(ty) : from;
      const target = this.placeTarget(pl.target, pl.predicate, shared ? (to === 0 ? SHARED_SPOT : -SHARED_SPOT) : 0, pl.where);
      const key = this.targetKey(pl.target);
      const after = shared ? placedFirst.get(key) : undefined;
      if (shared && !after) placedFirst.set(key, `${this.arms[to]}:place ${shape.name}`);
      if (from === to) this.planPickPlace(progs[to]!, to, shape, target, after);
      else this.planHandover(progs[from]!, from, progs[to]!, to, shape, target);
    }
    return progs;
  }

  private targetKey(ref: ArgRef): string {
    return ref.kind === 'region' ? ref.owner : ref.name;
  }

  /** Carry height: clear of every other object with the held one hanging below the TCP. */
  private carryZ(shape: EntityShape, hang: number, target?: PlaceTarget): number {
    const w = this.opts.world;
    let clear = target ? target.surfaceZ(w) : TABLE_TOP_Z;
    for (const s of w.shapes.values()) if (s.name !== shape.name) clear = Math.max(clear, topZ(s, w.bodyPose(s.body).pos));
    return clear + hang + 0.06;
  }

  private graspNoise(): { dx: number; dy: number } {
    const s = this.opts.noise?.graspStd ?? 0;
    return s > 0 ? { dx: s * this.rng.normal(), dy: s * this.rng.normal() } : { dx: 0, dy: 0 };
  }

  private lifted(shape: EntityShape, from: () => number): (ctx: SkillContext) => boolean {
    return (ctx) => bottomZ(shape, this.opts.world.bodyPose(shape.body).pos) > from() + 0.03 && ctx.tcp.width > 0.004;
  }

  /** Centre grasp of a small object (cubes), or a side grasp of a long one. */
  private centreGrasp(shape: EntityShape, arm: number): (ctx: SkillContext) => { pos: Vec3; yaw: number } {
    const n = this.graspNoise();
    const long = Math.max(shape.size[0], shape.size[1]) > 0.05;
    return () => {
      const g = alongObject(this.opts.world, shape, long ? sideOffset(this.opts.world, shape, arm === 0 ? 1 : -1) : 0, this.refYaw[arm]!);
      const jitter = long ? 0.3 : 1; // long objects: keep the two hands apart
      return { pos: [g.pos[0] + n.dx * jitter, g.pos[1] + n.dy * jitter, g.pos[2]], yaw: g.yaw };
    };
  }

  private pickPhase(shape: EntityShape, arm: number, carry: (hang: number) => number): Phase {
    const w = this.opts.world;
    let bottom0 = 0;
    return {
      name: `pick ${shape.name}`,
      build: () => {
        const pose = w.bodyPose(shape.body);
        bottom0 = bottomZ(shape, pose.pos);
        const hang = graspZ(shape, pose.pos) - bottom0;
        return [...graspStages(this.centreGrasp(shape, arm), { transitZ: 0 }), lift('lift', { z: carry(hang), gripper: GRIPPER_CLOSED, maxTicks: 50 })];
      },
      verify: this.lifted(shape, () => bottom0),
    };
  }

  private planPickPlace(prog: ArmProgram, arm: number, shape: EntityShape, target: PlaceTarget, after?: string): void {
    let carryZ = 0;
    prog.phases.push(this.pickPhase(shape, arm, (hang) => (carryZ = this.carryZ(shape, hang, target))));
    prog.phases.push({
      name: `place ${shape.name}`,
      ready: after ? () => this.events.has(after) : undefined,
      build: () => place({ object: shape.body, shape, target, carryZ, narrowRelease: target.container === true }),
    });
  }

  private planPickHold(prog: ArmProgram, arm: number, shape: EntityShape): void {
    prog.phases.push(this.pickPhase(shape, arm, (hang) => TABLE_TOP_Z + hang + 0.1));
  }

  /** Both hands grasp near the ends, then lift together. */
  private planJointLift(L: ArmProgram, R: ArmProgram, shape: EntityShape): void {
    const [l, r] = this.arms as [string, string];
    [L, R].forEach((prog, arm) => {
      const other = arm === 0 ? r : l;
      prog.phases.push({ name: 'grasp end', build: () => graspStages(this.centreGrasp(shape, arm), { transitZ: 0 }), verify: (ctx) => ctx.tcp.width > 0.004 });
      prog.phases.push({
        name: 'lift together',
        ready: () => this.events.has(`${other}:grasp end`),
        build: () => [lift('lift', { dz: JOINT_LIFT, gripper: GRIPPER_CLOSED, maxTicks: 60 })],
      });
    });
  }

  /**
   * `giver` picks the object near its end on the giver's side and brings its centre over the
   * middle of the table; `taker` grasps the other end; the giver lets go and backs off; the
   * taker then holds it up, or places it on `target`.
   */
  private planHandover(giver: ArmProgram, g: number, taker: ArmProgram, t: number, shape: EntityShape, target: PlaceTarget | null): void {
    const w = this.opts.world;
    const gName = this.arms[g]!;
    const tName = this.arms[t]!;
    let handZ = 0;
    let bottom0 = 0;
    giver.phases.push({
      name: `pick ${shape.name}`,
      build: () => {
        const pose = w.bodyPose(shape.body);
        bottom0 = bottomZ(shape, pose.pos);
        const hang = graspZ(shape, pose.pos) - bottom0;
        handZ = Math.max(this.carryZ(shape, hang), TABLE_TOP_Z + 0.14);
        return [...graspStages(this.centreGrasp(shape, g), { transitZ: 0 }), lift('lift', { z: handZ, gripper: GRIPPER_CLOSED, maxTicks: 50 })];
      },
      verify: this.lifted(shape, () => bottom0),
    });
    let carryMat: Float64Array | null = null;
    giver.phases.push({
      name: 'to hand-over',
      build: () => [
        {
          name: 'carry',
          begin: (ctx) => (carryMat = Float64Array.from(ctx.tcp.mat)),
          target: (ctx) => {
            // the object's centre over the middle of the table, at the hand-over height
            const op = w.bodyPose(shape.body).pos;
            const x = w.tableCentre[0] - 0.17;
            return { pos: [x + ctx.tcp.pos[0]! - op[0]!, ctx.tcp.pos[1]! - op[1]!, handZ], mat: carryMat ?? ctx.tcp.mat };
          },
          gripper: GRIPPER_CLOSED,
          until: 'reach',
          tol: 0.005,
          maxTicks: 90,
        },
        waitStage('settle', GRIPPER_CLOSED, undefined, 5),
      ],
    });
    taker.phases.push({
      name: `take ${shape.name}`,
      ready: () => this.events.has(`${gName}:to hand-over`),
      build: () => graspStages(this.centreGrasp(shape, t), { hover: 0.06 }),
      verify: (ctx) => ctx.tcp.width > 0.004,
    });
    giver.phases.push({
      name: 'let go',
      ready: () => this.events.has(`${tName}:take ${shape.name}`),
      build: () => [
        gripperTo('release', GRIPPER_OPEN, { maxTicks: 15 }),
        lift('up', { dz: 0.06, gripper: GRIPPER_OPEN, maxTicks: 25 }),
        moveTo('aside', (ctx) => ({ pos: [ctx.tcp.pos[0]!, (g === 0 ? 1 : -1) * 0.25, ctx.tcp.pos[2]!], mat: ctx.tcp.mat }), { gripper: GRIPPER_OPEN, tol: 0.01, maxTicks: 40 }),
      ],
    });
    const away = `${gName}:let go`;
    if (target) {
      const carryZ = this.carryZ(shape, 0.02, target) + 0.02;
      taker.phases.push({
        name: `place ${shape.name}`,
        ready: () => this.events.has(away),
        build: () => place({ object: shape.body, shape, target, carryZ, narrowRelease: target.container === true }),
      });
    } else {
      taker.phases.push({ name: 'hold up', ready: () => this.events.has(away), build: () => [lift('lift', { dz: 0.03, gripper: GRIPPER_CLOSED, maxTicks: 20 })] });
    }
  }

  /** Where On/In puts an object (centre of the target, shifted `dy` m in world y), as predicates.ts reads it. */
  private placeTarget(ref: ArgRef, predicate: 'on' | 'in', dy: number, where: string): PlaceTarget {
    const w = this.opts.world;
    if (ref.kind === 'gripper') throw new ExpertError(`${where}: a gripper is not a place`);
    if (ref.kind === 'region') {
      const region = w.regions.find((r) => r.name === ref.name && r.target === ref.owner);
      if (!region) throw new ExpertError(`${where}: region '${ref.owner}_${ref.name}' is not declared in the task`);
      if (region.ranges.length === 0) return this.placeTarget({ kind: 'object', name: ref.owner }, predicate, dy, where);
      const r = region.ranges[0]!;
      const owner = w.shapes.get(ref.owner);
      const lx = (r[0] + r[2]) / 2;
      const ly = (r[1] + r[3]) / 2;
      if (!owner) return { center: () => [w.tableCentre[0] + lx, w.tableCentre[1] + ly + dy], surfaceZ: () => w.tableCentre[2] };
      return {
        center: (wv) => {
          const p = wv.bodyPose(owner.body);
          return [p.pos[0]! + p.mat[0]! * lx + p.mat[1]! * ly, p.pos[1]! + p.mat[3]! * lx + p.mat[4]! * ly + dy];
        },
        surfaceZ: (wv) => topZ(owner, wv.bodyPose(owner.body).pos),
      };
    }
    const s = w.shapes.get(ref.name);
    if (!s) throw new ExpertError(`${where}: '${ref.name}' is not an object of the task scene`);
    const container = predicate === 'in' && s.wall !== undefined;
    return {
      container,
      touching: (_wv, object) => w.inContact(object, s.body),
      center: (wv) => {
        const p = wv.bodyPose(s.body).pos;
        return [p[0]!, p[1]! + dy];
      },
      surfaceZ: (wv) => {
        const p = wv.bodyPose(s.body).pos;
        return container ? bottomZ(s, p) + s.wall! : topZ(s, p);
      },
    };
  }
}
