/**
 * The simulator as a ROS-shaped robot: a SimRobot behind the same topics,
 * controllers and gripper actions as the real one (hardware/sim/<scene>.sim.yml),
 * so the unchanged ArmatureNode drives it.
 *
 * Every control period it (1) applies the latest command it received (holding the
 * previous one when none arrived; physics waits for the very first command),
 * then (2) publishes joint_states and camera images stamped with ROS time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { SimRobot } from '../../sim/env/sim-robot.ts';
import type { RobotCommand } from '../runtime/control-loop.ts';
import type { CameraFrame, RawImage } from '../observation/types.ts';
import { RosError } from './errors.ts';
import { CommandDecoder, frameToImage, jointStateMessage, nsToStamp } from './convert.ts';
import type { GripperResult, Image, JointState } from './messages/types.ts';
import { QOS, type Publisher, type TimerHandle, type Transport } from './transport.ts';

const HARDWARE_SIM_DIR = fileURLToPath(new URL('../../hardware/sim/', import.meta.url));

const simMappingSchema = z.strictObject({
  scene: z.string().min(1),
  robot: z.string().min(1),
  instruction_topic: z.string().startsWith('/'),
  joint_states: z.string().startsWith('/'),
  cameras: z.record(z.string(), z.string().startsWith('/')),
  commands: z.strictObject({
    joint_trajectory: z.string().startsWith('/').optional(),
    forward_position: z.string().startsWith('/').optional(),
    joint_state: z.string().startsWith('/').optional(),
  }),
  grippers: z.record(z.string(), z.strictObject({ move: z.string().startsWith('/'), grasp: z.string().startsWith('/') })),
  gripper_topic: z.string().startsWith('/').optional(),
});

/** Topics the simulated robot speaks (hardware/sim/<scene>.sim.yml). */
export type SimRosMapping = z.infer<typeof simMappingSchema>;

/** Load and validate hardware/sim/<scene>.sim.yml. */
export function loadSimMapping(scene: string, dir = HARDWARE_SIM_DIR): SimRosMapping {
  const file = join(dir, `${scene}.sim.yml`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RosError('ros.sim', `cannot read the simulator mapping ${file}: ${(err as Error).message}; add hardware/sim/${scene}.sim.yml`, { cause: err });
  }
  const r = simMappingSchema.safeParse(raw);
  if (!r.success) {
    throw new RosError('ros.sim', `${file} is not a valid simulator mapping:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

/**
 * A deterministic rgb8 test frame for `camera` at sim time `t` (s): a gradient
 * that moves with time. Stands in for rendered cameras where Chromium is absent
 * (tests, soak); the direct loop uses the same frames for comparisons.
 */
export function syntheticFrame(camera: string, t: number, size = 64): RawImage {
  let h = 0;
  for (let i = 0; i < camera.length; i++) h = (h * 31 + camera.charCodeAt(i)) & 0xff;
  const shift = Math.round(t * 100) & 0xff;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      data[o] = (x * 4 + shift) & 0xff;
      data[o + 1] = (y * 4 + h) & 0xff;
      data[o + 2] = (x + y + h + shift) & 0xff;
    }
  }
  return { type: 'raw', encoding: 'rgb8', width: size, height: size, step: size * 3, data, stamp: t };
}

export interface SimNodeOptions {
  transport: Transport;
  robot: SimRobot;
  mapping: SimRosMapping;
  /** publish / physics rate, Hz (the policy's rate) */
  rateHz: number;
  /** latched on the instruction topic at start */
  instruction?: string;
  /** cameras without a renderer: publish syntheticFrame() for these (size px) */
  syntheticCameras?: { names: readonly string[]; size?: number };
}

export interface SimNodeStats {
  /** control periods simulated */
  steps: number;
  /** commands received (arm) */
  commands: number;
  /** periods that repeated the previous command because none arrived */
  heldPeriods: number;
  gripperGoals: number;
  /** timer periods skipped because the previous one was still running (wall clock only) */
  skippedPeriods: number;
  /** commands rejected (malformed), with the last reason */
  rejected: number;
  lastError: string | null;
}

export class SimNode {
  readonly transport: Transport;
  readonly robot: SimRobot;
  readonly mapping: SimRosMapping;
  readonly #rateHz: number;
  readonly #decoder: CommandDecoder;
  readonly #fingerNames: string[];
  readonly #stateNames: string[];
  readonly #gripper: Float64Array;
  readonly #synthetic: { names: readonly string[]; size: number } | undefined;
  readonly #instruction: string;
  #pending: Float64Array | null = null;
  #busy = false;
  #last: Float64Array | null = null;
  #jsPub: Publisher<JointState> | undefined;
  readonly #imagePubs = new Map<string, Publisher<Image>>();
  readonly #closers: { close(): void }[] = [];
  #timer: TimerHandle | undefined;
  /** fault injection: topics whose messages are not published while listed */
  readonly suppressed = new Set<string>();
  readonly stats: SimNodeStats = { steps: 0, commands: 0, heldPeriods: 0, gripperGoals: 0, skippedPeriods: 0, rejected: 0, lastError: null };

  constructor(opts: SimNodeOptions) {
    this.transport = opts.transport;
    this.robot = opts.robot;
    this.mapping = opts.mapping;
    this.#rateHz = opts.rateHz;
    const desc = opts.robot.robot;
    if (desc.id !== opts.mapping.robot) {
      throw new RosError('ros.sim', `simulator mapping for scene '${opts.mapping.scene}' is for robot '${opts.mapping.robot}', the simulated robot is '${desc.id}'`);
    }
    this.#decoder = new CommandDecoder(desc);
    this.#fingerNames = desc.arms.flatMap((a) => a.gripper.joints);
    this.#stateNames = [...opts.robot.jointNames, ...this.#fingerNames];
    this.#gripper = opts.robot.gripperWidths();
    this.#synthetic = opts.syntheticCameras ? { names: opts.syntheticCameras.names, size: opts.syntheticCameras.size ?? 64 } : undefined;
    this.#instruction = opts.instruction ?? '';
  }

  /** Create publishers, command subscriptions and gripper servers; publish the first state; start the timer. */
  async start(): Promise<void> {
    const t = this.transport;
    const m = this.mapping;
    const desc = this.robot.robot;
    const nArms = desc.arms.length;
    this.#jsPub = t.createPublisher(m.joint_states, 'sensor_msgs/msg/JointState', QOS.sensorData);
    for (const [cam, topic] of Object.entries(m.cameras)) this.#imagePubs.set(cam, t.createPublisher(topic, 'sensor_msgs/msg/Image', QOS.sensorData));
    t.createPublisher(m.instruction_topic, 'std_msgs/msg/String', QOS.transientLocal(1)).publish({ data: this.#instruction });
    const fallback = (): Float64Array => this.#pending ?? this.#last ?? this.robot.sim.jointPositions(this.robot.jointNames);
    const accept = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.stats.rejected++;
        this.stats.lastError = (err as Error).message;
      }
    };
    const c = m.commands;
    if (c.joint_trajectory) {
      const s = t.subscribe(c.joint_trajectory, 'trajectory_msgs/msg/JointTrajectory', QOS.reliable(10), (msg) => accept(() => this.#command(this.#decoder.fromTrajectory(msg, fallback()))));
      this.#closers.push({ close: () => s.unsubscribe() });
    }
    if (c.forward_position) {
      const s = t.subscribe(c.forward_position, 'std_msgs/msg/Float64MultiArray', QOS.reliable(10), (msg) => accept(() => this.#command(this.#decoder.fromMultiArray(msg))));
      this.#closers.push({ close: () => s.unsubscribe() });
    }
    if (c.joint_state) {
      const s = t.subscribe(c.joint_state, 'sensor_msgs/msg/JointState', QOS.reliable(10), (msg) =>
        accept(() => {
          const r = this.#decoder.fromJointState(msg, fallback(), nArms);
          r.gripper.forEach((w, i) => {
            if (Number.isFinite(w)) this.#gripper[i] = w;
          });
          this.#command(r.positions);
        }),
      );
      this.#closers.push({ close: () => s.unsubscribe() });
    }
    if (m.gripper_topic) {
      const s = t.subscribe(m.gripper_topic, 'std_msgs/msg/Float64MultiArray', QOS.reliable(10), (msg) =>
        accept(() => {
          if (msg.data.length !== nArms) throw new RosError('ros.command', `gripper command has ${msg.data.length} widths, robot has ${nArms} grippers`);
          this.#gripper.set(msg.data);
        }),
      );
      this.#closers.push({ close: () => s.unsubscribe() });
    }
    for (const [armName, g] of Object.entries(m.grippers)) {
      const arm = desc.arms.findIndex((a) => a.name === armName);
      if (arm < 0) throw new RosError('ros.sim', `simulator mapping grippers.${armName}: no arm '${armName}' on ${desc.id}`);
      const set = (width: number): GripperResult => {
        if (!Number.isFinite(width)) return { success: false, error: `width ${width} is not finite` };
        this.#gripper[arm] = width;
        this.stats.gripperGoals++;
        return { success: true, error: '' };
      };
      this.#closers.push(t.createActionServer(g.move, 'franka_msgs/action/Move', (goal) => set(goal.width)));
      this.#closers.push(t.createActionServer(g.grasp, 'franka_msgs/action/Grasp', (goal) => set(goal.width)));
    }
    await this.#publishState();
    this.#timer = t.createTimer(1 / this.#rateHz, () => this.step());
  }

  #command(positions: Float64Array): void {
    this.#pending = positions;
    this.stats.commands++;
  }

  /** One control period: apply the latest command (or hold), then publish the new state. */
  async step(): Promise<void> {
    // on a wall clock a slow render can outlast the period: skip rather than pile up
    if (this.#busy) {
      this.stats.skippedPeriods++;
      return;
    }
    this.#busy = true;
    try {
      await this.#step();
    } finally {
      this.#busy = false;
    }
  }

  async #step(): Promise<void> {
    const target = this.#pending ?? this.#last;
    if (target) {
      if (!this.#pending) this.stats.heldPeriods++;
      const cmd: RobotCommand = { type: 'joint_position', positions: target, gripper: Float64Array.from(this.#gripper), held: this.#pending === null, interventions: [] };
      this.robot.apply(cmd);
      this.#last = target;
      this.#pending = null;
      this.stats.steps++;
    }
    await this.#publishState();
  }

  async #publishState(): Promise<void> {
    const t = this.transport;
    const stamp = nsToStamp(t.clock.nowNs());
    const sim = this.robot.sim;
    const positions = sim.jointPositions(this.#stateNames);
    const velocities = sim.jointVelocities(this.#stateNames);
    if (!this.suppressed.has(this.mapping.joint_states)) this.#jsPub!.publish(jointStateMessage({ names: this.#stateNames, positions, velocities, stamp }));
    let frames: Record<string, CameraFrame> = {};
    if (this.#synthetic) {
      for (const name of this.#synthetic.names) frames[name] = syntheticFrame(name, this.robot.time, this.#synthetic.size);
    } else if (this.#imagePubs.size > 0) {
      frames = (await this.robot.observe(this.#instruction)).images;
    }
    for (const [cam, f] of Object.entries(frames)) {
      const pub = this.#imagePubs.get(cam);
      if (pub && f.type === 'raw' && !this.suppressed.has(pub.topic)) pub.publish(frameToImage(f, cam, stamp));
    }
  }

  close(): void {
    this.#timer?.cancel();
    for (const c of this.#closers.splice(0)) c.close();
  }
}
