/**
 * SafetyFilter: the last step before a command leaves for the robot.
 *
 * Joint targets go through, in order: non-finite rejection (hold), position clamp,
 * velocity limit, acceleration limit (with a braking-distance bound so a joint can always
 * stop before its position limit), TCP workspace box (with the same look-ahead: the point
 * where the arm would come to rest if it braked now must be inside too), gripper range.
 * Every emitted command that is not a hold is reachable from the previous one within the
 * velocity and acceleration limits. A hold repeats the previous safe command (or the
 * measured position before the first), i.e. a stop.
 */
import { armOffsets, type RobotDescription } from '../embodiment/description.ts';
import { chainFromArm, tipPosition, type Chain } from '../embodiment/kinematics.ts';
import { boxDistance, effectiveLimits, insideBox, SafetyError, type EffectiveLimits, type LimitOverrides } from './limits.ts';

/** m: gripper widths this close to the range count as inside it (float32 actions round 0.085 to 0.08500000089) */
const GRIPPER_REPORT_TOL = 1e-6;

export const INTERVENTION_KINDS = [
  'non_finite',
  'position_limit',
  'velocity_limit',
  'acceleration_limit',
  'workspace',
  'gripper_range',
  'hold',
] as const;
export type InterventionKind = (typeof INTERVENTION_KINDS)[number];

export interface Intervention {
  kind: InterventionKind;
  /** joint the intervention applied to, when it was one joint */
  joint?: string;
  /** arm it applied to, for workspace and gripper interventions */
  arm?: string;
  detail: string;
}

export interface SafeCommand {
  /** joint position targets, rad, all arms concatenated */
  positions: Float64Array;
  /** gripper width targets, m, one per arm */
  gripper: Float64Array;
  /** true when the input was replaced by a hold of the previous safe command */
  held: boolean;
  interventions: Intervention[];
}

export interface SafeEeCommand {
  /** per arm [dx, dy, dz (m), drx, dry, drz (rad, axis-angle)], robot base frame */
  delta: Float64Array;
  /** gripper width targets, m, one per arm */
  gripper: Float64Array;
  held: boolean;
  interventions: Intervention[];
}

export interface SafetyReport {
  /** commands filtered (joint and ee_delta) */
  commands: number;
  /** of which replaced by a hold */
  held: number;
  /** commands in which each kind intervened at least once */
  counts: Record<InterventionKind, number>;
}

export interface SafetyFilterOptions {
  robot: RobotDescription;
  /** control period at which commands are sent, s */
  dt: number;
  overrides?: LimitOverrides;
}

export interface JointTargetInput {
  /** joint position targets, rad, all arms concatenated in description order */
  target: Float64Array;
  /** gripper width targets, m, one per arm */
  gripper: Float64Array;
  /** current joint positions, rad (the starting point before the first command) */
  measured: Float64Array;
  /** current gripper widths, m (held before the first gripper command; default home_width) */
  measuredGripper?: Float64Array;
}

export interface EeDeltaInput {
  /** per arm [dx, dy, dz (m), drx, dry, drz (rad, axis-angle)] for this control period, robot base frame */
  delta: Float64Array;
  /** gripper width target(s), m: one per arm (a number for single-arm robots) */
  gripper: number | Float64Array;
  /** current joint positions, rad */
  measured: Float64Array;
}

/**
 * Largest speed (>= 0, rad/s) from which a joint stepping at period dt and decelerating at
 * `a` still stops within distance `d` after this step: v dt + v^2 / (2a) <= d.
 */
export function brakingVelocity(d: number, a: number, dt: number): number {
  if (!(d > 0)) return 0;
  return a * (Math.sqrt(dt * dt + (2 * d) / a) - dt);
}

/** Distance covered while braking from speed v >= 0 at a per step of dt (discrete, exact). */
export function brakingDistance(v: number, a: number, dt: number): number {
  const dv = a * dt;
  const n = Math.floor(v / dv);
  return dt * (n * v - (dv * n * (n + 1)) / 2);
}

export class SafetyFilter {
  readonly robot: RobotDescription;
  /** s */
  readonly dt: number;
  private lim: EffectiveLimits;
  private readonly chains: Chain[];
  private readonly offsets: number[];
  private readonly n: number;
  /** whether a previous safe command exists (else the next one starts from the measured state) */
  private hasLast = false;
  private hasLastGripper = false;
  // state is double-buffered and allocated once: the filter runs every control tick
  private lastPos: Float64Array;
  private lastVel: Float64Array;
  private nextPos: Float64Array;
  private nextVel: Float64Array;
  private readonly lastGripper: Float64Array;
  /** per arm scratch: joint vector, stop point, TCP position */
  private readonly armQ: Float64Array[];
  private readonly armStop: Float64Array[];
  private readonly tip = new Float64Array(3);
  /** workspace bisection scratch */
  private readonly brakeVel: Float64Array;
  private readonly trialPos: Float64Array;
  private readonly trialVel: Float64Array;
  private readonly gripOut: Float64Array;
  private readonly eeGoal = new Float64Array(3);
  private latched: string | null = null;
  private commands = 0;
  private heldCount = 0;
  private readonly counts: Record<InterventionKind, number>;

  constructor(opts: SafetyFilterOptions) {
    if (!(Number.isFinite(opts.dt) && opts.dt > 0)) throw new SafetyError(`control period dt must be > 0 s, got ${opts.dt}`);
    this.robot = opts.robot;
    this.dt = opts.dt;
    this.lim = effectiveLimits(opts.robot, opts.overrides);
    this.chains = opts.robot.arms.map((a) => chainFromArm(a));
    this.offsets = armOffsets(opts.robot);
    this.n = this.offsets[this.offsets.length - 1];
    const n = this.n;
    const nArms = opts.robot.arms.length;
    this.lastPos = new Float64Array(n);
    this.lastVel = new Float64Array(n);
    this.nextPos = new Float64Array(n);
    this.nextVel = new Float64Array(n);
    this.lastGripper = new Float64Array(nArms);
    this.gripOut = new Float64Array(nArms);
    this.brakeVel = new Float64Array(n);
    this.trialPos = new Float64Array(n);
    this.trialVel = new Float64Array(n);
    this.armQ = opts.robot.arms.map((_, a) => new Float64Array(this.offsets[a + 1] - this.offsets[a]));
    this.armStop = opts.robot.arms.map((_, a) => new Float64Array(this.offsets[a + 1] - this.offsets[a]));
    this.counts = Object.fromEntries(INTERVENTION_KINDS.map((k) => [k, 0])) as Record<InterventionKind, number>;
  }

  /** The limits in force. */
  get limits(): EffectiveLimits {
    return this.lim;
  }

  /** Replace the overrides (e.g. after a ROS parameter change); takes effect on the next command. */
  setOverrides(overrides: LimitOverrides): void {
    this.lim = effectiveLimits(this.robot, overrides);
  }

  /** Latch a hold (e-stop): every command is replaced by the last safe one until release(). */
  hold(reason = 'hold requested'): void {
    this.latched = reason;
  }

  /** Clear a latched hold; the next command starts again from the measured position, at rest. No-op when not held. */
  release(): void {
    if (this.latched === null) return;
    this.latched = null;
    this.hasLast = false;
    this.lastVel.fill(0);
  }

  get isHeld(): boolean {
    return this.latched !== null;
  }

  /** Forget the previous command (new episode); the latch is kept. */
  reset(): void {
    this.hasLast = false;
    this.hasLastGripper = false;
    this.lastVel.fill(0);
  }

  /** Cumulative counts since construction. */
  report(): SafetyReport {
    return { commands: this.commands, held: this.heldCount, counts: { ...this.counts } };
  }

  /** Make a joint position command safe to send. */
  filterJointTargets(input: JointTargetInput): SafeCommand {
    const { target, gripper, measured } = input;
    const n = this.n;
    const nArms = this.robot.arms.length;
    this.checkLength('target', target, n);
    this.checkLength('measured', measured, n);
    this.checkLength('gripper', gripper, nArms);
    if (input.measuredGripper) this.checkLength('measuredGripper', input.measuredGripper, nArms);

    const ref = this.reference(measured);
    const refVel = this.lastVel;
    const gripRef = this.gripperReference(input.measuredGripper);
    const interventions: Intervention[] = [];

    if (this.latched !== null) {
      interventions.push({ kind: 'hold', detail: `hold latched: ${this.latched}` });
      return this.emitHold(ref, gripRef, interventions);
    }
    const names = this.lim.jointNames;
    let finite = true;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(target[i])) {
        finite = false;
        interventions.push({ kind: 'non_finite', joint: names[i], detail: `target ${target[i]}: command rejected, holding` });
      }
    }
    for (let a = 0; a < nArms; a++) {
      if (!Number.isFinite(gripper[a])) {
        finite = false;
        interventions.push({ kind: 'non_finite', arm: this.robot.arms[a].name, detail: `gripper ${gripper[a]}: command rejected, holding` });
      }
    }
    if (!finite) return this.emitHold(ref, gripRef, interventions);

    // per joint: position, velocity, acceleration, braking distance
    const { lower, upper, maxVelocity, maxAcceleration } = this.lim;
    const dt = this.dt;
    const pos = this.nextPos;
    const vel = this.nextVel;
    for (let i = 0; i < n; i++) {
      // a start outside the margin may stay where it is, never move further out
      const lo = Math.min(lower[i], ref[i]);
      const hi = Math.max(upper[i], ref[i]);
      let t = target[i];
      if (t < lo || t > hi) {
        const c = t < lo ? lo : hi;
        interventions.push({ kind: 'position_limit', joint: names[i], detail: `target ${t.toFixed(4)} rad clamped to ${c.toFixed(4)}` });
        t = c;
      }
      let v = (t - ref[i]) / dt;
      const vmax = maxVelocity[i];
      if (Math.abs(v) > vmax) {
        interventions.push({ kind: 'velocity_limit', joint: names[i], detail: `${v.toFixed(3)} rad/s limited to ${vmax.toFixed(3)}` });
        v = Math.sign(v) * vmax;
      }
      const a = maxAcceleration[i];
      const vLoA = refVel[i] - a * dt;
      const vHiA = refVel[i] + a * dt;
      if (v < vLoA || v > vHiA) {
        const c = v < vLoA ? vLoA : vHiA;
        interventions.push({ kind: 'acceleration_limit', joint: names[i], detail: `${((v - refVel[i]) / dt).toFixed(2)} rad/s^2 limited to ${a.toFixed(2)}` });
        v = c;
      }
      const vUp = brakingVelocity(hi - ref[i], a, dt);
      const vDown = -brakingVelocity(ref[i] - lo, a, dt);
      if (v > vUp || v < vDown) {
        const c = v > vUp ? vUp : vDown;
        interventions.push({ kind: 'position_limit', joint: names[i], detail: `slowed from ${v.toFixed(3)} to ${c.toFixed(3)} rad/s to stop before the limit` });
        v = c;
      }
      pos[i] = Math.min(hi, Math.max(lo, ref[i] + v * dt));
      vel[i] = (pos[i] - ref[i]) / dt;
    }

    // workspace, arm by arm
    for (let ai = 0; ai < nArms; ai++) {
      const res = this.workspaceStep(ai, ref, refVel, pos, vel);
      if (res === 'ok') continue;
      const arm = this.robot.arms[ai].name;
      if (res === 'hold') {
        interventions.push({ kind: 'workspace', arm, detail: 'no step keeps the TCP in the workspace box: holding' });
        return this.emitHold(ref, gripRef, interventions);
      }
      interventions.push({ kind: 'workspace', arm, detail: `step scaled to keep the TCP (and its stopping point) in the workspace box (s = ${res.toFixed(4)})` });
    }

    const grip = this.clampGripper(gripper, interventions);
    // the new command becomes the reference; the old buffers are reused for the next one
    this.nextPos = this.lastPos;
    this.nextVel = this.lastVel;
    this.lastPos = pos;
    this.lastVel = vel;
    this.hasLast = true;
    this.setLastGripper(grip);
    this.count(interventions, false);
    return { positions: Float64Array.from(pos), gripper: Float64Array.from(grip), held: false, interventions };
  }

  /** Make an end-effector delta (ee_delta_pose action) safe to send. */
  filterEeDelta(input: EeDeltaInput): SafeEeCommand {
    const nArms = this.robot.arms.length;
    const gripper = typeof input.gripper === 'number' ? Float64Array.of(input.gripper) : input.gripper;
    this.checkLength('delta', input.delta, 6 * nArms);
    this.checkLength('gripper', gripper, nArms);
    this.checkLength('measured', input.measured, this.n);
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(input.measured[i])) throw new SafetyError(`measured joint position ${this.lim.jointNames[i]} is ${input.measured[i]}: cannot predict the TCP, check joint_states`);
    }
    const interventions: Intervention[] = [];
    const delta = new Float64Array(6 * nArms);
    const gripRef = this.gripperReference(undefined);
    if (this.latched !== null) {
      interventions.push({ kind: 'hold', detail: `hold latched: ${this.latched}` });
      this.count(interventions, true);
      return { delta, gripper: Float64Array.from(gripRef), held: true, interventions };
    }
    let finite = true;
    for (let i = 0; i < input.delta.length; i++) {
      const v = input.delta[i];
      if (!Number.isFinite(v)) {
        finite = false;
        interventions.push({ kind: 'non_finite', arm: this.robot.arms[Math.floor(i / 6)].name, detail: `delta[${i}] is ${v}: zero motion` });
      }
    }
    for (let a = 0; a < nArms; a++) {
      if (!Number.isFinite(gripper[a])) {
        finite = false;
        interventions.push({ kind: 'non_finite', arm: this.robot.arms[a].name, detail: `gripper ${gripper[a]}: zero motion` });
      }
    }
    if (!finite) {
      this.count(interventions, true);
      return { delta, gripper: Float64Array.from(gripRef), held: true, interventions };
    }

    const maxT = this.lim.maxTranslationalVelocity * this.dt;
    const maxR = this.lim.maxRotationalVelocity * this.dt;
    delta.set(input.delta);
    for (let ai = 0; ai < nArms; ai++) {
      const o = ai * 6;
      this.clampStep(delta, o, maxT, ai, 'translation (m)', interventions);
      this.clampStep(delta, o + 3, maxR, ai, 'rotation (rad)', interventions);

      const p = tipPosition(this.chains[ai], this.armJoints(ai, input.measured), this.tip);
      const box = this.lim.workspace[ai];
      const goal = this.eeGoal;
      for (let k = 0; k < 3; k++) goal[k] = p[k] + delta[o + k];
      if (!insideBox(box, goal)) {
        for (let k = 0; k < 3; k++) delta[o + k] = Math.min(box.max[k], Math.max(box.min[k], goal[k])) - p[k];
        interventions.push({ kind: 'workspace', arm: this.robot.arms[ai].name, detail: 'predicted TCP outside the workspace box: delta clipped onto the box' });
        this.clampStep(delta, o, maxT, ai, 'translation (m)', interventions); // only binds when starting outside the box
      }
    }
    const grip = this.clampGripper(gripper, interventions);
    this.setLastGripper(grip);
    this.count(interventions, false);
    return { delta, gripper: Float64Array.from(grip), held: false, interventions };
  }

  // ------------------------------------------------------------------ internals

  private checkLength(what: string, v: ArrayLike<number>, expected: number): void {
    if (v.length !== expected) {
      throw new SafetyError(`${what} has ${v.length} values, ${this.robot.id} needs ${expected}: check the action decoder's output for this robot`);
    }
  }

  /** Scale delta[o..o+3] to norm <= max (a per-period translation or rotation step). */
  private clampStep(delta: Float64Array, o: number, max: number, ai: number, what: string, interventions: Intervention[]): void {
    const norm = Math.hypot(delta[o], delta[o + 1], delta[o + 2]);
    if (norm <= max) return;
    const s = max / norm;
    for (let j = 0; j < 3; j++) delta[o + j] *= s;
    interventions.push({ kind: 'velocity_limit', arm: this.robot.arms[ai].name, detail: `${what} step ${norm.toExponential(3)} limited to ${max.toExponential(3)} per period` });
  }

  /** Arm ai's joints of the all-arms vector q, copied into a per-arm buffer. */
  private armJoints(ai: number, q: Float64Array): Float64Array {
    const out = this.armQ[ai];
    const o = this.offsets[ai];
    for (let j = 0; j < out.length; j++) out[j] = q[o + j];
    return out;
  }

  /** The previous safe command, or the measured position (checked finite) before the first. */
  private reference(measured: Float64Array): Float64Array {
    if (this.hasLast) return this.lastPos;
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(measured[i])) {
        throw new SafetyError(
          `measured joint position ${this.lim.jointNames[i]} is ${measured[i]} and no safe command exists yet: nothing to hold, check joint_states`,
        );
      }
    }
    this.lastPos.set(measured);
    this.lastVel.fill(0);
    return this.lastPos;
  }

  private gripperReference(measured: Float64Array | undefined): Float64Array {
    if (this.hasLastGripper) return this.lastGripper;
    const out = this.lastGripper;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.robot.arms[i].gripper.home_width;
      const v = measured?.[i];
      const [lo, hi] = this.lim.gripper[i];
      if (v !== undefined && Number.isFinite(v)) out[i] = Math.min(hi, Math.max(lo, v));
    }
    return out;
  }

  private setLastGripper(grip: Float64Array): void {
    this.lastGripper.set(grip);
    this.hasLastGripper = true;
  }

  private clampGripper(gripper: Float64Array, interventions: Intervention[]): Float64Array {
    const out = this.gripOut;
    for (let i = 0; i < out.length; i++) {
      const g = gripper[i];
      const [lo, hi] = this.lim.gripper[i];
      out[i] = Math.min(hi, Math.max(lo, g));
      // still clamped, but a float32 round-off at the limit (0.085 -> 0.08500000089) is not reported as an intervention
      if (Math.abs(out[i] - g) > GRIPPER_REPORT_TOL) {
        interventions.push({ kind: 'gripper_range', arm: this.robot.arms[i].name, detail: `width ${g} m clamped to ${out[i]} (range ${lo}..${hi})` });
      }
    }
    return out;
  }

  /** Repeat the reference (a stop): it stays the reference, at rest. */
  private emitHold(ref: Float64Array, grip: Float64Array, interventions: Intervention[]): SafeCommand {
    // ref is lastPos (the previous command, or the measured position just copied there)
    this.hasLast = true;
    this.lastVel.fill(0);
    this.setLastGripper(grip);
    this.count(interventions, true);
    return { positions: Float64Array.from(ref), gripper: Float64Array.from(grip), held: true, interventions };
  }

  private count(interventions: Intervention[], held: boolean): void {
    this.commands++;
    if (held) this.heldCount++;
    // each kind counts once per command
    for (let i = 0; i < interventions.length; i++) {
      const k = interventions[i].kind;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = interventions[j].kind === k;
      if (!seen) this.counts[k]++;
    }
  }

  /** Where arm `ai` would come to rest if every joint braked at max deceleration from (q, v). */
  private stopPoint(ai: number, q: Float64Array, v: Float64Array): Float64Array {
    const out = this.armStop[ai];
    const o = this.offsets[ai];
    for (let j = 0; j < out.length; j++) {
      const vj = v[o + j];
      const d = brakingDistance(Math.abs(vj), this.lim.maxAcceleration[o + j], this.dt);
      out[j] = Math.min(this.lim.upper[o + j], Math.max(this.lim.lower[o + j], q[o + j] + Math.sign(vj) * d));
    }
    return out;
  }

  /** Whether arm ai's TCP at q (all-arms vector) is inside its box. */
  private tcpInside(ai: number, armQ: Float64Array): boolean {
    return insideBox(this.lim.workspace[ai], tipPosition(this.chains[ai], armQ, this.tip), 1e-9);
  }

  /** The step (p, v) keeps arm ai's TCP and its stopping point in the box. */
  private stepInside(ai: number, p: Float64Array, v: Float64Array): boolean {
    return this.tcpInside(ai, this.armJoints(ai, p)) && this.tcpInside(ai, this.stopPoint(ai, p, v));
  }

  /**
   * Keep arm `ai`'s TCP in its box: accept the step, or blend it towards the braking step
   * (previous velocity reduced by max deceleration) by bisection. Modifies pos/vel in place.
   * Returns 'ok' (untouched), the blend factor s in [0, 1) it scaled to, or 'hold'.
   */
  private workspaceStep(ai: number, ref: Float64Array, refVel: Float64Array, pos: Float64Array, vel: Float64Array): 'ok' | 'hold' | number {
    const o = this.offsets[ai];
    const m = this.offsets[ai + 1] - o;
    const box = this.lim.workspace[ai];
    const dt = this.dt;

    if (!this.tcpInside(ai, this.armJoints(ai, ref))) {
      // starting outside (e.g. first command): allow steps that do not move further out
      const d0 = boxDistance(box, this.tip);
      const d1 = boxDistance(box, tipPosition(this.chains[ai], this.armJoints(ai, pos), this.tip));
      return d1 <= d0 + 1e-9 ? 'ok' : 'hold';
    }
    if (this.stepInside(ai, pos, vel)) return 'ok';

    // braking step: every joint's previous velocity reduced by its max deceleration
    const vb = this.brakeVel;
    const trialP = this.trialPos;
    const trialV = this.trialVel;
    for (let j = o; j < o + m; j++) {
      const dv = this.lim.maxAcceleration[j] * dt;
      vb[j] = Math.abs(refVel[j]) <= dv ? 0 : refVel[j] - Math.sign(refVel[j]) * dv;
    }
    const blend = (s: number): void => {
      for (let j = o; j < o + m; j++) {
        trialV[j] = vb[j] + s * (vel[j] - vb[j]);
        trialP[j] = Math.min(Math.max(this.lim.upper[j], ref[j]), Math.max(Math.min(this.lim.lower[j], ref[j]), ref[j] + trialV[j] * dt));
      }
    };
    blend(0);
    if (!this.stepInside(ai, trialP, trialV)) return 'hold';
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 20; it++) {
      const mid = (lo + hi) / 2;
      blend(mid);
      if (this.stepInside(ai, trialP, trialV)) lo = mid;
      else hi = mid;
    }
    blend(lo);
    for (let j = o; j < o + m; j++) {
      pos[j] = trialP[j];
      vel[j] = (trialP[j] - ref[j]) / dt;
    }
    return lo;
  }
}
