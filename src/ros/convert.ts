/**
 * ROS messages <-> Armature runtime types, in both directions:
 * sensor_msgs Image/CompressedImage -> CameraFrame, JointState -> ProprioSample,
 * RobotCommand -> JointTrajectory / Float64MultiArray / JointState (+ gripper goals),
 * and back (the simulator node decodes what the real robot's controllers accept).
 * Joint names, topics and controller kinds come from the robot description.
 */
import { jointNames, type RobotDescription, type RosCommand } from '../embodiment/description.ts';
import { COMPRESSED_FORMATS, RAW_ENCODINGS, type CameraFrame, type CompressedFormat, type ProprioSample, type RawEncoding, type RawImage } from '../observation/types.ts';
import type { RobotCommand } from '../runtime/control-loop.ts';
import { RosError } from './errors.ts';
import type {
  CompressedImage as CompressedImageMsg,
  Float64MultiArray,
  Image,
  JointState,
  JointTrajectory,
  MoveGoal,
  Time,
} from './messages/types.ts';

const NS = 1_000_000_000;

/** ROS time -> s. */
export function stampToSeconds(t: Time): number {
  return t.sec + t.nanosec / NS;
}

/** ns -> ROS time (exact). */
export function nsToStamp(ns: bigint): Time {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

/** s -> ROS time (rounded to ns). */
export function secondsToStamp(s: number): Time {
  return nsToStamp(BigInt(Math.round(s * NS)));
}

/** sensor_msgs/Image -> raw CameraFrame (stamp from the header). Rejects encodings the observation pipeline cannot read. */
export function imageToFrame(msg: Image): RawImage {
  if (!(RAW_ENCODINGS as readonly string[]).includes(msg.encoding)) {
    throw new RosError('ros.convert', `image encoding '${msg.encoding}' is not supported (supported: ${RAW_ENCODINGS.join(', ')}): publish one of those or use the compressed topic`);
  }
  if (msg.data.byteLength < msg.step * msg.height) {
    throw new RosError('ros.convert', `image ${msg.width}x${msg.height} step ${msg.step} needs ${msg.step * msg.height} bytes, got ${msg.data.byteLength}: the publisher sent a truncated image`);
  }
  return {
    type: 'raw',
    encoding: msg.encoding as RawEncoding,
    width: msg.width,
    height: msg.height,
    step: msg.step,
    ...(msg.is_bigendian ? { bigEndian: true } : {}),
    data: msg.data,
    stamp: stampToSeconds(msg.header.stamp),
  };
}

/**
 * sensor_msgs/CompressedImage -> compressed CameraFrame. `format` is 'jpeg', 'png' or
 * image_transport's 'rgb8; jpeg compressed bgr8' form; the codec word decides.
 */
export function compressedToFrame(msg: CompressedImageMsg): CameraFrame {
  const words = msg.format.toLowerCase().split(/[\s;]+/);
  const format = words.find((w): w is CompressedFormat => (COMPRESSED_FORMATS as readonly string[]).includes(w)) ?? (msg.format === '' ? 'jpeg' : undefined);
  if (!format) {
    throw new RosError('ros.convert', `compressed image format '${msg.format}' is not supported (supported: ${COMPRESSED_FORMATS.join(', ')})`);
  }
  return { type: 'compressed', format, data: msg.data, stamp: stampToSeconds(msg.header.stamp) };
}

/** Raw CameraFrame -> sensor_msgs/Image (the simulator's cameras). */
export function frameToImage(frame: RawImage, frameId: string, stamp: Time): Image {
  return {
    header: { stamp, frame_id: frameId },
    height: frame.height,
    width: frame.width,
    encoding: frame.encoding,
    is_bigendian: frame.bigEndian ? 1 : 0,
    step: frame.step,
    data: frame.data,
  };
}

/**
 * Builds ProprioSamples from JointState messages by joint NAME: joint_positions
 * (and joint_velocities when every arm joint has one) in the description's
 * order, and gripper widths (m) as the sum of each gripper's finger joints.
 * Values are kept across messages, so arm and gripper may arrive on separate
 * messages (franka_ros2 publishes the hand separately).
 */
export class JointStateAssembler {
  readonly armJoints: readonly string[];
  readonly fingerJoints: readonly (readonly string[])[];
  readonly #pos = new Map<string, number>();
  readonly #vel = new Map<string, number>();
  readonly #homeWidths: Float64Array;
  #stamp = -Infinity;

  constructor(robot: RobotDescription) {
    this.armJoints = jointNames(robot);
    this.fingerJoints = robot.arms.map((a) => a.gripper.joints);
    this.#homeWidths = Float64Array.from(robot.arms, (a) => a.gripper.home_width);
  }

  /**
   * Take one message. Returns the new sample when every arm joint is known and the
   * message carries at least one arm joint, else null (gripper-only updates are
   * kept for the next sample).
   */
  update(msg: JointState): ProprioSample | null {
    const armSet = this.armJoints;
    const armSeen = msg.name.some((n) => armSet.includes(n));
    const stamp = stampToSeconds(msg.header.stamp);
    // an arm sample older than the held one is dropped whole (never a queue)
    if (armSeen && stamp < this.#stamp) return null;
    msg.name.forEach((name, i) => {
      const p = msg.position[i];
      if (p !== undefined) this.#pos.set(name, p);
      const v = msg.velocity[i];
      if (v !== undefined) this.#vel.set(name, v);
    });
    if (!armSeen) return null;
    const q = new Float64Array(armSet.length);
    for (let i = 0; i < armSet.length; i++) {
      const v = this.#pos.get(armSet[i]!);
      if (v === undefined) return null;
      q[i] = v;
    }
    this.#stamp = stamp;
    const fields: Record<string, Float64Array> = { joint_positions: q, gripper: this.gripperWidths() };
    if (armSet.every((n) => this.#vel.has(n))) fields['joint_velocities'] = Float64Array.from(armSet, (n) => this.#vel.get(n)!);
    return { fields, stamp };
  }

  /** Gripper widths, m (finger sum; home width until the fingers were seen). */
  gripperWidths(): Float64Array {
    return Float64Array.from(this.fingerJoints, (joints, a) => {
      let w = 0;
      for (const j of joints) {
        const v = this.#pos.get(j);
        if (v === undefined) return this.#homeWidths[a]!;
        w += v;
      }
      return w;
    });
  }

  /** Forget everything (new episode). */
  clear(): void {
    this.#pos.clear();
    this.#vel.clear();
    this.#stamp = -Infinity;
  }
}

/** JointState of arm joints then finger joints (the simulator's /joint_states). */
export function jointStateMessage(opts: { names: readonly string[]; positions: Float64Array; velocities?: Float64Array; stamp: Time; frameId?: string }): JointState {
  return {
    header: { stamp: opts.stamp, frame_id: opts.frameId ?? '' },
    name: [...opts.names],
    position: opts.positions,
    velocity: opts.velocities ?? new Float64Array(),
    effort: new Float64Array(),
  };
}

export type CommandKind = RosCommand['kind'];

/** One message the node publishes for one tick. */
export type EncodedCommand =
  | { readonly topic: string; readonly type: 'trajectory_msgs/msg/JointTrajectory'; readonly msg: JointTrajectory }
  | { readonly topic: string; readonly type: 'std_msgs/msg/Float64MultiArray'; readonly msg: Float64MultiArray }
  | { readonly topic: string; readonly type: 'sensor_msgs/msg/JointState'; readonly msg: JointState };

/** A franka_msgs Move goal for one arm's gripper action. */
export interface GripperGoal {
  readonly action: string;
  readonly arm: string;
  readonly goal: MoveGoal;
}

export interface CommandEncoderOptions {
  robot: RobotDescription;
  /** which of the description's `ros.commands` to use (default: the first listed) */
  kind?: CommandKind;
  /** control period, s: time_from_start of the single trajectory point */
  periodS: number;
  /** publish gripper widths (m, one per arm) as Float64MultiArray here instead of the description's gripper interface */
  gripperTopic?: string;
  /** a gripper goal is sent only when the width changed by more than this, m (default 0.002) */
  gripperToleranceM?: number;
}

/** Pick the description's command entry of `kind` (or the default), with a fix-naming error. */
export function commandInterface(robot: RobotDescription, kind?: string): RosCommand {
  const cmds = robot.ros.commands;
  if (!kind) return cmds[0]!;
  const c = cmds.find((x) => x.kind === kind);
  if (!c) {
    throw new RosError('ros.parameter', `robot '${robot.id}' has no '${kind}' command interface in ${robot.source} ros.commands; available: ${cmds.map((x) => x.kind).join(', ')}`);
  }
  return c;
}

/**
 * RobotCommand -> controller messages. Joint commands go to the selected
 * controller; grippers ride in the JointState command (AgiBot `joint_command`
 * grippers), go to franka_gripper Move goals (only when the width changed), or
 * to a configured Float64MultiArray topic.
 */
export class CommandEncoder {
  readonly command: RosCommand;
  readonly jointNames: readonly string[];
  readonly #robot: RobotDescription;
  readonly #period: { sec: number; nanosec: number };
  readonly #gripperTopic: string | undefined;
  readonly #tol: number;
  #lastGoalWidths: Float64Array | null = null;

  constructor(opts: CommandEncoderOptions) {
    if (!(opts.periodS > 0)) throw new RosError('ros.parameter', `control period must be > 0 s, got ${opts.periodS}`);
    this.#robot = opts.robot;
    this.command = commandInterface(opts.robot, opts.kind);
    this.jointNames = jointNames(opts.robot);
    this.#period = secondsToStamp(opts.periodS);
    this.#gripperTopic = opts.gripperTopic || undefined;
    this.#tol = opts.gripperToleranceM ?? 0.002;
  }

  /** Joint names of the JointState command: arm joints, then the grippers carried in it. */
  get jointStateNames(): string[] {
    const grippers = this.#gripperTopic ? [] : this.#robot.ros.grippers.flatMap((g) => (g.kind === 'joint_command' ? [g.joint] : []));
    return [...this.jointNames, ...grippers];
  }

  /** The arm command (plus, for JointState commands, the gripper joints) for one tick. */
  encode(cmd: RobotCommand, stamp: Time): EncodedCommand {
    if (cmd.type !== 'joint_position') {
      throw new RosError('ros.command', `the ROS node sends joint commands; '${cmd.type}' commands need a Cartesian controller this robot's ros.commands does not list`);
    }
    const c = this.command;
    const header = { stamp, frame_id: '' };
    if (c.kind === 'joint_trajectory') {
      return {
        topic: c.topic,
        type: c.type,
        msg: {
          header,
          joint_names: [...this.jointNames],
          points: [
            {
              positions: Float64Array.from(cmd.positions),
              velocities: new Float64Array(),
              accelerations: new Float64Array(),
              effort: new Float64Array(),
              time_from_start: { ...this.#period },
            },
          ],
        },
      };
    }
    if (c.kind === 'forward_position') {
      const n = cmd.positions.length;
      return { topic: c.topic, type: c.type, msg: { layout: { dim: [{ label: 'joints', size: n, stride: n }], data_offset: 0 }, data: Float64Array.from(cmd.positions) } };
    }
    const names = this.jointStateNames;
    const positions = new Float64Array(names.length);
    positions.set(cmd.positions);
    // gripper joints in the command message carry the width target, m
    let k = cmd.positions.length;
    this.#robot.ros.grippers.forEach((g) => {
      if (g.kind !== 'joint_command' || this.#gripperTopic) return;
      const arm = this.#robot.arms.findIndex((a) => a.name === g.arm);
      positions[k++] = cmd.gripper[arm]!;
    });
    return { topic: c.topic, type: c.type, msg: { header, name: names, position: positions, velocity: new Float64Array(), effort: new Float64Array() } };
  }

  /** Gripper widths as a Float64MultiArray for the configured gripper topic (null when none is configured). */
  gripperTopicCommand(cmd: RobotCommand): { topic: string; msg: Float64MultiArray } | null {
    if (!this.#gripperTopic) return null;
    const n = cmd.gripper.length;
    return { topic: this.#gripperTopic, msg: { layout: { dim: [{ label: 'grippers', size: n, stride: n }], data_offset: 0 }, data: Float64Array.from(cmd.gripper) } };
  }

  /** franka_gripper Move goals for widths that changed by more than the tolerance (all on the first call). */
  gripperGoals(cmd: RobotCommand, speed?: number): GripperGoal[] {
    if (this.#gripperTopic) return [];
    const out: GripperGoal[] = [];
    for (const g of this.#robot.ros.grippers) {
      if (g.kind !== 'franka_actions') continue;
      const a = this.#robot.arms.findIndex((x) => x.name === g.arm);
      const w = cmd.gripper[a]!;
      const last = this.#lastGoalWidths?.[a];
      if (last !== undefined && Math.abs(w - last) <= this.#tol) continue;
      out.push({ action: g.move.name, arm: g.arm, goal: { width: w, speed: speed ?? this.#robot.arms[a]!.gripper.max_speed } });
    }
    if (out.length > 0) {
      this.#lastGoalWidths ??= Float64Array.from(this.#robot.arms, () => Number.NaN);
      for (const g of out) this.#lastGoalWidths[this.#robot.arms.findIndex((x) => x.name === g.arm)] = g.goal.width;
    }
    return out;
  }

  /** Forget the last gripper goals (the next command sends all again). */
  reset(): void {
    this.#lastGoalWidths = null;
  }
}

/**
 * Controller messages -> joint targets (rad, description order), for the
 * simulator node. Joints missing from a by-name message keep `fallback`.
 */
export class CommandDecoder {
  readonly jointNames: readonly string[];
  readonly #index: Map<string, number>;
  readonly #gripperJoint: Map<string, number>;

  constructor(robot: RobotDescription) {
    this.jointNames = jointNames(robot);
    this.#index = new Map(this.jointNames.map((n, i) => [n, i]));
    this.#gripperJoint = new Map(
      robot.ros.grippers.flatMap((g) => (g.kind === 'joint_command' ? [[g.joint, robot.arms.findIndex((a) => a.name === g.arm)] as [string, number]] : [])),
    );
  }

  /** Targets of the trajectory's first point (the node sends one point one period ahead). */
  fromTrajectory(msg: JointTrajectory, fallback: Float64Array): Float64Array {
    const p = msg.points[0];
    if (!p) throw new RosError('ros.command', 'JointTrajectory has no points: send at least one point');
    return this.#byName(msg.joint_names, p.positions, fallback);
  }

  fromMultiArray(msg: Float64MultiArray): Float64Array {
    const n = this.jointNames.length;
    const data = msg.data.subarray(msg.layout.data_offset);
    if (data.length !== n) {
      throw new RosError('ros.command', `Float64MultiArray holds ${data.length} values, the forward position controller expects ${n} (${this.jointNames.join(', ')})`);
    }
    return Float64Array.from(data);
  }

  /** Arm targets and gripper widths (NaN where the message has none) from a JointState command. */
  fromJointState(msg: JointState, fallback: Float64Array, gripperCount: number): { positions: Float64Array; gripper: Float64Array } {
    const positions = this.#byName(msg.name, msg.position, fallback);
    const gripper = new Float64Array(gripperCount).fill(Number.NaN);
    msg.name.forEach((n, i) => {
      const arm = this.#gripperJoint.get(n);
      if (arm !== undefined && arm >= 0) gripper[arm] = msg.position[i]!;
    });
    return { positions, gripper };
  }

  #byName(names: readonly string[], values: Float64Array, fallback: Float64Array): Float64Array {
    if (names.length !== values.length) {
      throw new RosError('ros.command', `command has ${names.length} joint names but ${values.length} positions: they must be index-aligned`);
    }
    const out = Float64Array.from(fallback);
    names.forEach((n, i) => {
      const k = this.#index.get(n);
      if (k !== undefined) out[k] = values[i]!;
    });
    return out;
  }
}
