/**
 * Which robot performs a task, where it stands and what it sees.
 *
 * Task scenes share one world: the table top centred at TABLE_CENTRE (z = 0.4 m), regions
 * relative to it. Each simulated robot is mounted in that world by a translation only, so
 * its description's base frame (safety workspace, kinematics) is the world shifted by
 * `base`, and end-effector deltas mean the same in both. Adding a robot to the simulator
 * (SIM_EMBODIMENT, SIM_ARMS, the scene builder's ROBOT_MJCF) is enough to run tasks with it:
 * it gets the default mount (base on the table plane at the table's near edge, like the
 * Franka) and the cameras its description lists.
 */
import { ArmatureError } from '../../src/errors.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import { SIM_EMBODIMENT } from '../env/sim-robot.ts';
import type { BuiltinRobot, Vec3 } from '../scene/types.ts';
import { ROBOT_BASE, TABLE_TOP_Z } from './task-scene.ts';

/** The robot of the four LIBERO-style suites. */
export const DEFAULT_TASK_ROBOT = 'franka/fr3';

/**
 * Base positions in the task world, m, for robots whose base is not at the table plane.
 * The AgiBot torso stands on the floor with its table at z 0.75 m of its base frame (its
 * workspace floor): sunk by 0.35 m it meets our 0.4 m table, and its front (0.12 m) stays
 * behind the table's near edge (x 0.1 m).
 */
const MOUNTS: Partial<Record<BuiltinRobot, Vec3>> = {
  franka_fr3: ROBOT_BASE,
  agibot_dual_arm: [-0.03, 0, TABLE_TOP_Z - 0.75],
};

export interface TaskRobot {
  /** robot description id in hardware/, e.g. 'franka/fr3' */
  id: string;
  description: RobotDescription;
  /** the simulator's built-in model */
  kind: BuiltinRobot;
  /** base position in the task world, m (no rotation) */
  base: Vec3;
  /** cameras a policy sees (default: the description's cameras) */
  cameras: readonly string[];
  /** embodiment key of its action space in model manifests: the vendor part of the id ('franka', 'agibot') */
  embodiment: string;
  /** arm names in command order ('arm'; 'left', 'right') */
  arms: readonly string[];
}

export class TaskRobotError extends ArmatureError {
  constructor(message: string) {
    super('task.robot', message);
  }
}

/** The robot `id` as task scenes use it; `cameras` overrides the description's list. */
export function taskRobot(id: string = DEFAULT_TASK_ROBOT, opts: { cameras?: readonly string[] } = {}): TaskRobot {
  const kind = SIM_EMBODIMENT[id] as BuiltinRobot | undefined;
  if (!kind) {
    throw new TaskRobotError(`robot '${id}' has no simulator model, so no task can run with it; simulated robots: ${Object.keys(SIM_EMBODIMENT).join(', ')}`);
  }
  const description = loadRobot(id);
  return {
    id,
    description,
    kind,
    base: MOUNTS[kind] ?? ROBOT_BASE,
    cameras: opts.cameras ?? description.cameras.map((c) => c.name),
    embodiment: id.split('/')[0]!,
    arms: description.arms.map((a) => a.name),
  };
}
