/**
 * Watchdog: decides every control tick whether the robot may move.
 *
 * Stale inputs (camera, joint_states, policy output older than their max age) stop motion
 * only while they are stale. A joint jump between consecutive joint_state samples or a
 * non-finite action latches, as libfranka's reflex errors do, until an explicit reset():
 * those mean something is broken, and retrying by itself is not safe.
 */
import { SafetyError } from './limits.ts';

export interface WatchdogOptions {
  /** input name -> max age, s (e.g. { joint_states: 0.05, agentview: 0.2, policy: 0.5 }) */
  maxAges: Readonly<Record<string, number>>;
  /** largest change of any joint between consecutive joint position samples, rad */
  jointJumpThreshold: number;
}

export interface WatchdogInput {
  /** current time, s */
  now: number;
  /** input name -> age of its latest sample, s; a missing name counts as never received */
  inputAges: Readonly<Record<string, number>>;
  /** whether the latest action was finite everywhere */
  actionFinite: boolean;
  /** latest joint positions, rad (omit if no new sample) */
  jointPositions?: Float64Array;
}

export interface WatchdogStatus {
  /** true when the robot may move */
  ok: boolean;
  /** why not, one line per cause (latched causes first) */
  reasons: string[];
  /** true while a latched fault waits for reset() */
  latched: boolean;
}

export class Watchdog {
  private readonly maxAges: Readonly<Record<string, number>>;
  private readonly jumpThreshold: number;
  private prevJoints: Float64Array | null = null;
  private latchedReasons: string[] = [];

  constructor(opts: WatchdogOptions) {
    for (const [name, age] of Object.entries(opts.maxAges)) {
      if (!(age > 0)) throw new SafetyError(`watchdog max age for '${name}' must be > 0 s, got ${age}`);
    }
    if (!(opts.jointJumpThreshold > 0)) {
      throw new SafetyError(`watchdog jointJumpThreshold must be > 0 rad, got ${opts.jointJumpThreshold}`);
    }
    this.maxAges = { ...opts.maxAges };
    this.jumpThreshold = opts.jointJumpThreshold;
  }

  check(input: WatchdogInput): WatchdogStatus {
    const at = `t=${input.now.toFixed(3)} s`;
    if (!input.actionFinite) this.latch(`non-finite action at ${at}`);

    const q = input.jointPositions;
    if (q) {
      const bad = q.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) this.latch(`non-finite joint position [${bad}] = ${q[bad]} at ${at}`);
      else if (this.prevJoints && this.prevJoints.length !== q.length) {
        this.latch(`joint state length changed from ${this.prevJoints.length} to ${q.length} at ${at}`);
      } else if (this.prevJoints) {
        for (let i = 0; i < q.length; i++) {
          const jump = Math.abs(q[i] - this.prevJoints[i]);
          if (jump > this.jumpThreshold) {
            this.latch(`joint [${i}] jumped ${jump.toFixed(4)} rad (> ${this.jumpThreshold}) at ${at}`);
            break;
          }
        }
      }
      if (bad < 0) this.prevJoints = Float64Array.from(q);
    }

    const reasons = [...this.latchedReasons];
    for (const [name, maxAge] of Object.entries(this.maxAges)) {
      const age = input.inputAges[name];
      if (age === undefined || !Number.isFinite(age)) reasons.push(`input '${name}' never received`);
      else if (age > maxAge) reasons.push(`input '${name}' is stale: ${(age * 1000).toFixed(1)} ms > ${(maxAge * 1000).toFixed(1)} ms`);
    }
    return { ok: reasons.length === 0, reasons, latched: this.latchedReasons.length > 0 };
  }

  /** Clear latched faults (after an operator or recovery action); the joint history restarts. */
  reset(): void {
    this.latchedReasons = [];
    this.prevJoints = null;
  }

  get latched(): boolean {
    return this.latchedReasons.length > 0;
  }

  private latch(reason: string): void {
    this.latchedReasons.push(reason);
  }
}
