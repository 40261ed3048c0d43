/**
 * The scripted expert as a Policy: it reads the task's goal formula, plans a sequence of
 * skills (pick-and-place for On/In, drawer for Open/Close, knob for Turnon/Turnoff, And in
 * order) and emits one 7-D ee-delta action per tick from privileged simulator state.
 * It goes through the same ControlLoop -> schedule -> safety -> robot path as any policy.
 *
 * Action: [dx, dy, dz (m), drx, dry, drz (rad), gripper width (m)], world (= base) frame.
 */
import { ArmatureError } from '../../src/errors.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { ActionChunk, InferOptions, Policy, PolicyMetadata } from '../../src/policy/types.ts';
import { Rng } from '../../src/util/random.ts';
import { quat2mat } from '../physics/math.ts';
import { evaluateAtom, type WorldView } from '../tasks/predicates.ts';
import { ROBOT_BASE, type EntityShape } from '../tasks/task-scene.ts';
import type { ArgRef, Formula, Predicate } from '../tasks/task.ts';
import {
  GRIPPER_OPEN,
  StageRunner,
  bottomZ,
  closingYaw,
  nearestYaw,
  graspFor,
  moveDrawer,
  pick,
  place,
  release,
  retreat,
  topZ,
  turnKnob,
  type GraspNoise,
  type PlaceTarget,
  type SkillContext,
  type Stage,
  type TcpState,
} from './skills.ts';

/** The expert cannot plan for this goal. */
export class ExpertError extends ArmatureError {
  constructor(message: string) {
    super('expert.plan', message);
  }
}

export interface ExpertNoise {
  /** Gaussian noise added to the motion dims, std per dim (m, rad) or one value for all six */
  actionStd?: number | readonly number[];
  /** Gaussian xy offset of each grasp point, std, m */
  graspStd?: number;
  /** Gaussian offset of each grasp yaw, std, rad */
  graspYawStd?: number;
  /**
   * probability that an episode has one missed grasp: the first attempt of one of its picks (drawn
   * uniformly) closes the fingers GRASP_MISS_HEIGHT above the object, on nothing, and the expert
   * notices the empty hand and grasps again (status().graspMiss says when)
   */
  graspMiss?: number;
}

/** how far above its grasp point a missed grasp closes, m: clear of the top of every task object */
export const GRASP_MISS_HEIGHT = 0.05;

export interface ExpertOptions {
  /** privileged state: object poses, joint positions, shapes and regions of the task scene */
  world: WorldView;
  /** the task's goal formula (BddlTask.goal) */
  goal: Formula;
  /** embodiment key of the action space (default 'franka') */
  embodiment?: string;
  /** policy rate, Hz (default 20) */
  rateHz?: number;
  noise?: ExpertNoise;
  /** seeds the noise */
  seed?: number;
  /** knob angle the expert turns a stove on to, rad (default 0.8; predicates count >= 0.5) */
  knobOnAngle?: number;
  /** drawer slide fraction the expert opens to (default 0.92, so a bowl fits in; predicates count >= 0.5) */
  openFraction?: number;
  /**
   * lowest TCP height, m, world: the safety workspace's floor (FR3: 0.02 m above the base;
   * default ROBOT_BASE z + 0.021 of the task scenes), so the expert never needs clipping
   */
  minTcpZ?: number;
  /** retries of a failed grasp / drawer / knob phase, and re-plans of goal atoms still false at the end (default 2 each) */
  retries?: number;
  /**
   * plan only the goal atoms still false when the expert starts (default false). For taking over
   * mid-episode from another policy: an object already in the basket is not picked out again.
   */
  skipSatisfied?: boolean;
}

/** One planned step: stages built from the state when it starts, and an optional check. */
interface Phase {
  name: string;
  build(ctx: SkillContext): Stage[];
  /** whether the phase achieved what it should (else it is retried) */
  verify?(ctx: SkillContext): boolean;
  /** picks: whether this attempt's grasp was the planned miss (ExpertNoise.graspMiss) */
  misses?(): boolean;
}

export interface ExpertStatus {
  /** phase names in plan order */
  plan: string[];
  /** index of the running phase (plan.length when finished) */
  phase: number;
  stage: string | null;
  retries: number;
  /** stages that ended by timeout */
  timeouts: string[];
  /** ExpertNoise.graspMiss: none drawn for this episode, drawn and still ahead, or noticed (the retry has begun) */
  graspMiss: 'none' | 'planned' | 'noticed';
}

const ACTION_NAMES = ['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper'];

/** Atoms of a goal in execution order: opening and switching first, placing next, closing last. */
export function goalAtoms(goal: Formula): Predicate[] {
  const out: Predicate[] = [];
  const walk = (f: Formula): void => {
    if (f.type === 'atom') out.push(f);
    else if (f.type === 'and') f.args.forEach(walk);
    else if (f.type === 'or') walk(f.args[0]!);
    else throw new ExpertError(`the expert cannot plan for a negated goal (Not ...): rewrite it as the state to reach, e.g. (Close x) for (Not (Open x))`);
  };
  walk(goal);
  // a container that must itself move (bowl onto the plate) is moved before it is filled
  const filled = new Set(out.filter((p) => p.predicate === 'in' || p.predicate === 'on').map((p) => (p.refs[1]!.kind === 'region' ? p.refs[1]!.owner : p.refs[1]!.name)));
  const rank = (p: Predicate): number => {
    if (p.predicate === 'open' || p.predicate === 'turnon' || p.predicate === 'turnoff') return 0;
    if (p.predicate === 'close') return 3;
    return filled.has(p.args[0]!) ? 1 : 2;
  };
  return out.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p);
}

export class ExpertPolicy implements Policy {
  readonly metadata: PolicyMetadata;
  private readonly rng: Rng;
  private readonly actionStd: Float64Array;
  private phases: Phase[] = [];
  private phaseIndex = 0;
  private runner: StageRunner | null = null;
  private retriesLeft = 0;
  private retriesUsed = 0;
  /** index (in plan order) of the pick whose first grasp misses, -1 for none */
  private missAt = -1;
  private picksBuilt = 0;
  private missNoticed = false;
  private readonly timeouts: string[] = [];
  private planned = false;
  private refYaw = 0;
  private lastGripper = GRIPPER_OPEN;
  private recovering = false;
  private readonly minZ: number;
  private replansLeft = 0;

  constructor(private readonly opts: ExpertOptions) {
    const emb = opts.embodiment ?? 'franka';
    this.metadata = {
      name: 'scripted-expert',
      // the manifest has no kind for scripted policies; a horizon-1 regression is what it looks like from outside
      kind: 'chunk_regression',
      horizon: 1,
      controlRateHz: opts.rateHz ?? 20,
      embodiments: {
        [emb]: {
          space: 'ee_delta_pose',
          names: ACTION_NAMES,
          units: ['m', 'm', 'm', 'rad', 'rad', 'rad', 'm'],
          mean: new Array(7).fill(0),
          std: new Array(7).fill(1),
          gripper_dims: [6],
        },
      },
      cameras: [],
      proprioFields: { [emb]: ['ee_position', 'ee_quaternion', 'gripper'] },
    };
    this.rng = new Rng(opts.seed ?? 0);
    this.minZ = opts.minTcpZ ?? ROBOT_BASE[2] + 0.021;
    const s = opts.noise?.actionStd ?? 0;
    this.actionStd = Float64Array.from({ length: 6 }, (_, i) => (typeof s === 'number' ? s : (s[i] ?? 0)));
    // fail at construction, not mid-episode, on goals the expert cannot plan
    goalAtoms(opts.goal).forEach((a) => this.checkAtom(a));
  }

  async predictChunk(obs: Observation, _opts?: InferOptions): Promise<ActionChunk> {
    const t0 = performance.now();
    // 0.5 m above the base: over the tallest fixture with a held object, well inside the FR3 workspace
    const ctx: SkillContext = { tcp: tcpFromObservation(obs), world: this.opts.world, minZ: this.minZ, maxZ: ROBOT_BASE[2] + 0.5 };
    if (!this.planned) this.plan(ctx);
    const a = this.next(ctx);
    const out = new Float32Array(7);
    for (let i = 0; i < 6; i++) out[i] = a[i]! + (this.actionStd[i]! > 0 ? this.actionStd[i]! * this.rng.normal() : 0);
    out[6] = a[6]!;
    const emb = Object.keys(this.metadata.embodiments)[0]!;
    return { embodiment: emb, horizon: 1, dim: 7, actions: out, stamp: obs.stamp, stats: { latencyMs: performance.now() - t0 } };
  }

  /** Where the expert is in its plan (for logs and tests). */
  status(): ExpertStatus {
    return {
      plan: this.phases.map((p) => p.name),
      phase: this.phaseIndex,
      stage: this.runner?.current?.name ?? null,
      retries: this.retriesUsed,
      timeouts: [...this.timeouts],
      graspMiss: this.missNoticed ? 'noticed' : this.missAt >= 0 ? 'planned' : 'none',
    };
  }

  /** True when every phase has run. */
  get finished(): boolean {
    return this.planned && this.phaseIndex >= this.phases.length;
  }

  reset(): void {
    this.phases = [];
    this.phaseIndex = 0;
    this.runner = null;
    this.planned = false;
    this.retriesUsed = 0;
    this.missAt = -1;
    this.picksBuilt = 0;
    this.missNoticed = false;
    this.timeouts.length = 0;
    this.lastGripper = GRIPPER_OPEN;
  }

  async dispose(): Promise<void> {}

  // ---------------------------------------------------------------- planning

  private plan(ctx: SkillContext): void {
    // the yaw at the start (home) keeps joint 7 mid-range: grasp yaws are chosen mod pi near it
    this.refYaw = closingYaw(ctx.tcp.mat);
    const atoms = goalAtoms(this.opts.goal);
    const todo = this.opts.skipSatisfied ? atoms.filter((a) => a.predicate === 'true' || !this.atomHolds(a)) : atoms;
    this.phases = todo.flatMap((a) => this.phasesFor(a));
    const picks = this.phases.filter((p) => p.misses !== undefined).length;
    const m = this.opts.noise?.graspMiss ?? 0;
    this.missAt = m > 0 && picks > 0 && this.rng.uniform() < m ? Math.floor(this.rng.uniform() * picks) : -1;
    this.phaseIndex = 0;
    this.retriesLeft = this.opts.retries ?? 2;
    this.replansLeft = this.opts.retries ?? 2;
    this.planned = true;
  }

  private shape(name: string, where: string): EntityShape {
    const s = this.opts.world.shapes.get(name);
    if (!s) throw new ExpertError(`${where}: '${name}' is not an object or fixture of the task scene; known: ${[...this.opts.world.shapes.keys()].join(', ')}`);
    return s;
  }

  private checkAtom(p: Predicate): void {
    const where = `(${p.predicate} ${p.args.join(' ')})`;
    switch (p.predicate) {
      case 'on':
      case 'in': {
        const s = this.shape(p.args[0]!, where);
        if (s.fixture) throw new ExpertError(`${where}: '${s.name}' is a fixture; the expert only picks free objects`);
        this.placeTarget(p.refs[1]!, p.predicate, where);
        return;
      }
      case 'open':
      case 'close':
        if (!this.articulated(p.refs[0]!, where).drawer) throw new ExpertError(`${where}: no drawer to ${p.predicate}`);
        return;
      case 'turnon':
      case 'turnoff':
        if (!this.articulated(p.refs[0]!, where).knob) throw new ExpertError(`${where}: no knob to turn`);
        return;
      case 'true':
        return;
      default:
        throw new ExpertError(`${where}: the expert has no skill for '${p.predicate}'; it handles On, In, Open, Close, Turnon, Turnoff`);
    }
  }

  private articulated(ref: ArgRef, where: string): EntityShape {
    return this.shape(ref.kind === 'region' ? ref.owner : ref.name, where);
  }

  private phasesFor(p: Predicate): Phase[] {
    const where = `(${p.predicate} ${p.args.join(' ')})`;
    const w = this.opts.world;
    switch (p.predicate) {
      case 'on':
      case 'in':
        return this.pickPlace(p.args[0]!, this.placeTarget(p.refs[1]!, p.predicate, where), where);
      case 'open':
      case 'close': {
        const shape = this.articulated(p.refs[0]!, where);
        const d = shape.drawer!;
        const fraction = p.predicate === 'open' ? (this.opts.openFraction ?? 0.92) : 0.02;
        const ok = (q: number): boolean => (p.predicate === 'open' ? q >= 0.55 * d.travel : q <= 0.08 * d.travel);
        return [{ name: `${p.predicate} ${shape.name}`, build: () => moveDrawer({ shape, fraction }), verify: () => ok(w.jointPosition(d.joint)) }];
      }
      case 'turnon':
      case 'turnoff': {
        const shape = this.articulated(p.refs[0]!, where);
        const k = shape.knob!;
        const on = p.predicate === 'turnon';
        return [
          {
            name: `${p.predicate} ${shape.name}`,
            build: (ctx) => {
              const q = ctx.world.jointPosition(k.joint);
              // on: turn further the way it already points; off: back to 0
              const goal = on ? (q < -0.05 ? -1 : 1) * (this.opts.knobOnAngle ?? 0.8) : 0;
              return turnKnob({ shape, goal, refYaw: this.refYaw, margin: on ? 0.1 : 0.05 });
            },
            verify: () => {
              const q = Math.abs(w.jointPosition(k.joint));
              return on ? q >= 0.55 : q <= 0.12;
            },
          },
        ];
      }
      default:
        return [];
    }
  }

  private graspNoise(miss: boolean): GraspNoise {
    const n = this.opts.noise;
    const s = n?.graspStd ?? 0;
    const y = n?.graspYawStd ?? 0;
    return { dx: s > 0 ? s * this.rng.normal() : 0, dy: s > 0 ? s * this.rng.normal() : 0, dyaw: y > 0 ? y * this.rng.normal() : 0, dz: miss ? GRASP_MISS_HEIGHT : 0 };
  }

  private pickPlace(object: string, target: PlaceTarget, where: string): Phase[] {
    const shape = this.shape(object, where);
    const w = this.opts.world;
    let bottom0 = 0;
    let carryZ = 0;
    let attempts = 0;
    let missing = false;
    return [
      {
        name: `pick ${object}`,
        build: (ctx) => {
          const pose = w.bodyPose(shape.body);
          bottom0 = bottomZ(shape, pose.pos);
          const g = graspFor(shape, pose, this.refYaw);
          const hang = g.pos[2] - bottom0;
          // carry high enough to clear every other object's top (and the target surface)
          let clear = target.surfaceZ(w);
          for (const s of w.shapes.values()) if (s.name !== object) clear = Math.max(clear, topZ(s, w.bodyPose(s.body).pos));
          carryZ = Math.max(clear + hang + 0.05, g.pos[2] + 0.1);
          // the empty hand flies over whatever lies between it and the object (an open drawer, a cabinet)
          const transitZ = pathClearance(w, [ctx.tcp.pos[0]!, ctx.tcp.pos[1]!], [g.pos[0], g.pos[1]], new Set([object])) + 0.05;
          // a bowl is grasped at a rim point its contents leave free, fixed when the phase starts
          const rim = shape.kind === 'bowl' ? (rimAngleClearOf(w, shape) ?? target.rimAngle?.(w, pose.pos, this.refYaw)) : undefined;
          // only a pick's first attempt can be the planned miss
          missing = attempts++ === 0 && this.picksBuilt++ === this.missAt;
          return pick({ object: shape.body, shape, carryZ, transitZ, refYaw: this.refYaw, noise: this.graspNoise(missing), rimAngle: () => rim });
        },
        // lifted, and the fingers did not close on nothing
        verify: (ctx) => bottomZ(shape, w.bodyPose(shape.body).pos) > bottom0 + 0.03 && ctx.tcp.width > 0.004,
        misses: () => missing,
      },
      { name: `place ${object}`, build: () => place({ object: shape.body, shape, target, carryZ, narrowRelease: target.container === true }) },
    ];
  }

  /** Where On/In puts an object: mirrors how predicates.ts reads the second argument. */
  private placeTarget(ref: ArgRef, predicate: 'on' | 'in', where: string): PlaceTarget {
    const w = this.opts.world;
    if (ref.kind !== 'region') {
      const s = this.shape(ref.name, where);
      const container = predicate === 'in' && s.wall !== undefined;
      // containers: a free spot (body frame), chosen when the carry starts, so a second item does not land on the first
      let spot: [number, number] = [0, 0];
      return {
        container,
        touching: (_wv, object) => w.inContact(object, s.body),
        prepare: (_wv, object) => {
          spot = container ? freeSpot(w, s, object) : [0, 0];
        },
        center: (wv) => {
          const p = wv.bodyPose(s.body);
          return [p.pos[0]! + p.mat[0]! * spot[0] + p.mat[1]! * spot[1], p.pos[1]! + p.mat[3]! * spot[0] + p.mat[4]! * spot[1]];
        },
        surfaceZ: (wv) => {
          const p = wv.bodyPose(s.body).pos;
          return container ? bottomZ(s, p) + s.wall! : topZ(s, p);
        },
      };
    }
    const region = w.regions.find((r) => r.name === ref.name && r.target === ref.owner);
    if (!region) throw new ExpertError(`${where}: region '${ref.owner}_${ref.name}' is not declared in the task`);
    const owner = w.shapes.get(ref.owner);
    if (region.ranges.length > 0) {
      const r = region.ranges[0]!;
      const lx = (r[0] + r[2]) / 2;
      const ly = (r[1] + r[3]) / 2;
      if (!owner) {
        return { center: (wv) => [w.tableCentre[0] + lx, w.tableCentre[1] + ly], surfaceZ: (wv) => w.tableCentre[2] };
      }
      return {
        center: (wv) => {
          const p = wv.bodyPose(owner.body);
          return [p.pos[0]! + p.mat[0]! * lx + p.mat[1]! * ly, p.pos[1]! + p.mat[3]! * lx + p.mat[4]! * ly];
        },
        surfaceZ: (wv) => topZ(owner, wv.bodyPose(owner.body).pos),
      };
    }
    if (!owner) throw new ExpertError(`${where}: table region '${ref.owner}_${ref.name}' has no :ranges, so nothing can be put on it`);
    if (owner.drawer && !/top_side|top_surface/.test(ref.name)) {
      const d = owner.drawer;
      const cy = (d.interiorMin[1] + d.interiorMax[1]) / 2;
      return {
        // hold a bowl at a rim point 45 deg off the drawer's front-back axis: the fingers stay clear of
        // the drawer front, and the wrist turns less than for a side grasp (which can run joint 7 out)
        rimAngle: (wv, objectPos, refYaw) => {
          const m = wv.bodyPose(d.body).mat;
          const front = Math.atan2(-m[3]!, -m[0]!); // drawer -x: towards its front
          const dev = (a: number): number => Math.abs(nearestYaw(a, refYaw) - refYaw);
          const a = front + Math.PI / 4;
          const b = front - Math.PI / 4;
          void objectPos;
          return dev(a) <= dev(b) ? a : b;
        },
        center: (wv) => {
          const p = wv.bodyPose(d.body);
          // centre of the part of the tray that is out of the carcass (drawer frame x: -half depth + slide)
          const out = Math.min(d.interiorMax[0], -owner.size[0] + wv.jointPosition(d.joint) - 0.01);
          const cx = (d.interiorMin[0] + out) / 2;
          return [p.pos[0]! + p.mat[0]! * cx + p.mat[1]! * cy, p.pos[1]! + p.mat[3]! * cx + p.mat[4]! * cy];
        },
        surfaceZ: (wv) => wv.bodyPose(d.body).pos[2]! + d.interiorMin[2],
      };
    }
    // cabinet top, stove burner (cook region) or the owner's own top
    return this.placeTarget({ kind: 'object', name: owner.name }, predicate, where);
  }

  // ---------------------------------------------------------------- execution

  private next(ctx: SkillContext): Float64Array {
    for (let guard = 0; guard < 16 && this.phaseIndex < this.phases.length; guard++) {
      const phase = this.phases[this.phaseIndex]!;
      if (!this.runner) {
        this.runner = new StageRunner(phase.build(ctx));
        this.recovering = false;
      }
      const a = this.runner.step(ctx);
      if (a) {
        this.lastGripper = a[6]!;
        return a;
      }
      this.timeouts.push(...this.runner.timeouts.map((s) => `${phase.name}/${s}`));
      if (this.recovering) {
        // backed off: run the phase again, planned from the new state
        this.runner = null;
        continue;
      }
      if (phase.verify && !phase.verify(ctx) && this.retriesLeft > 0) {
        this.retriesLeft--;
        this.retriesUsed++;
        if (phase.misses?.()) this.missNoticed = true;
        this.runner = new StageRunner([release(), retreat(0.06)]);
        this.recovering = true;
        continue;
      }
      this.phaseIndex++;
      this.runner = null;
    }
    // plan done: redo any goal atom that is not true (knocked over, drawer pushed shut), a bounded number of times
    if (this.phaseIndex >= this.phases.length && this.replansLeft > 0) {
      const missing = goalAtoms(this.opts.goal).filter((a) => a.predicate !== 'true' && !this.atomHolds(a));
      if (missing.length > 0) {
        this.replansLeft--;
        this.retriesUsed++;
        this.phases.push({ name: 'back off', build: () => [release(), retreat(0.06)] }, ...missing.flatMap((a) => this.phasesFor(a)));
        return this.next(ctx);
      }
    }
    // finished: hold still with the gripper as last commanded
    return Float64Array.of(0, 0, 0, 0, 0, 0, this.lastGripper);
  }

  private atomHolds(a: Predicate): boolean {
    try {
      return evaluateAtom(a, this.opts.world);
    } catch {
      return true; // cannot be scored: nothing to redo
    }
  }
}

/**
 * A spot inside a container (its body frame, m) as far as possible from what is already in
 * it: the centre when empty, else one of eight spots around it.
 */
export function freeSpot(w: WorldView, container: EntityShape, held: string): [number, number] {
  const pose = w.bodyPose(container.body);
  const wall = container.wall ?? 0;
  const inner: [number, number] = [container.size[0] - wall, container.size[1] - wall];
  const inside = [...w.shapes.values()].filter((s) => {
    if (s.name === container.name || s.name === held || s.fixture) return false;
    const p = w.bodyPose(s.body).pos;
    return footprintDistance(container, pose, p[0]!, p[1]!) === 0 && p[2]! < topZ(container, pose.pos) + 0.02;
  });
  if (inside.length === 0) return [0, 0];
  const fx = container.kind === 'bowl' ? 0.3 : 0.45;
  let best: [number, number] = [0, 0];
  let bestD = -Infinity;
  for (const [ax, ay] of [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]] as const) {
    const lx = ax * fx * inner[0];
    const ly = ay * fx * inner[1];
    const x = pose.pos[0]! + pose.mat[0]! * lx + pose.mat[1]! * ly;
    const y = pose.pos[1]! + pose.mat[3]! * lx + pose.mat[4]! * ly;
    const d = Math.min(...inside.map((s) => footprintDistance(s, w.bodyPose(s.body), x, y)));
    if (d > bestD + 1e-3) {
      bestD = d;
      best = [lx, ly];
    }
  }
  return best;
}

/** Distance (m) from a world xy point to an entity's footprint (0 inside). */
function footprintDistance(s: EntityShape, pose: { pos: ArrayLike<number>; mat: ArrayLike<number> }, x: number, y: number): number {
  const dx = x - pose.pos[0]!;
  const dy = y - pose.pos[1]!;
  if (s.kind === 'bowl' || s.kind === 'plate' || s.kind === 'cylinder' || s.kind === 'bottle' || s.kind === 'mug') return Math.max(0, Math.hypot(dx, dy) - s.size[0]);
  const m = pose.mat;
  const lx = m[0]! * dx + m[3]! * dy;
  const ly = m[1]! * dx + m[4]! * dy;
  return Math.hypot(Math.max(0, Math.abs(lx) - s.size[0]), Math.max(0, Math.abs(ly) - s.size[1]));
}

/**
 * Rim angle (rad about world z) for grasping a bowl: the one nearest the robot-facing side
 * whose inner finger (about 2 cm inside the wall) stays 1.5 cm clear of anything in the bowl;
 * undefined (the default side) when the bowl is empty.
 */
export function rimAngleClearOf(w: WorldView, bowl: EntityShape): number | undefined {
  const bp = w.bodyPose(bowl.body).pos;
  const r = bowl.size[0];
  const contents: { s: EntityShape; pose: { pos: ArrayLike<number>; mat: ArrayLike<number> } }[] = [];
  for (const s of w.shapes.values()) {
    if (s.name === bowl.name || s.fixture) continue;
    const pose = w.bodyPose(s.body);
    if (Math.hypot(pose.pos[0]! - bp[0]!, pose.pos[1]! - bp[1]!) < r && pose.pos[2]! > bp[2]! - 0.01) contents.push({ s, pose });
  }
  if (contents.length === 0) return undefined;
  const facing = Math.atan2(-bp[1]!, -bp[0]!);
  let best = facing;
  let bestScore = -Infinity;
  for (let k = -12; k <= 12; k++) {
    const th = facing + (k * Math.PI) / 24; // +-90 deg in 7.5 deg steps
    const fx = bp[0]! + (r - 0.02) * Math.cos(th);
    const fy = bp[1]! + (r - 0.02) * Math.sin(th);
    const clear = Math.min(...contents.map((c) => footprintDistance(c.s, c.pose, fx, fy)));
    // enough room first, then closeness to the robot-facing side
    const score = Math.min(clear, 0.015) * 100 - Math.abs(k) * 0.01;
    if (score > bestScore) {
      bestScore = score;
      best = th;
    }
  }
  return best;
}

/** Footprints that can block the hand: every entity, plus drawers where they stick out. */
function obstacles(w: WorldView, exclude: ReadonlySet<string>): { x: number; y: number; r: number; top: number }[] {
  const out: { x: number; y: number; r: number; top: number }[] = [];
  for (const s of w.shapes.values()) {
    if (exclude.has(s.name)) continue;
    const p = w.bodyPose(s.body).pos;
    const round = s.kind === 'bowl' || s.kind === 'plate' || s.kind === 'cylinder' || s.kind === 'bottle' || s.kind === 'mug';
    const r = round ? s.size[0] : Math.hypot(s.size[0], s.size[1]);
    out.push({ x: p[0]!, y: p[1]!, r, top: topZ(s, p) });
    if (s.drawer) {
      const d = w.bodyPose(s.drawer.body).pos;
      out.push({ x: d[0]!, y: d[1]!, r, top: topZ(s, p) });
    }
  }
  return out;
}

/** Highest obstacle top (m, world) within reach of the hand along the segment a -> b (xy, m); the table if none. */
export function pathClearance(w: WorldView, a: [number, number], b: [number, number], exclude: ReadonlySet<string>, margin = 0.08): number {
  let top = w.tableCentre[2];
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  for (const o of obstacles(w, exclude)) {
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((o.x - a[0]) * dx + (o.y - a[1]) * dy) / len2)) : 0;
    const d = Math.hypot(a[0] + t * dx - o.x, a[1] + t * dy - o.y);
    if (d < o.r + margin) top = Math.max(top, o.top);
  }
  return top;
}

/**
 * TCP pose and gripper width of arm `arm` (description order) from the robot's proprio fields
 * (ee_position 3 per arm, ee_quaternion [w,x,y,z] 4 per arm, gripper 1 per arm).
 */
export function tcpFromObservation(obs: Observation, arm = 0): TcpState {
  const f = obs.proprio.fields;
  const p = f['ee_position'];
  const q = f['ee_quaternion'];
  const g = f['gripper'];
  if (!p || p.length < 3 * (arm + 1) || !q || q.length < 4 * (arm + 1) || !g || g.length < arm + 1) {
    throw new ExpertError(`the expert needs proprio fields ee_position (3), ee_quaternion (4) and gripper (1) for arm ${arm}; got ${Object.keys(f).map((k) => `${k} (${f[k]!.length})`).join(', ') || 'none'}`);
  }
  return { pos: Float64Array.from(p.subarray(3 * arm, 3 * arm + 3)), mat: quat2mat(q.subarray(4 * arm, 4 * arm + 4)), width: g[arm]! };
}
