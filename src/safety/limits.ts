/**
 * Effective limits: the robot description's limits, tightened by per-call overrides
 * (ROS parameters, CLI flags). Overrides may only make limits stricter.
 */
import { ArmatureError } from '../errors.ts';
import { armWorkspace, jointNames, type Box, type RobotDescription } from '../embodiment/description.ts';

/** A safety configuration or a command's shape is wrong (a bug upstream, not a bad action value). */
export class SafetyError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('safety.invalid', message, options);
  }
}

/** Default position margin inside the hard limits, rad (cf. MoveIt joint_limit_margin). */
export const DEFAULT_POSITION_MARGIN = 0.02;

export interface LimitOverrides {
  /** fraction of the max joint velocity allowed, (0, 1], default 1 */
  velocityScale?: number;
  /** fraction of the max joint acceleration allowed, (0, 1], default 1 */
  accelerationScale?: number;
  /** fraction of the max Cartesian TCP velocities allowed (ee_delta_pose), (0, 1], default 1 */
  cartesianVelocityScale?: number;
  /** kept-clear band inside each joint's position limits, rad, default 0.02 */
  positionMargin?: number;
  /** TCP box(es) in the robot base frame, m: one for every arm, or one per arm */
  workspace?: Box | Box[];
}

/** Per-joint limits of all arms concatenated (command order), after margin and scaling. */
export interface EffectiveLimits {
  readonly jointNames: readonly string[];
  /** min_position + margin, rad */
  readonly lower: Float64Array;
  /** max_position - margin, rad */
  readonly upper: Float64Array;
  /** max_velocity * velocityScale, rad/s */
  readonly maxVelocity: Float64Array;
  /** max_acceleration * accelerationScale, rad/s^2 */
  readonly maxAcceleration: Float64Array;
  /** per arm TCP box, base frame, m */
  readonly workspace: readonly Box[];
  /** per arm gripper width range, m */
  readonly gripper: readonly (readonly [number, number])[];
  /** max TCP translational velocity * cartesianVelocityScale, m/s */
  readonly maxTranslationalVelocity: number;
  /** max TCP rotational velocity * cartesianVelocityScale, rad/s */
  readonly maxRotationalVelocity: number;
}

function checkScale(name: string, v: number | undefined): number {
  if (v === undefined) return 1;
  if (!(Number.isFinite(v) && v > 0 && v <= 1)) {
    throw new SafetyError(`${name} must be in (0, 1], got ${v}: limits can only be tightened, not raised`);
  }
  return v;
}

/** Combine a description's limits with overrides. */
export function effectiveLimits(robot: RobotDescription, overrides: LimitOverrides = {}): EffectiveLimits {
  const vs = checkScale('velocityScale', overrides.velocityScale);
  const as = checkScale('accelerationScale', overrides.accelerationScale);
  const cs = checkScale('cartesianVelocityScale', overrides.cartesianVelocityScale);
  const margin = overrides.positionMargin ?? DEFAULT_POSITION_MARGIN;
  if (!(Number.isFinite(margin) && margin >= 0)) throw new SafetyError(`positionMargin must be a finite value >= 0 rad, got ${margin}`);

  const joints = robot.arms.flatMap((a) => a.joints);
  const lower = new Float64Array(joints.length);
  const upper = new Float64Array(joints.length);
  joints.forEach((j, i) => {
    lower[i] = j.limits.min_position + margin;
    upper[i] = j.limits.max_position - margin;
    if (!(lower[i] < upper[i])) {
      throw new SafetyError(
        `positionMargin ${margin} rad leaves no range for joint ${j.name} [${j.limits.min_position}, ${j.limits.max_position}] of ${robot.id}: use a smaller margin`,
      );
    }
  });

  let workspace: Box[];
  const w = overrides.workspace;
  if (w === undefined) workspace = robot.arms.map((_, i) => armWorkspace(robot, i));
  else if (Array.isArray(w)) {
    if (w.length !== robot.arms.length) {
      throw new SafetyError(`workspace override has ${w.length} boxes, ${robot.id} has ${robot.arms.length} arms: give one box, or one per arm`);
    }
    workspace = w;
  } else workspace = robot.arms.map(() => w);
  workspace.forEach((b, i) => {
    for (let k = 0; k < 3; k++) {
      if (!(Number.isFinite(b.min[k]) && Number.isFinite(b.max[k]) && b.min[k] < b.max[k])) {
        throw new SafetyError(`workspace box for arm ${robot.arms[i].name} needs finite min < max on axis ${'xyz'[k]}, got ${b.min[k]}..${b.max[k]}`);
      }
    }
  });

  return {
    jointNames: jointNames(robot),
    lower,
    upper,
    maxVelocity: Float64Array.from(joints, (j) => j.limits.max_velocity * vs),
    maxAcceleration: Float64Array.from(joints, (j) => j.limits.max_acceleration * as),
    workspace,
    gripper: robot.arms.map((a) => [a.gripper.width_range[0], a.gripper.width_range[1]] as const),
    maxTranslationalVelocity: robot.cartesian_limits.max_translational_velocity * cs,
    maxRotationalVelocity: robot.cartesian_limits.max_rotational_velocity * cs,
  };
}

/** Whether p (m, base frame) lies in the box, with a tolerance (m) for round-off. */
export function insideBox(box: Box, p: ArrayLike<number>, tol = 0): boolean {
  for (let k = 0; k < 3; k++) if (!(p[k] >= box.min[k] - tol && p[k] <= box.max[k] + tol)) return false;
  return true;
}

/** Euclidean distance from p to the box (0 inside), m. */
export function boxDistance(box: Box, p: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < 3; k++) {
    const d = p[k] < box.min[k] ? box.min[k] - p[k] : p[k] > box.max[k] ? p[k] - box.max[k] : 0;
    s += d * d;
  }
  return Math.sqrt(s);
}
