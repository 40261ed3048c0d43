/**
 * Controllers between a policy (10-20 Hz) and the physics (500 Hz). A policy action is held
 * for one policy period; every physics substep the controller writes actuator controls.
 * Targets are interpolated across the substeps of a period, never stepped.
 *
 * - joint_position: absolute joint targets, rad, linearly interpolated from the previous target.
 * - joint_delta: targets = measured joint positions + scaled delta.
 * - osc_pose: end-effector delta pose (position m + axis-angle rad, world frame, like
 *   robosuite OSC_POSE): goal = measured pose + delta, interpolated over the period. Each
 *   substep a damped least-squares differential IK on the site Jacobian (mj_jacSite) gives
 *   joint position targets = measured joints + IK step, with a null-space pull towards a
 *   rest posture for 7-DoF arms, plus the goal velocity fed forward through the servo lag
 *   (kv/kp); stiff, critically damped position actuators track them.
 * - gripper: binary (-1 open .. +1 close, LIBERO) or total finger width, m.
 */
import { ArmatureError } from '../../src/errors.ts';
import { dampedLeastSquares, mat2axisAngle, mat2quat, matMulT3, quat2mat, axisAngle2mat, matMul3, slerp } from './math.ts';
import type { Simulation } from './simulation.ts';
import type { BuiltinRobot } from '../scene/types.ts';

/** A controller spec or action does not fit the model. */
export class ControllerError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sim.controller', message, options);
  }
}

export type ControlSpec =
  | {
      type: 'joint_position';
      /** hinge/slide joints, each driven by a position actuator */
      joints: readonly string[];
    }
  | {
      type: 'joint_delta';
      joints: readonly string[];
      /** action units -> rad; default 1 (raw radians) */
      scale?: number;
      /** clip the action to [-1, 1] before scaling (default false) */
      clip?: boolean;
    }
  | {
      type: 'osc_pose';
      /** end-effector site, e.g. 'tcp' */
      site: string;
      /** arm joints moved by the controller (position actuators) */
      joints: readonly string[];
      /** action units -> m; default 1 (raw metres). LIBERO / robosuite: 0.05 with clip */
      posScale?: number;
      /** action units -> rad; default 1. LIBERO / robosuite: 0.5 with clip */
      rotScale?: number;
      /** clip each action component to [-1, 1] before scaling (default false) */
      clip?: boolean;
      /** DLS damping, default 0.05 */
      damping?: number;
      /** largest joint-target step per substep, rad (default 0.05) */
      maxJointStep?: number;
      /** null-space pull towards `restPose` per substep (0..1, default 0.02) */
      nullspaceGain?: number;
      /** rest posture for the null space, rad (default: joint positions when the controller is created) */
      restPose?: readonly number[];
    }
  | {
      type: 'gripper';
      /** actuator whose control is the opening per finger, m */
      actuator: string;
      /** 'binary': action > 0 closes, <= 0 opens (LIBERO); 'width': total finger width, m */
      mode: 'binary' | 'width';
    };

export interface Controller {
  readonly spec: ControlSpec;
  /** number of action components it consumes */
  readonly dim: number;
  /** take a new action (its components start at `offset`) at the start of a policy period */
  begin(action: ArrayLike<number>, offset: number): void;
  /** write controls before a physics substep; alpha in (0, 1] is the fraction of the period */
  apply(alpha: number): void;
  /** forget previous targets; the next action starts from the actuators' current controls */
  reset(): void;
}

function checkFinite(action: ArrayLike<number>, offset: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(action[offset + i])) {
      throw new ControllerError(`${what}: action component ${offset + i} is ${action[offset + i]}; actions must be finite`);
    }
  }
}

class JointTargets {
  readonly actuators: string[];
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  from: Float64Array;
  to: Float64Array;
  private started = false;

  constructor(readonly sim: Simulation, readonly joints: readonly string[]) {
    this.actuators = joints.map((j) => sim.actuatorForJoint(j));
    this.lo = new Float64Array(joints.length);
    this.hi = new Float64Array(joints.length);
    this.actuators.forEach((a, i) => ([this.lo[i], this.hi[i]] = sim.controlRange(a)));
    this.from = new Float64Array(joints.length);
    this.to = new Float64Array(joints.length);
  }

  /** start interpolating from the last target (or the current controls) to `target` */
  set(target: ArrayLike<number>): void {
    if (this.started) this.from.set(this.to);
    else this.actuators.forEach((a, i) => (this.from[i] = this.sim.control(a)));
    this.started = true;
    for (let i = 0; i < this.to.length; i++) this.to[i] = Math.min(this.hi[i], Math.max(this.lo[i], target[i]));
  }

  apply(alpha: number): void {
    if (!this.started) return;
    this.actuators.forEach((a, i) => this.sim.setControl(a, this.from[i] + alpha * (this.to[i] - this.from[i])));
  }

  reset(): void {
    this.started = false;
  }
}

class JointPositionController implements Controller {
  readonly dim: number;
  private readonly t: JointTargets;
  constructor(sim: Simulation, readonly spec: Extract<ControlSpec, { type: 'joint_position' }>) {
    this.t = new JointTargets(sim, spec.joints);
    this.dim = spec.joints.length;
  }
  begin(action: ArrayLike<number>, offset: number): void {
    checkFinite(action, offset, this.dim, 'joint_position');
    this.t.set(Array.from({ length: this.dim }, (_, i) => action[offset + i]));
  }
  apply(alpha: number): void {
    this.t.apply(alpha);
  }
  reset(): void {
    this.t.reset();
  }
}

class JointDeltaController implements Controller {
  readonly dim: number;
  private readonly t: JointTargets;
  constructor(private readonly sim: Simulation, readonly spec: Extract<ControlSpec, { type: 'joint_delta' }>) {
    this.t = new JointTargets(sim, spec.joints);
    this.dim = spec.joints.length;
  }
  begin(action: ArrayLike<number>, offset: number): void {
    checkFinite(action, offset, this.dim, 'joint_delta');
    const q = this.sim.jointPositions(this.spec.joints);
    const s = this.spec.scale ?? 1;
    for (let i = 0; i < this.dim; i++) {
      let a = action[offset + i];
      if (this.spec.clip) a = Math.max(-1, Math.min(1, a));
      q[i] += s * a;
    }
    this.t.set(q);
  }
  apply(alpha: number): void {
    this.t.apply(alpha);
  }
  reset(): void {
    this.t.reset();
  }
}

class OscPoseController implements Controller {
  readonly dim = 6;
  private readonly actuators: string[];
  private readonly dofs: Int32Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly p0 = new Float64Array(3);
  private readonly pg = new Float64Array(3);
  private readonly q0 = new Float64Array(4);
  private readonly qg = new Float64Array(4);
  private rest: Float64Array;
  private active = false;

  /** goal velocity over the period: linear m/s, angular rad/s (world) */
  private readonly vGoal = new Float64Array(6);
  /** kv / kp of each joint's position actuator, s: the lag of a servo tracking a ramp */
  private readonly lag: Float64Array;

  constructor(private readonly sim: Simulation, readonly spec: Extract<ControlSpec, { type: 'osc_pose' }>, private readonly periodS: number) {
    sim.id('site', spec.site);
    this.actuators = spec.joints.map((j) => sim.actuatorForJoint(j));
    this.dofs = Int32Array.from(spec.joints.map((j) => sim.jointDofAdr(j)));
    this.lo = new Float64Array(spec.joints.length);
    this.hi = new Float64Array(spec.joints.length);
    this.actuators.forEach((a, i) => ([this.lo[i], this.hi[i]] = sim.controlRange(a)));
    if (spec.restPose && spec.restPose.length !== spec.joints.length) {
      throw new ControllerError(`osc_pose: restPose has ${spec.restPose.length} values for ${spec.joints.length} joints`);
    }
    this.rest = spec.restPose ? Float64Array.from(spec.restPose) : sim.jointPositions(spec.joints);
    this.lag = Float64Array.from(this.actuators, (a) => sim.servoLag(a));
  }

  begin(action: ArrayLike<number>, offset: number): void {
    checkFinite(action, offset, 6, 'osc_pose');
    const a = Array.from({ length: 6 }, (_, i) => {
      const v = action[offset + i];
      return this.spec.clip ? Math.max(-1, Math.min(1, v)) : v;
    });
    const ps = this.spec.posScale ?? 1;
    const rs = this.spec.rotScale ?? 1;
    this.active = true;
    // Like robosuite: goal = measured pose + delta, so a policy that computes its deltas from
    // the measured pose does not integrate twice (no overshoot, no wind-up when blocked).
    this.sim.kinematics();
    const meas = this.sim.sitePose(this.spec.site);
    this.p0.set(meas.pos);
    this.q0.set(meas.quat);
    for (let i = 0; i < 3; i++) this.pg[i] = meas.pos[i] + ps * a[i];
    mat2quat(matMul3(axisAngle2mat([rs * a[3], rs * a[4], rs * a[5]]), meas.mat), this.qg);
    for (let i = 0; i < 3; i++) this.vGoal[i] = (this.pg[i] - this.p0[i]) / this.periodS;
    const w = mat2axisAngle(matMulT3(quat2mat(this.qg), meas.mat));
    for (let i = 0; i < 3; i++) this.vGoal[3 + i] = w[i] / this.periodS;
  }

  apply(alpha: number): void {
    if (!this.active) return;
    const sim = this.sim;
    const n = this.dofs.length;
    sim.kinematics();
    const q = sim.jointPositions(this.spec.joints);
    const at = { ...sim.sitePose(this.spec.site), ...sim.siteJacobian(this.spec.site) };
    const e = new Float64Array(6);
    for (let i = 0; i < 3; i++) e[i] = this.p0[i] + alpha * (this.pg[i] - this.p0[i]) - at.pos[i];
    const rTarget = quat2mat(slerp(this.q0, this.qg, alpha));
    e.set(mat2axisAngle(matMulT3(rTarget, at.mat)), 3);

    const nv = sim.nv;
    const jac = new Float64Array(6 * n);
    for (let c = 0; c < n; c++) {
      const d = this.dofs[c];
      for (let r = 0; r < 3; r++) {
        jac[r * n + c] = at.jacp[r * nv + d];
        jac[(r + 3) * n + c] = at.jacr[r * nv + d];
      }
    }
    const lambda = this.spec.damping ?? 0.01;
    const dq = dampedLeastSquares(jac, e, 6, n, lambda);
    // null space: pull towards the rest posture without disturbing the task
    const k = this.spec.nullspaceGain ?? 0;
    if (k > 0 && n > 6) {
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) z[i] = k * (this.rest[i] - q[i]);
      const jz = new Float64Array(6);
      for (let r = 0; r < 6; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += jac[r * n + c] * z[c];
        jz[r] = s;
      }
      const back = dampedLeastSquares(jac, jz, 6, n, lambda);
      for (let i = 0; i < n; i++) dq[i] += z[i] - back[i];
    }
    const maxStep = this.spec.maxJointStep ?? 0.05;
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(dq[i]));
    const s = worst > maxStep ? maxStep / worst : 1; // scale uniformly to keep the direction
    // A PD servo following a ramp lags by (kv/kp) * velocity; feed the goal velocity forward
    // so the joints keep up within the period instead of losing the lag at every re-anchoring.
    const qdFf = dampedLeastSquares(jac, this.vGoal, 6, n, lambda);
    for (let i = 0; i < n; i++) {
      // joint target = measured + IK step (+ lag compensation)
      const v = q[i] + s * dq[i] + this.lag[i] * qdFf[i];
      sim.setControl(this.actuators[i], Math.min(this.hi[i], Math.max(this.lo[i], v)));
    }
  }

  reset(): void {
    this.active = false;
  }
}

class GripperController implements Controller {
  readonly dim = 1;
  private readonly lo: number;
  private readonly hi: number;
  private target: number | null = null;
  constructor(private readonly sim: Simulation, readonly spec: Extract<ControlSpec, { type: 'gripper' }>) {
    [this.lo, this.hi] = sim.controlRange(spec.actuator);
  }
  begin(action: ArrayLike<number>, offset: number): void {
    checkFinite(action, offset, 1, 'gripper');
    const a = action[offset];
    const v = this.spec.mode === 'binary' ? (a > 0 ? this.lo : this.hi) : a / 2;
    this.target = Math.min(this.hi, Math.max(this.lo, v));
  }
  apply(): void {
    if (this.target !== null) this.sim.setControl(this.spec.actuator, this.target);
  }
  reset(): void {
    this.target = null;
  }
}

/**
 * @param periodS policy period, s (the OSC controller feeds the goal's velocity forward over it)
 */
export function createController(sim: Simulation, spec: ControlSpec, periodS = 0.05): Controller {
  switch (spec.type) {
    case 'joint_position':
      return new JointPositionController(sim, spec);
    case 'joint_delta':
      return new JointDeltaController(sim, spec);
    case 'osc_pose':
      return new OscPoseController(sim, spec, periodS);
    case 'gripper':
      return new GripperController(sim, spec);
  }
}

export interface ControlLoopOptions {
  /** controllers in action order; the action is their components concatenated */
  controllers: readonly ControlSpec[];
  /** policy rate, Hz (default 20); substeps = round(1 / (hz * timestep)) */
  policyHz?: number;
}

/** Runs one policy action over the physics substeps of one policy period. */
export class ControlLoop {
  readonly controllers: Controller[];
  readonly actionDim: number;
  /** physics steps per policy step */
  readonly substeps: number;

  constructor(readonly sim: Simulation, opts: ControlLoopOptions) {
    const hz = opts.policyHz ?? 20;
    this.substeps = Math.max(1, Math.round(1 / (hz * sim.timestep)));
    this.controllers = opts.controllers.map((s) => createController(sim, s, this.substeps * sim.timestep));
    this.actionDim = this.controllers.reduce((n, c) => n + c.dim, 0);
  }

  /** Apply one policy action and advance the physics by one policy period. */
  act(action: ArrayLike<number>): void {
    if (action.length !== this.actionDim) {
      throw new ControllerError(`action has ${action.length} components; these controllers (${this.controllers.map((c) => `${c.spec.type}:${c.dim}`).join(', ')}) take ${this.actionDim}`);
    }
    let off = 0;
    for (const c of this.controllers) {
      c.begin(action, off);
      off += c.dim;
    }
    for (let k = 1; k <= this.substeps; k++) {
      const alpha = k / this.substeps;
      for (const c of this.controllers) c.apply(alpha);
      this.sim.step(1);
    }
  }

  /**
   * Resynchronise with the simulation after `sim.reset()` or `sim.restoreState()`: the
   * controllers' interpolation starts again from the actuators' controls, which are part of
   * the saved physics state, so a restored state replays identically.
   */
  reset(): void {
    for (const c of this.controllers) c.reset();
  }
}

/** Joint names of the robots in hardware/. */
export const FR3_ARM_JOINTS = ['fr3_joint1', 'fr3_joint2', 'fr3_joint3', 'fr3_joint4', 'fr3_joint5', 'fr3_joint6', 'fr3_joint7'] as const;
export const DUAL_ARM_LEFT_JOINTS = [1, 2, 3, 4, 5, 6, 7].map((k) => `idx${20 + k}_arm_l_joint${k}`);
export const DUAL_ARM_RIGHT_JOINTS = [1, 2, 3, 4, 5, 6, 7].map((k) => `idx${60 + k}_arm_r_joint${k}`);
/** UR5e: the joint names of Universal_Robots_ROS2_Driver */
export const UR5E_ARM_JOINTS = ['shoulder_pan_joint', 'shoulder_lift_joint', 'elbow_joint', 'wrist_1_joint', 'wrist_2_joint', 'wrist_3_joint'] as const;

export type ControlMode = 'joint_position' | 'joint_delta' | 'osc_pose' | 'libero_osc_pose';

/** Per arm of each built-in model: its joints, TCP site and gripper actuator. */
export const SIM_ARMS: Readonly<Record<BuiltinRobot, readonly { joints: readonly string[]; site: string; gripper: string }[]>> = {
  franka_fr3: [{ joints: FR3_ARM_JOINTS, site: 'tcp', gripper: 'fr3_gripper' }],
  agibot_dual_arm: [
    { joints: DUAL_ARM_LEFT_JOINTS, site: 'left_tcp', gripper: 'gripper_l' },
    { joints: DUAL_ARM_RIGHT_JOINTS, site: 'right_tcp', gripper: 'gripper_r' },
  ],
  ur5e: [{ joints: UR5E_ARM_JOINTS, site: 'tcp', gripper: 'ur5e_gripper' }],
};

/**
 * Controller set for a built-in embodiment. Action layout per arm: one value per arm joint
 * (7, or 6 for the UR5e) or 6 pose-delta values, then 1 gripper value; the dual arm is left
 * arm, then right arm. 'libero_osc_pose' takes [-1, 1] inputs scaled to 0.05 m / 0.5 rad
 * with a binary gripper. A 6-DoF arm's OSC has no null space: the pose fixes its joints.
 */
export function controlPreset(embodiment: BuiltinRobot, mode: ControlMode): ControlSpec[] {
  const arms = SIM_ARMS[embodiment];
  const out: ControlSpec[] = [];
  for (const a of arms) {
    if (mode === 'joint_position') out.push({ type: 'joint_position', joints: a.joints });
    else if (mode === 'joint_delta') out.push({ type: 'joint_delta', joints: a.joints });
    else if (mode === 'osc_pose') out.push({ type: 'osc_pose', site: a.site, joints: a.joints });
    else out.push({ type: 'osc_pose', site: a.site, joints: a.joints, posScale: 0.05, rotScale: 0.5, clip: true });
    out.push({ type: 'gripper', actuator: a.gripper, mode: mode === 'libero_osc_pose' ? 'binary' : 'width' });
  }
  return out;
}
