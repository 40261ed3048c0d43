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
  private lastPos: Float64Array | null = null;
  private lastVel: Float64Array;
  private lastGripper: Float64Array | null = null;
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
    this.lastVel = new Float64Array(this.n);
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
    this.lastPos = null;
    this.lastVel.fill(0);
  }

  get isHeld(): boolean {
    return this.latched !== null;
  }

  /** Forget the previous command (new episode); the latch is kept. */
  reset(): void {
    this.lastPos = null;
    this.lastVel.fill(0);
    this.lastGripper = null;
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
    const pos = new Float64Array(n);
    const vel = new Float64Array(n);
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
      interventions.push({ kind: 'workspace', arm, detail: `step scaled to keep the TCP (and its stopping point) in the workspace box (${res})` });
    }

    const grip = this.clampGripper(gripper, interventions);
    this.lastPos = pos;
    this.lastVel = vel;
    this.lastGripper = grip;
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
    input.delta.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        finite = false;
        interventions.push({ kind: 'non_finite', arm: this.robot.arms[Math.floor(i / 6)].name, detail: `delta[${i}] is ${v}: zero motion` });
      }
    });
    gripper.forEach((v, a) => {
      if (!Number.isFinite(v)) {
        finite = false;
        interventions.push({ kind: 'non_finite', arm: this.robot.arms[a].name, detail: `gripper ${v}: zero motion` });
      }
    });
    if (!finite) {
      this.count(interventions, true);
      return { delta, gripper: Float64Array.from(gripRef), held: true, interventions };
    }

    const maxT = this.lim.maxTranslationalVelocity * this.dt;
    const maxR = this.lim.maxRotationalVelocity * this.dt;
    for (let ai = 0; ai < nArms; ai++) {
      const arm = this.robot.arms[ai].name;
      const o = ai * 6;
      delta.set(input.delta.subarray(o, o + 6), o);
      const clampNorm = (k: number, max: number, what: string): void => {
        const norm = Math.hypot(delta[o + k], delta[o + k + 1], delta[o + k + 2]);
        if (norm > max) {
          const s = max / norm;
          for (let j = 0; j < 3; j++) delta[o + k + j] *= s;
          interventions.push({ kind: 'velocity_limit', arm, detail: `${what} step ${norm.toExponential(3)} limited to ${max.toExponential(3)} per period` });
        }
      };
      clampNorm(0, maxT, 'translation (m)');
      clampNorm(3, maxR, 'rotation (rad)');

      const q = input.measured.subarray(this.offsets[ai], this.offsets[ai + 1]);
      const p = tipPosition(this.chains[ai], q);
      const box = this.lim.workspace[ai];
      const goal = [p[0] + delta[o], p[1] + delta[o + 1], p[2] + delta[o + 2]];
      if (!insideBox(box, goal)) {
        for (let k = 0; k < 3; k++) delta[o + k] = Math.min(box.max[k], Math.max(box.min[k], goal[k])) - p[k];
        interventions.push({ kind: 'workspace', arm, detail: 'predicted TCP outside the workspace box: delta clipped onto the box' });
        clampNorm(0, maxT, 'translation (m)'); // only binds when starting outside the box
      }
    }
    const grip = this.clampGripper(gripper, interventions);
    this.lastGripper = grip;
    this.count(interventions, false);
    return { delta, gripper: Float64Array.from(grip), held: false, interventions };
  }

  // ------------------------------------------------------------------ internals

  private checkLength(what: string, v: ArrayLike<number>, expected: number): void {
    if (v.length !== expected) {
      throw new SafetyError(`${what} has ${v.length} values, ${this.robot.id} needs ${expected}: check the action decoder's output for this robot`);
    }
  }

  private reference(measured: Float64Array): Float64Array {
    if (this.lastPos) return this.lastPos;
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(measured[i])) {
        throw new SafetyError(
          `measured joint position ${this.lim.jointNames[i]} is ${measured[i]} and no safe command exists yet: nothing to hold, check joint_states`,
        );
      }
    }
    return Float64Array.from(measured);
  }

  private gripperReference(measured: Float64Array | undefined): Float64Array {
    if (this.lastGripper) return this.lastGripper;
    const out = Float64Array.from(this.robot.arms, (a) => a.gripper.home_width);
    if (measured) {
      measured.forEach((v, i) => {
        const [lo, hi] = this.lim.gripper[i];
        if (Number.isFinite(v)) out[i] = Math.min(hi, Math.max(lo, v));
      });
    }
    return out;
  }

  private clampGripper(gripper: Float64Array, interventions: Intervention[]): Float64Array {
    const out = new Float64Array(gripper.length);
    gripper.forEach((g, i) => {
      const [lo, hi] = this.lim.gripper[i];
      out[i] = Math.min(hi, Math.max(lo, g));
      // still clamped, but a float32 round-off at the limit (0.085 -> 0.08500000089) is not reported as an intervention
      if (Math.abs(out[i] - g) > GRIPPER_REPORT_TOL) {
        interventions.push({ kind: 'gripper_range', arm: this.robot.arms[i].name, detail: `width ${g} m clamped to ${out[i]} (range ${lo}..${hi})` });
      }
    });
    return out;
  }

  private emitHold(ref: Float64Array, grip: Float64Array, interventions: Intervention[]): SafeCommand {
    this.lastPos = Float64Array.from(ref);
    this.lastVel = new Float64Array(this.n);
    this.lastGripper = Float64Array.from(grip);
    this.count(interventions, true);
    return { positions: Float64Array.from(ref), gripper: Float64Array.from(grip), held: true, interventions };
  }

  private count(interventions: Intervention[], held: boolean): void {
    this.commands++;
    if (held) this.heldCount++;
    for (const k of new Set(interventions.map((i) => i.kind))) this.counts[k]++;
  }

  /** Where arm `ai` would come to rest if every joint braked at max deceleration from (q, v). */
  private stopPoint(ai: number, q: Float64Array, v: Float64Array, out: Float64Array): Float64Array {
    const o = this.offsets[ai];
    for (let j = 0; j < out.length; j++) {
      const vj = v[o + j];
      const d = brakingDistance(Math.abs(vj), this.lim.maxAcceleration[o + j], this.dt);
      out[j] = Math.min(this.lim.upper[o + j], Math.max(this.lim.lower[o + j], q[o + j] + Math.sign(vj) * d));
    }
    return out;
  }

  /**
   * Keep arm `ai`'s TCP in its box: accept the step, or blend it towards the braking step
   * (previous velocity reduced by max deceleration) by bisection. Modifies pos/vel in place.
   * Returns 'ok' (untouched), a description of the scaling, or 'hold'.
   */
  private workspaceStep(ai: number, ref: Float64Array, refVel: Float64Array, pos: Float64Array, vel: Float64Array): 'ok' | 'hold' | string {
    const o = this.offsets[ai];
    const m = this.offsets[ai + 1] - o;
    const chain = this.chains[ai];
    const box = this.lim.workspace[ai];
    const dt = this.dt;
    const tip = new Float64Array(3);
    const stop = new Float64Array(m);
    const insideAt = (q: Float64Array): boolean => insideBox(box, tipPosition(chain, q, tip), 1e-9);
    const ok = (p: Float64Array, v: Float64Array): boolean =>
      insideAt(p.subarray(o, o + m)) && insideAt(this.stopPoint(ai, p, v, stop));

    const refQ = ref.subarray(o, o + m);
    if (!insideAt(refQ)) {
      // starting outside (e.g. first command): allow steps that do not move further out
      const d0 = boxDistance(box, tipPosition(chain, refQ, tip));
      const d1 = boxDistance(box, tipPosition(chain, pos.subarray(o, o + m), tip));
      return d1 <= d0 + 1e-9 ? 'ok' : 'hold';
    }
    if (ok(pos, vel)) return 'ok';

    // braking step: every joint's previous velocity reduced by its max deceleration
    const vb = Float64Array.from(vel);
    for (let j = o; j < o + m; j++) {
      const dv = this.lim.maxAcceleration[j] * dt;
      vb[j] = Math.abs(refVel[j]) <= dv ? 0 : refVel[j] - Math.sign(refVel[j]) * dv;
    }
    const trialP = Float64Array.from(pos);
    const trialV = Float64Array.from(vel);
    const blend = (s: number): void => {
      for (let j = o; j < o + m; j++) {
        trialV[j] = vb[j] + s * (vel[j] - vb[j]);
        trialP[j] = Math.min(Math.max(this.lim.upper[j], ref[j]), Math.max(Math.min(this.lim.lower[j], ref[j]), ref[j] + trialV[j] * dt));
      }
    };
    blend(0);
    if (!ok(trialP, trialV)) return 'hold';
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 20; it++) {
      const mid = (lo + hi) / 2;
      blend(mid);
      if (ok(trialP, trialV)) lo = mid;
      else hi = mid;
    }
    blend(lo);
    for (let j = o; j < o + m; j++) {
      pos[j] = trialP[j];
      vel[j] = (trialP[j] - ref[j]) / dt;
    }
    return `s = ${lo.toFixed(4)}`;
  }
}

