/**
 * From a policy action vector (embodiment units, manifest ActionSpec) to a
 * command request in the robot's terms: joint targets or an end-effector delta,
 * plus gripper widths. Which dims are grippers comes from the manifest, which
 * joints they drive from the robot description (hardware/), never from code.
 */
import type { ActionSpec } from '../policy/manifest.ts';
import type { RobotDescription } from '../embodiment/description.ts';
import { jointNames } from '../embodiment/description.ts';
import { ArmatureError } from '../errors.ts';

export type CommandRequest =
  | {
      readonly type: 'joint_position';
      /** joint position targets, rad, all arms in description order */
      readonly target: Float64Array;
      /** gripper width targets, m, one per arm */
      readonly gripper: Float64Array;
    }
  | {
      readonly type: 'ee_delta';
      /** per arm [dx, dy, dz (m), drx, dry, drz (rad)], base frame */
      readonly delta: Float64Array;
      readonly gripper: Float64Array;
    };

export class ActionMappingError extends ArmatureError {
  constructor(message: string) {
    super('action.mapping', message);
  }
}

/** Precomputed index maps from action dims to joint / gripper slots. */
export class ActionMapper {
  private readonly motionDims: number[];
  private readonly gripperDims: readonly number[];
  private readonly gripperMax: number[];
  private readonly unitlessGripper: boolean[];
  readonly jointCount: number;

  constructor(
    readonly spec: ActionSpec,
    readonly robot: RobotDescription,
  ) {
    const dims = spec.names.length;
    const grip = new Set(spec.gripper_dims);
    this.gripperDims = spec.gripper_dims;
    this.motionDims = [...Array(dims).keys()].filter((i) => !grip.has(i));
    this.jointCount = jointNames(robot).length;
    const arms = robot.arms.length;
    const expectedMotion = spec.space === 'ee_delta_pose' ? 6 * arms : this.jointCount;
    if (this.motionDims.length !== expectedMotion) {
      throw new ActionMappingError(
        `action space ${spec.space} has ${this.motionDims.length} non-gripper dims, robot '${robot.id}' needs ${expectedMotion} (${spec.space === 'ee_delta_pose' ? `6 per arm x ${arms}` : `joints ${jointNames(robot).join(', ')}`}): check the manifest's action names and gripper_dims`,
      );
    }
    if (this.gripperDims.length !== arms) {
      throw new ActionMappingError(`action has ${this.gripperDims.length} gripper dims, robot '${robot.id}' has ${arms} grippers (one per arm)`);
    }
    this.gripperMax = robot.arms.map((a) => a.gripper.width_range[1]);
    // unitless gripper commands follow -1 = close .. +1 = open; metric ones are widths in m
    this.unitlessGripper = this.gripperDims.map((d) => spec.units[d] !== 'm');
  }

  /** Map one action; `measured` joint positions (rad) anchor joint deltas. */
  toRequest(action: Float32Array, measured: Float64Array): CommandRequest {
    const gripper = new Float64Array(this.gripperDims.length);
    for (let i = 0; i < gripper.length; i++) {
      const g = action[this.gripperDims[i]!]!;
      gripper[i] = this.unitlessGripper[i] ? ((g + 1) / 2) * this.gripperMax[i]! : g;
    }
    const motion = new Float64Array(this.motionDims.length);
    for (let i = 0; i < motion.length; i++) motion[i] = action[this.motionDims[i]!]!;
    switch (this.spec.space) {
      case 'joint_position':
        return { type: 'joint_position', target: motion, gripper };
      case 'joint_delta':
        for (let i = 0; i < motion.length; i++) motion[i]! += measured[i]!;
        return { type: 'joint_position', target: motion, gripper };
      case 'ee_delta_pose':
        return { type: 'ee_delta', delta: motion, gripper };
    }
  }
}
