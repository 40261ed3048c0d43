/**
 * Robot description: the schema of a hardware/<vendor>/<robot>.yaml file.
 *
 * A description is data only: arms as URDF-style chains of revolute joints, joint limits,
 * grippers, home pose, a TCP workspace box, cameras and the ROS topic/action mapping.
 * Field names follow the YAML (snake_case), as model manifests do. Frames: every pose is
 * in the robot base frame unless a field says otherwise; lengths in m, angles in rad.
 */
import { z } from 'zod';
import { EmbodimentError } from '../errors.ts';

const finite = z.number().finite();
const vec3 = z.tuple([finite, finite, finite]);

/** A fixed transform, URDF `<origin xyz rpy>`: translate by xyz, then rotate by fixed-axis roll-pitch-yaw. */
const originSpec = z
  .strictObject({
    /** translation, m */
    xyz: vec3.default([0, 0, 0]),
    /** roll about x, pitch about y, yaw about z (fixed axes, URDF convention), rad */
    rpy: vec3.default([0, 0, 0]),
  })
  .default({ xyz: [0, 0, 0], rpy: [0, 0, 0] });

/** ros2_control-style limits for one joint. */
const jointLimitsSpec = z.strictObject({
  /** rad */
  min_position: finite,
  /** rad */
  max_position: finite,
  /** rad/s */
  max_velocity: finite.positive(),
  /** rad/s^2 */
  max_acceleration: finite.positive(),
  /** rad/s^3 */
  max_jerk: finite.positive(),
  /** Nm */
  max_effort: finite.positive(),
});

const jointSpec = z.strictObject({
  name: z.string().min(1),
  type: z.literal('revolute').default('revolute'),
  /** pose of this joint's frame in the parent link frame, at q = 0 */
  origin: originSpec,
  /** rotation axis in the joint frame (unit vector) */
  axis: vec3.default([0, 0, 1]),
  limits: jointLimitsSpec,
});

const gripperSpec = z.strictObject({
  type: z.literal('parallel'),
  /** finger joints (prismatic, m each), as published in joint_states */
  joints: z.array(z.string().min(1)).min(1),
  /** travel of one finger, m */
  finger_range: z.tuple([finite, finite]),
  /** opening between the fingers, m (commands and proprio use this) */
  width_range: z.tuple([finite, finite]),
  /** max opening/closing speed of the width, m/s */
  max_speed: finite.positive(),
  /** width held when no gripper command has been seen yet, m */
  home_width: finite,
});

/** Axis-aligned box in the robot base frame, m. */
const boxSpec = z.strictObject({
  min: vec3,
  max: vec3,
});

const armSpec = z.strictObject({
  /** 'arm' for single-arm robots, 'left' / 'right' for dual-arm ones */
  name: z.string().min(1),
  /** pose of the arm's first link in the robot base frame */
  mount: originSpec,
  joints: z.array(jointSpec).min(1),
  /** flange pose in the last joint frame */
  flange: originSpec,
  /** tool centre point in the flange frame (gripper mount rotation and finger-tip offset) */
  tcp: originSpec,
  gripper: gripperSpec,
  /** joint positions, rad, in `joints` order */
  home: z.array(finite),
  /** TCP box for this arm; defaults to the robot-level `workspace` */
  workspace: boxSpec.optional(),
});

/** Cartesian TCP limits (libfranka style). */
const cartesianLimitsSpec = z.strictObject({
  /** m/s */
  max_translational_velocity: finite.positive(),
  /** m/s^2 */
  max_translational_acceleration: finite.positive(),
  /** m/s^3 */
  max_translational_jerk: finite.positive(),
  /** rad/s */
  max_rotational_velocity: finite.positive(),
  /** rad/s^2 */
  max_rotational_acceleration: finite.positive(),
  /** rad/s^3 */
  max_rotational_jerk: finite.positive(),
});

const cameraSpec = z.strictObject({
  /** name as it appears in Observation.images, e.g. 'agentview' */
  name: z.string().min(1),
  /** fixed in the scene, on a wrist (then `arm` names which), or on the head */
  mount: z.enum(['fixed', 'wrist', 'head']),
  arm: z.string().min(1).optional(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** frames per second */
  fps: finite.positive(),
});

const topicSpec = z.strictObject({
  topic: z.string().startsWith('/'),
  /** ROS message type, e.g. sensor_msgs/msg/JointState */
  type: z.string().regex(/^[A-Za-z0-9_]+\/msg\/[A-Za-z0-9_]+$/, 'expected pkg/msg/Type'),
});

const actionNameSpec = z.strictObject({
  name: z.string().startsWith('/'),
  /** e.g. franka_msgs/action/Move */
  type: z.string().regex(/^[A-Za-z0-9_]+\/(action|srv)\/[A-Za-z0-9_]+$/, 'expected pkg/action/Type or pkg/srv/Type'),
});

/** One way to send joint commands; the first listed is the default. */
const commandSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('joint_trajectory'),
    name: z.string().min(1),
    topic: z.string().startsWith('/'),
    type: z.literal('trajectory_msgs/msg/JointTrajectory'),
    /** FollowJointTrajectory action of the same controller */
    action: z.string().startsWith('/').optional(),
  }),
  z.strictObject({
    kind: z.literal('forward_position'),
    name: z.string().min(1),
    topic: z.string().startsWith('/'),
    type: z.literal('std_msgs/msg/Float64MultiArray'),
  }),
  z.strictObject({
    kind: z.literal('joint_state'),
    name: z.string().min(1),
    topic: z.string().startsWith('/'),
    type: z.literal('sensor_msgs/msg/JointState'),
  }),
]);

/** How a gripper is commanded: franka_gripper actions, or a joint in the joint command message. */
const rosGripperSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('franka_actions'),
    arm: z.string().min(1),
    move: actionNameSpec,
    grasp: actionNameSpec,
    homing: actionNameSpec,
    stop: actionNameSpec,
  }),
  z.strictObject({
    kind: z.literal('joint_command'),
    arm: z.string().min(1),
    /** joint name carried in the command message */
    joint: z.string().min(1),
  }),
]);

const rosCameraSpec = z.strictObject({
  image: topicSpec,
  camera_info: topicSpec.optional(),
});

const rosSpec = z.strictObject({
  joint_states: topicSpec,
  commands: z.array(commandSpec).min(1),
  grippers: z.array(rosGripperSpec),
  /** camera name -> topics */
  cameras: z.record(z.string().min(1), rosCameraSpec),
});

export const robotDescriptionSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  arms: z.array(armSpec).min(1).max(2),
  /** default TCP box for every arm, robot base frame, m */
  workspace: boxSpec,
  cartesian_limits: cartesianLimitsSpec,
  cameras: z.array(cameraSpec),
  ros: rosSpec,
  /** MJCF model for the simulator, relative to the description file (optional) */
  mjcf: z.string().min(1).optional(),
});

export type RobotDescriptionData = z.infer<typeof robotDescriptionSchema>;
export type ArmDescription = z.infer<typeof armSpec>;
export type JointDescription = z.infer<typeof jointSpec>;
export type JointLimitsDescription = z.infer<typeof jointLimitsSpec>;
export type GripperDescription = z.infer<typeof gripperSpec>;
export type Origin = z.infer<typeof originSpec>;
export type Box = z.infer<typeof boxSpec>;
export type CartesianLimits = z.infer<typeof cartesianLimitsSpec>;
export type CameraDescription = z.infer<typeof cameraSpec>;
export type RosCommand = z.infer<typeof commandSpec>;
export type RosGripper = z.infer<typeof rosGripperSpec>;
export type RosMapping = z.infer<typeof rosSpec>;

/** A validated robot description, with its registry id and source file. */
export interface RobotDescription extends RobotDescriptionData {
  /** path under hardware/ without extension, e.g. 'franka/fr3' */
  readonly id: string;
  /** file it was loaded from (or a label for in-memory text) */
  readonly source: string;
}

/** All joints of all arms, in command order (arm by arm). */
export function jointNames(robot: Pick<RobotDescriptionData, 'arms'>): string[] {
  return robot.arms.flatMap((a) => a.joints.map((j) => j.name));
}

/** Home pose of all arms concatenated, rad. */
export function homePose(robot: Pick<RobotDescriptionData, 'arms'>): Float64Array {
  return Float64Array.from(robot.arms.flatMap((a) => a.home));
}

/** Offset of each arm's first joint in the concatenated joint vector, plus the total at the end. */
export function armOffsets(robot: Pick<RobotDescriptionData, 'arms'>): number[] {
  const out = [0];
  for (const a of robot.arms) out.push(out[out.length - 1] + a.joints.length);
  return out;
}

/** Workspace box for arm `i` (its own, or the robot's default). */
export function armWorkspace(robot: Pick<RobotDescriptionData, 'arms' | 'workspace'>, i: number): Box {
  return robot.arms[i].workspace ?? robot.workspace;
}

/**
 * Validate a parsed YAML object as a robot description. `source` names the file in errors,
 * which also name the offending field.
 */
export function parseRobotDescription(raw: unknown, opts: { id: string; source: string }): RobotDescription {
  const { id, source } = opts;
  const parsed = robotDescriptionSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${formatPath(i.path) || '(root)'}: ${i.message}`);
    throw new EmbodimentError(`${source} is not a valid robot description:\n${lines.join('\n')}`);
  }
  const d = parsed.data;
  const fail = (field: string, msg: string): never => {
    throw new EmbodimentError(`${source}: ${field}: ${msg}`);
  };

  const seen = new Set<string>();
  d.arms.forEach((arm, ai) => {
    const at = `arms[${ai}]`;
    if (d.arms.findIndex((a) => a.name === arm.name) !== ai) fail(`${at}.name`, `arm name '${arm.name}' is used twice`);
    arm.joints.forEach((j, ji) => {
      const jt = `${at}.joints[${ji}]`;
      if (seen.has(j.name)) fail(`${jt}.name`, `joint name '${j.name}' is used twice`);
      seen.add(j.name);
      const n = Math.hypot(...j.axis);
      if (Math.abs(n - 1) > 1e-6) fail(`${jt}.axis`, `must be a unit vector, has length ${n}`);
      if (!(j.limits.min_position < j.limits.max_position)) {
        fail(`${jt}.limits`, `min_position ${j.limits.min_position} must be below max_position ${j.limits.max_position}`);
      }
    });
    if (arm.home.length !== arm.joints.length) {
      fail(`${at}.home`, `needs ${arm.joints.length} values (one per joint), got ${arm.home.length}`);
    }
    arm.home.forEach((q, k) => {
      const l = arm.joints[k].limits;
      if (q < l.min_position || q > l.max_position) {
        fail(`${at}.home[${k}]`, `${q} rad is outside ${arm.joints[k].name} limits [${l.min_position}, ${l.max_position}]`);
      }
    });
    const g = arm.gripper;
    if (!(g.finger_range[0] < g.finger_range[1])) fail(`${at}.gripper.finger_range`, 'must be [min, max] with min < max');
    if (!(g.width_range[0] < g.width_range[1])) fail(`${at}.gripper.width_range`, 'must be [min, max] with min < max');
    if (g.home_width < g.width_range[0] || g.home_width > g.width_range[1]) {
      fail(`${at}.gripper.home_width`, `${g.home_width} m is outside width_range [${g.width_range.join(', ')}]`);
    }
    if (arm.workspace) checkBox(arm.workspace, `${at}.workspace`, fail);
  });
  checkBox(d.workspace, 'workspace', fail);

  const armNames = d.arms.map((a) => a.name);
  const cameraNames = d.cameras.map((c) => c.name);
  d.cameras.forEach((c, i) => {
    if (cameraNames.indexOf(c.name) !== i) fail(`cameras[${i}].name`, `camera name '${c.name}' is used twice`);
    if (c.mount === 'wrist' && (!c.arm || !armNames.includes(c.arm))) {
      fail(`cameras[${i}].arm`, `a wrist camera must name one of the arms [${armNames.join(', ')}]`);
    }
  });
  d.ros.grippers.forEach((g, i) => {
    if (!armNames.includes(g.arm)) fail(`ros.grippers[${i}].arm`, `'${g.arm}' is not one of the arms [${armNames.join(', ')}]`);
  });
  for (const cam of Object.keys(d.ros.cameras)) {
    if (!cameraNames.includes(cam)) fail(`ros.cameras.${cam}`, `no camera named '${cam}' in cameras [${cameraNames.join(', ')}]`);
  }
  return { ...d, id, source };
}

function checkBox(b: Box, field: string, fail: (field: string, msg: string) => never): void {
  for (let k = 0; k < 3; k++) {
    if (!(b.min[k] < b.max[k])) fail(field, `min must be below max on every axis, axis ${'xyz'[k]} has ${b.min[k]} >= ${b.max[k]}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}
