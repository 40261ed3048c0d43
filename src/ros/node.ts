/**
 * ArmatureNode: the policy runtime as a ROS 2 node, on any Transport.
 *
 * Sensors in (one subscription per camera with sensor-data QoS, joint_states,
 * instruction), a control timer at the model's rate that assembles the latest
 * samples (never a queue), runs the ControlLoop (background inference where the
 * schedule allows), and publishes the controller's own messages (joint
 * trajectory / forward position / JointState, gripper actions or topic).
 * Supervision: e-stop service + topic latch a hold until the resume service;
 * the watchdog holds on stale inputs and latches on non-finite actions and joint
 * jumps; diagnostics at 1 Hz. Lifecycle: unconfigured -> configure -> inactive
 * -> activate -> active. Load the model with prepare() BEFORE configure: the
 * transition handlers are synchronous.
 */
import { jointNames, homePose, type RobotDescription } from '../embodiment/description.ts';
import { loadRobot } from '../embodiment/registry.ts';
import { chainFromArm, tipPosition } from '../embodiment/kinematics.ts';
import { ActionMapper } from '../actions/command.ts';
import { ObservationBuffer, imageInput } from '../observation/buffer.ts';
import type { CameraFrame, Observation, ProprioSample } from '../observation/types.ts';
import { policyCameras, type Policy, type PolicyMetadata } from '../policy/types.ts';
import { loadManifest } from '../policy/manifest.ts';
import { ControlLoop, type ControlStep, type RobotCommand } from '../runtime/control-loop.ts';
import { percentile } from '../runtime/bench-util.ts';
import { Watchdog } from '../safety/watchdog.ts';
import { scheduleFor, SCHEDULE_MODES, type ScheduleMode, type ScheduleOptions } from '../schedule/index.ts';
import { RosError } from './errors.ts';
import {
  CommandEncoder,
  JointStateAssembler,
  compressedToFrame,
  imageToFrame,
  nsToStamp,
  type CommandKind,
} from './convert.ts';
import { DiagnosticLevel, type DiagnosticArray, type DiagnosticStatus, type Path } from './messages/types.ts';
import { QOS, type Lifecycle, type ParameterDescriptor, type ParameterValue, type Publisher, type Subscription, type TimerHandle, type Transport } from './transport.ts';

/** Every parameter the node declares: name -> default and descriptor. Launch YAML files are checked against this. */
export const NODE_PARAMETERS = {
  model_dir: { default: '', description: 'model package directory (manifest.json + ONNX)' },
  embodiment: { default: '', description: "the policy's embodiment key to act as (empty: its first)" },
  robot: { default: '', description: "robot description id under hardware/ (empty: the embodiment's robot)" },
  camera_topics: { default: [''], description: "'<camera>=<topic>' entries; empty: the robot description's ros.cameras" },
  compressed_images: { default: false, description: 'subscribe to <image topic>/compressed (sensor_msgs/CompressedImage)' },
  joint_states_topic: { default: '', description: "joint state topic (empty: the robot description's)" },
  extra_joint_states_topics: { default: [''], description: 'more JointState topics merged by joint name (e.g. the gripper fingers on their own topic)' },
  instruction_topic: { default: '/instruction', description: 'std_msgs/String language instruction (transient local)' },
  instruction: { default: '', description: 'initial instruction until one arrives on the topic' },
  control_rate_hz: { default: 0, description: "control rate, Hz; 0 = the model's rate (any other value must equal it)", range: { from: 0, to: 1000 } },
  max_camera_age_s: { default: 0.2, description: 'hold when a camera frame is older than this, s', range: { from: 0.001, to: 10 } },
  max_joint_state_age_s: { default: 0.1, description: 'hold when joint states are older than this, s', range: { from: 0.001, to: 10 } },
  joint_jump_threshold_rad: { default: 0.3, description: 'latch a hold when a joint moves more than this between samples, rad', range: { from: 0.001, to: 10 } },
  sampler: { default: '', description: 'diffusion/flow sampling mode (empty: the manifest default)' },
  seed: { default: 0, integer: true, description: 'sampler seed' },
  noise_scale: { default: -1, description: "flow: scale of the sampler's source noise (negative = the model's, else 1 = as trained)" },
  eta: { default: -1, description: "diffusion ddim/streaming/rti: DDIM eta (negative = the sampler's default: 1 for streaming, else 0)" },
  schedule_mode: { default: '', description: `chunk schedule: ${SCHEDULE_MODES.join(' | ')} (empty: the model's, else replan)` },
  actions_per_chunk: { default: 0, integer: true, description: "actions executed per chunk before replanning (0 = the model's execute length, else its whole chunk)", range: { from: 0, to: 10000 } },
  blend_steps: { default: -1, integer: true, description: "blend mode: ticks to ramp from the old plan to the new chunk (-1 = the model's, else 0)", range: { from: -1, to: 10000 } },
  ensemble_decay: { default: -1, description: "ensemble mode: ACT weight decay (negative = the model's, else ACT's 0.01)" },
  async_inference: { default: true, description: 'run inference in the background while ticks continue' },
  expected_latency_ticks: { default: -1, description: 'async: expected inference latency in ticks (-1 = measured)' },
  velocity_scale: { default: 1.0, description: 'fraction of max joint velocity allowed', range: { from: 0.01, to: 1 } },
  acceleration_scale: { default: 1.0, description: 'fraction of max joint acceleration allowed', range: { from: 0.01, to: 1 } },
  position_margin_rad: { default: 0.02, description: 'band kept clear inside joint position limits, rad', range: { from: 0, to: 0.5 } },
  command_interface: { default: '', description: "joint_trajectory | forward_position | joint_state (empty: the description's first)" },
  gripper_topic: { default: '', description: 'publish gripper widths (Float64MultiArray, m) here instead of the gripper interface in hardware data' },
  gripper_tolerance_m: { default: 0.002, description: 'send a gripper goal only when the width changed by more than this, m', range: { from: 0, to: 0.1 } },
  estop_topic: { default: '/armature/estop', description: 'std_msgs/Bool; true latches the hold (release with the resume service)' },
  publish_path: { default: false, description: 'publish the planned end-effector path (nav_msgs/Path) on ~/planned_path' },
  base_frame: { default: 'base', description: 'frame_id of the planned path' },
  diagnostics_period_s: { default: 1.0, description: 'diagnostics period, s', range: { from: 0.01, to: 60 } },
} as const satisfies Record<string, { default: ParameterValue; description: string; integer?: boolean; range?: { from: number; to: number } }>;

export type NodeParameterName = keyof typeof NODE_PARAMETERS;
type Widened<T> = T extends boolean ? boolean : T extends number ? number : T extends string ? string : T extends readonly string[] ? string[] : never;
export type NodeParameters = { -readonly [K in NodeParameterName]: Widened<(typeof NODE_PARAMETERS)[K]['default']> };

export interface ArmatureNodeOptions {
  transport: Transport;
  /** an already loaded policy (tests, benchmarks); otherwise prepare() loads model_dir */
  policy?: Policy;
  /** hardware/ folder (default: the repository's) */
  hardwareDir?: string;
  /** wall clock for latency, ms (default performance.now) */
  wallClock?: () => number;
  /** log lines (default stderr) */
  log?: (line: string) => void;
}

/** One published control tick, for tests and tools. */
export interface TickRecord {
  /** control tick since activation */
  tick: number;
  /** ROS time of the tick, s */
  time: number;
  command: RobotCommand;
  /** why the command is a hold, if it is */
  holdReason: string | null;
  /** wall time from tick start (observation assembly) to command published, ms */
  latencyMs: number;
}

export interface NodeCounters {
  ticks: number;
  published: number;
  holds: number;
  overruns: number;
  staleTicks: number;
  /** commands in which a position/workspace/gripper/non-finite intervention applied */
  interventions: number;
  /** commands the velocity/acceleration limits smoothed */
  rateClamps: number;
  policyErrors: number;
  gripperFailures: number;
  estops: number;
}

const LATENCY_WINDOW = 512;

export class ArmatureNode {
  readonly transport: Transport;
  readonly params: NodeParameters;
  readonly lifecycle: Lifecycle;
  /** called after each published tick (tests, recorders) */
  onTick: ((r: TickRecord) => void) | null = null;

  #policy: Policy | undefined;
  readonly #ownsPolicy: boolean;
  readonly #hardwareDir: string | undefined;
  readonly #wall: () => number;
  readonly #log: (line: string) => void;
  #embodiment = '';
  #robot: RobotDescription | undefined;
  #rateHz = 0;

  #loop: ControlLoop | undefined;
  #buffer: ObservationBuffer | undefined;
  #joints: JointStateAssembler | undefined;
  #watchdog: Watchdog | undefined;
  #encoder: CommandEncoder | undefined;
  #cameraTopics = new Map<string, string>();
  readonly #subs: Subscription[] = [];
  readonly #timers: TimerHandle[] = [];
  readonly #services: { close(): void }[] = [];
  #cmdPub: Publisher<object> | undefined;
  #gripperPub: Publisher<object> | undefined;
  #diagPub: Publisher<DiagnosticArray> | undefined;
  #pathPub: Publisher<Path> | undefined;

  #tick = 0;
  #busy = false;
  #proprio: ProprioSample | null = null;
  #lastCommand: RobotCommand | null = null;
  #estop: string | null = null;
  #latencies: number[] = [];
  #counters: NodeCounters = { ticks: 0, published: 0, holds: 0, overruns: 0, staleTicks: 0, interventions: 0, rateClamps: 0, policyErrors: 0, gripperFailures: 0, estops: 0 };
  #period: NodeCounters = { ...this.#counters };
  #lastHoldReason: string | null = null;
  #staleNow: string[] = [];

  constructor(opts: ArmatureNodeOptions) {
    this.transport = opts.transport;
    this.#policy = opts.policy;
    this.#ownsPolicy = opts.policy === undefined;
    this.#hardwareDir = opts.hardwareDir;
    this.#wall = opts.wallClock ?? (() => performance.now());
    this.#log = opts.log ?? ((l) => process.stderr.write(`[${this.transport.name}] ${l}\n`));
    const p: Record<string, ParameterValue> = {};
    for (const [name, spec] of Object.entries(NODE_PARAMETERS) as [string, { default: ParameterValue; description: string; integer?: boolean; range?: { from: number; to: number } }][]) {
      const d: ParameterDescriptor = { description: spec.description };
      if (spec.integer) d.integer = true;
      if (spec.range) d.range = spec.range;
      p[name] = this.transport.declareParameter(name, (Array.isArray(spec.default) ? [...(spec.default as string[])] : spec.default) as ParameterValue, d);
    }
    this.params = p as NodeParameters;
    this.lifecycle = this.transport.lifecycle({
      configure: () => this.#configure(),
      activate: () => this.#activate(),
      deactivate: () => this.#deactivate(),
      cleanup: () => this.#cleanup(),
      shutdown: () => this.#cleanup(),
      error: () => {
        this.#cleanup();
        return true;
      },
    });
  }

  get policy(): Policy | undefined {
    return this.#policy;
  }
  get robot(): RobotDescription | undefined {
    return this.#robot;
  }
  get controlLoop(): ControlLoop | undefined {
    return this.#loop;
  }
  /** control rate, Hz (after prepare) */
  get rateHz(): number {
    return this.#rateHz;
  }
  get counters(): Readonly<NodeCounters> {
    return { ...this.#counters };
  }
  get estopped(): boolean {
    return this.#estop !== null;
  }

  /** Load (unless given) and warm up the model, resolve embodiment and robot. Async: call before configure. */
  async prepare(): Promise<void> {
    const p = this.params;
    if (!this.#policy) {
      if (!p.model_dir) throw new RosError('ros.parameter', "parameter 'model_dir' is empty: set it to a model package directory (e.g. models/vla-chunk-tiny)");
      const { loadPolicy } = await import('../policy/load.ts');
      this.#policy = await loadPolicy(p.model_dir, { ...(p.sampler ? { sampler: p.sampler } : {}), ...(p.noise_scale >= 0 ? { noiseScale: p.noise_scale } : {}), ...(p.eta >= 0 ? { eta: p.eta } : {}), seed: p.seed });
    }
    const meta = this.#policy.metadata;
    this.#embodiment = p.embodiment || Object.keys(meta.embodiments)[0]!;
    const spec = meta.embodiments[this.#embodiment];
    if (!spec) throw new RosError('ros.parameter', `parameter 'embodiment' = '${this.#embodiment}' is not an embodiment of ${meta.name}: choose one of ${Object.keys(meta.embodiments).join(', ')}`);
    if (spec.space === 'ee_delta_pose') {
      throw new RosError('ros.parameter', `embodiment '${this.#embodiment}' of ${meta.name} outputs end-effector deltas; the ROS node drives joint controllers: use a joint-space embodiment`);
    }
    let robotId = p.robot;
    if (!robotId && p.model_dir) robotId = loadManifest(p.model_dir).embodiments[this.#embodiment]?.robot ?? '';
    if (!robotId) throw new RosError('ros.parameter', "no robot: set parameter 'robot' (e.g. franka/fr3) or 'model_dir' (its manifest names the robot)");
    this.#robot = loadRobot(robotId, this.#hardwareDir ? { hardwareDir: this.#hardwareDir } : {});
    if (p.control_rate_hz !== 0 && Math.abs(p.control_rate_hz - meta.controlRateHz) > 1e-9) {
      throw new RosError('ros.parameter', `parameter 'control_rate_hz' = ${p.control_rate_hz} differs from ${meta.name}'s rate ${meta.controlRateHz} Hz: chunks are made for that rate; set 0`);
    }
    this.#rateHz = meta.controlRateHz;
    // warm-up: first inference allocates sessions and buffers
    const robot = this.#robot;
    const images: Record<string, CameraFrame> = {};
    for (const c of policyCameras(meta, this.#embodiment)) images[c] = { type: 'raw', encoding: 'rgb8', width: 64, height: 64, step: 192, data: new Uint8Array(64 * 64 * 3).fill(128), stamp: 0 };
    const n = jointNames(robot).length;
    const proprio: ProprioSample = {
      stamp: 0,
      fields: { joint_positions: homePose(robot), joint_velocities: new Float64Array(n), gripper: Float64Array.from(robot.arms, (a) => a.gripper.home_width) },
    };
    try {
      await this.#policy.predictChunk({ stamp: 0, images, proprio, instruction: p.instruction }, { embodiment: this.#embodiment });
    } catch (err) {
      throw new RosError('ros.configure', `warm-up inference of ${meta.name} failed: ${(err as Error).message}`, { cause: err });
    }
    this.#policy.reset();
  }

  /** prepare(), configure, activate. */
  async start(): Promise<void> {
    if (!this.#robot) await this.prepare();
    this.lifecycle.trigger('configure');
    this.lifecycle.trigger('activate');
  }

  /** Latch the hold (e-stop): every command repeats the last safe one until resume(). */
  estop(reason = 'e-stop'): void {
    if (this.#estop === null) this.#counters.estops++;
    this.#estop = reason;
    this.#loop?.safety.hold(reason);
    this.#log(`e-stop latched: ${reason}`);
  }

  /** Clear the e-stop and latched watchdog faults; control restarts from the measured state with a fresh chunk. */
  resume(): void {
    this.#estop = null;
    this.#loop?.safety.release();
    this.#watchdog?.reset();
    this.#loop?.reset();
    this.#encoder?.reset();
    this.#log('resumed');
  }

  #schedule(meta: PolicyMetadata, embodiment: string): ScheduleOptions {
    const p = this.params;
    try {
      return scheduleFor(meta, embodiment, {
        mode: p.schedule_mode === '' ? undefined : (p.schedule_mode as ScheduleMode),
        actionsPerChunk: p.actions_per_chunk > 0 ? p.actions_per_chunk : undefined,
        blendSteps: p.blend_steps >= 0 ? p.blend_steps : undefined,
        decay: p.ensemble_decay >= 0 ? p.ensemble_decay : undefined,
      });
    } catch (e) {
      throw new RosError('ros.parameter', `schedule parameters (schedule_mode '${p.schedule_mode}'): ${(e as Error).message}; schedule_mode '', blend_steps -1 and ensemble_decay -1 leave them to the model`);
    }
  }

  /** Camera name -> topic, from camera_topics or the robot description. */
  #resolveCameraTopics(cameras: readonly string[], robot: RobotDescription): Map<string, string> {
    const given = new Map<string, string>();
    for (const e of this.params.camera_topics) {
      if (e === '') continue;
      const i = e.indexOf('=');
      if (i <= 0) throw new RosError('ros.parameter', `camera_topics entry '${e}' must be '<camera>=<topic>'`);
      given.set(e.slice(0, i), e.slice(i + 1));
    }
    const out = new Map<string, string>();
    for (const c of cameras) {
      const t = given.get(c) ?? robot.ros.cameras[c]?.image.topic;
      if (!t) throw new RosError('ros.configure', `camera '${c}' has no topic: add it to ${robot.source} ros.cameras or set camera_topics ['${c}=/topic']`);
      out.set(c, this.params.compressed_images ? `${t}/compressed` : t);
    }
    return out;
  }

  #configure(): boolean {
    const policy = this.#policy;
    const robot = this.#robot;
    if (!policy || !robot) throw new RosError('ros.lifecycle', 'configure before prepare(): load the model first (await node.prepare())');
    const p = this.params;
    const meta = policy.metadata;
    const t = this.transport;
    this.#loop = new ControlLoop({
      policy,
      robot,
      embodiment: this.#embodiment,
      schedule: this.#schedule(meta, this.#embodiment),
      async: p.async_inference,
      ...(p.expected_latency_ticks >= 0 ? { expectedLatencyTicks: p.expected_latency_ticks } : {}),
      safety: { velocityScale: p.velocity_scale, accelerationScale: p.acceleration_scale, positionMargin: p.position_margin_rad },
    });
    // only the cameras this embodiment's graphs read (a multi-robot policy lists every robot's)
    const cameras = policyCameras(meta, this.#embodiment);
    this.#cameraTopics = this.#resolveCameraTopics(cameras, robot);
    this.#buffer = new ObservationBuffer({
      cameras,
      cameraMaxAgeS: p.max_camera_age_s,
      proprioMaxAgeS: p.max_joint_state_age_s,
      instruction: p.instruction,
      requireInstruction: false,
    });
    this.#joints = new JointStateAssembler(robot);
    const maxAges: Record<string, number> = { proprio: p.max_joint_state_age_s };
    for (const c of cameras) maxAges[imageInput(c)] = p.max_camera_age_s;
    this.#watchdog = new Watchdog({ maxAges, jointJumpThreshold: p.joint_jump_threshold_rad });
    this.#encoder = new CommandEncoder({
      robot,
      ...(p.command_interface ? { kind: p.command_interface as CommandKind } : {}),
      periodS: 1 / this.#rateHz,
      gripperTopic: p.gripper_topic,
      gripperToleranceM: p.gripper_tolerance_m,
    });

    // subscriptions: latest sample only, stamped by the header
    for (const [cam, topic] of this.#cameraTopics) {
      const onFrame = (f: CameraFrame): void => void this.#buffer!.putImage(cam, f);
      this.#subs.push(
        p.compressed_images
          ? t.subscribe(topic, 'sensor_msgs/msg/CompressedImage', QOS.sensorData, (m) => this.#guard(`camera ${cam}`, () => onFrame(compressedToFrame(m))))
          : t.subscribe(topic, 'sensor_msgs/msg/Image', QOS.sensorData, (m) => this.#guard(`camera ${cam}`, () => onFrame(imageToFrame(m)))),
      );
    }
    const jsTopic = p.joint_states_topic || robot.ros.joint_states.topic;
    for (const extra of p.extra_joint_states_topics) {
      if (extra === '' || extra === jsTopic) continue;
      // e.g. franka_gripper's finger joints: cached by name, used by the next arm sample
      this.#subs.push(t.subscribe(extra, 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => void this.#joints!.update(m)));
    }
    this.#subs.push(
      t.subscribe(jsTopic, 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => {
        const s = this.#joints!.update(m);
        if (s && this.#buffer!.putProprio(s)) {
          this.#proprio = s;
          // jumps are checked on every sample, not only the latest per tick (result: the latch)
          this.#watchdog!.check({ now: t.clock.now(), inputAges: {}, actionFinite: true, jointPositions: s.fields['joint_positions']! });
        }
      }),
    );
    // transient local, so an instruction latched before the node started still arrives
    this.#subs.push(t.subscribe(p.instruction_topic, 'std_msgs/msg/String', QOS.transientLocal(1), (m) => void this.#buffer!.setInstruction(m.data, t.clock.now())));
    // e-stop: reliable volatile, which every reliable publisher (volatile or latched) can reach
    this.#subs.push(t.subscribe(p.estop_topic, 'std_msgs/msg/Bool', QOS.reliable(10), (m) => m.data && this.estop(`e-stop topic ${p.estop_topic}`)));

    const cmd = this.#encoder.command;
    this.#cmdPub = t.createPublisher(cmd.topic, cmd.type, QOS.reliable(10)) as Publisher<object>;
    if (p.gripper_topic) this.#gripperPub = t.createPublisher(p.gripper_topic, 'std_msgs/msg/Float64MultiArray', QOS.reliable(10)) as Publisher<object>;
    this.#diagPub = t.createPublisher('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', QOS.reliable(10));
    if (p.publish_path) this.#pathPub = t.createPublisher(`/${t.name}/planned_path`, 'nav_msgs/msg/Path', QOS.reliable(1));

    const ns = `/${t.name}`;
    this.#services.push(
      t.createService(`${ns}/estop`, 'std_srvs/srv/Trigger', () => {
        this.estop(`e-stop service ${ns}/estop`);
        return { success: true, message: 'hold latched; call resume to continue' };
      }),
      t.createService(`${ns}/resume`, 'std_srvs/srv/Trigger', () => {
        this.resume();
        return { success: true, message: 'resumed' };
      }),
    );
    this.#timers.push(t.createTimer(1 / this.#rateHz, () => this.#onTimer()));
    this.#timers.push(t.createTimer(p.diagnostics_period_s, () => this.#publishDiagnostics()));
    this.#log(`configured: ${meta.name} (${this.#embodiment}) on ${robot.id} at ${this.#rateHz} Hz; cameras ${[...this.#cameraTopics.values()].join(', ')}; joint states ${jsTopic}; commands ${cmd.kind} -> ${cmd.topic}`);
    return true;
  }

  #activate(): boolean {
    this.#tick = 0;
    this.#loop!.reset();
    this.#encoder!.reset();
    this.#lastCommand = null;
    this.#watchdog!.reset();
    return true;
  }

  #deactivate(): boolean {
    // inactive = hold: repeat the last command once; controllers keep holding it
    if (this.#lastCommand) this.#publish({ ...this.#lastCommand, held: true }, this.transport.clock.now());
    return true;
  }

  #cleanup(): boolean {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    for (const x of this.#timers.splice(0)) x.cancel();
    for (const x of this.#services.splice(0)) x.close();
    return true;
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log(`dropped ${what} message: ${(err as Error).message}`);
    }
  }

  async #onTimer(): Promise<void> {
    if (this.lifecycle.state !== 'active') return;
    if (this.#busy) {
      // the previous tick is still running: never queue ticks behind it
      this.#counters.overruns++;
      return;
    }
    this.#busy = true;
    const t0 = this.#wall();
    try {
      await this.#control(t0);
    } finally {
      this.#busy = false;
    }
    if (this.#wall() - t0 > 1000 / this.#rateHz) this.#counters.overruns++;
  }

  async #control(t0: number): Promise<void> {
    const now = this.transport.clock.now();
    const tick = this.#tick++;
    this.#counters.ticks++;
    const buffer = this.#buffer!;
    const loop = this.#loop!;
    const ages = buffer.staleness(now);
    const inputAges: Record<string, number> = {};
    for (const [k, v] of Object.entries(ages)) if (k !== 'instruction') inputAges[k] = v.ageS;
    this.#staleNow = Object.entries(ages).filter(([k, v]) => k !== 'instruction' && v.stale).map(([k]) => k);
    // a stale sample is still the best measurement to hold against
    const held = this.#proprio;
    if (!held) {
      // nothing measured yet: no safe command exists
      this.#counters.staleTicks++;
      return;
    }
    const wd = this.#watchdog!.check({ now, inputAges, actionFinite: true });
    let command: RobotCommand;
    let reason: string | null = null;
    if (this.#estop !== null) reason = `e-stop: ${this.#estop}`;
    else if (!wd.ok) reason = wd.reasons.join('; ');
    if (!wd.ok && !wd.latched) this.#counters.staleTicks++;
    let step: ControlStep | null = null;
    if (reason === null) {
      try {
        const obs: Observation = buffer.assemble(now);
        step = await loop.step(obs, tick);
      } catch (err) {
        // a bad sample (wrong joint count, undecodable frame) must not stop the timer: hold
        this.#counters.policyErrors++;
        reason = `control step failed: ${(err as Error).message}`;
      }
    }
    if (step !== null) {
      command = step.command;
      if (step.error) {
        this.#counters.policyErrors++;
        reason = `policy error: ${step.error.message}`;
      }
      if (step.action && !step.action.every(Number.isFinite)) {
        // latch: the model is broken, retrying by itself is not safe
        this.#watchdog!.check({ now, inputAges, actionFinite: false });
        reason = 'non-finite model output';
      }
      if (step.inferred && this.#pathPub) this.#publishPath(held.fields['joint_positions']!);
      if (command.held && reason === null) reason = command.interventions.find((i) => i.kind === 'hold')?.detail ?? 'held by the safety filter';
    } else {
      command = this.#holdCommand(held, reason ?? 'hold');
    }
    this.#publish(command, now);
    const latencyMs = this.#wall() - t0;
    this.#latencies.push(latencyMs);
    if (this.#latencies.length > LATENCY_WINDOW) this.#latencies.shift();
    if (command.held) this.#counters.holds++;
    // velocity/acceleration clamps are routine smoothing (as libfranka's rate limiter); the rest are safety events
    if (command.interventions.some((i) => i.kind === 'velocity_limit' || i.kind === 'acceleration_limit')) this.#counters.rateClamps++;
    if (command.interventions.some((i) => i.kind !== 'hold' && i.kind !== 'velocity_limit' && i.kind !== 'acceleration_limit')) this.#counters.interventions++;
    this.#lastHoldReason = command.held ? reason : null;
    this.onTick?.({ tick, time: now, command, holdReason: command.held ? reason : null, latencyMs });
  }

  /** Hold: the last command (or the measured state), through the safety filter. */
  #holdCommand(proprio: ProprioSample, reason: string): RobotCommand {
    const measured = proprio.fields['joint_positions']!;
    const measuredGripper = proprio.fields['gripper'];
    const last = this.#lastCommand?.type === 'joint_position' ? this.#lastCommand : null;
    const target = Float64Array.from(last ? last.positions : measured);
    const gripper = Float64Array.from(last ? last.gripper : measuredGripper ?? this.#robot!.arms.map((a) => a.gripper.home_width));
    const safe = this.#loop!.safety.filterJointTargets({ target, gripper, measured, ...(measuredGripper ? { measuredGripper } : {}) });
    return { type: 'joint_position', positions: safe.positions, gripper: safe.gripper, held: true, interventions: [{ kind: 'hold', detail: reason }, ...safe.interventions] };
  }

  #publish(command: RobotCommand, now: number): void {
    const enc = this.#encoder!;
    const stamp = nsToStamp(BigInt(Math.round(now * 1e9)));
    // gripper first, so a robot applying the arm command sees the matching gripper target
    const gt = enc.gripperTopicCommand(command);
    if (gt) this.#gripperPub?.publish(gt.msg);
    for (const g of enc.gripperGoals(command)) {
      this.transport.sendGoal(g.action, 'franka_msgs/action/Move', g.goal, { timeoutS: 30 }).catch((err: unknown) => {
        if (this.#counters.gripperFailures++ === 0) this.#log(`gripper goal on ${g.action} failed: ${(err as Error).message}`);
      });
    }
    const m = enc.encode(command, stamp);
    this.#cmdPub!.publish(m.msg);
    this.#lastCommand = command;
    this.#counters.published++;
  }

  #publishPath(measured: Float64Array): void {
    const loop = this.#loop!;
    const chunk = loop.executor.lastChunk;
    const robot = this.#robot!;
    if (!chunk) return;
    const mapper = new ActionMapper(loop.actionSpec, robot);
    const arm = robot.arms[0]!;
    const chain = chainFromArm(arm);
    const stamp = nsToStamp(this.transport.clock.nowNs());
    const frame_id = this.params.base_frame;
    const poses = [];
    for (let k = 0; k < chunk.horizon; k++) {
      const req = mapper.toRequest(chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim), measured);
      if (req.type !== 'joint_position') return;
      const p = tipPosition(chain, req.target.subarray(0, arm.joints.length));
      poses.push({ header: { stamp, frame_id }, pose: { position: { x: p[0]!, y: p[1]!, z: p[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
    }
    this.#pathPub!.publish({ header: { stamp, frame_id }, poses });
  }

  /** The current diagnostics (what /diagnostics carries): counters since the last published period; `consumePeriod` starts a new one. */
  diagnostics(opts: { consumePeriod?: boolean } = {}): DiagnosticArray {
    const c = this.#counters;
    const prev = this.#period;
    const d = (k: keyof NodeCounters): number => c[k] - prev[k];
    if (opts.consumePeriod) this.#period = { ...c };
    const state = this.lifecycle.state;
    const latched = this.#watchdog?.latched ?? false;
    let level: number = DiagnosticLevel.OK;
    let message = 'controlling';
    if (this.#estop !== null || latched) {
      level = DiagnosticLevel.ERROR;
      message = this.#estop !== null ? `e-stop latched (${this.#estop}): call resume` : `watchdog fault latched: ${this.#lastHoldReason ?? ''}; call resume`;
    } else if (state !== 'active' || d('ticks') === 0 || d('published') === 0) {
      level = DiagnosticLevel.STALE;
      message = state !== 'active' ? `node is ${state}` : 'no commands this period (no joint states?)';
    } else if (this.#staleNow.length > 0 || d('holds') > 0 || d('overruns') > 0 || d('policyErrors') > 0 || d('interventions') > 0 || d('gripperFailures') > 0) {
      level = DiagnosticLevel.WARN;
      message = this.#staleNow.length > 0 ? `holding: stale inputs ${this.#staleNow.join(', ')}` : d('holds') > 0 ? `held ${d('holds')} ticks: ${this.#lastHoldReason ?? 'safety'}` : 'safety interventions / overruns this period';
    }
    const stats = this.#loop?.stats();
    const kv = (key: string, value: string | number): { key: string; value: string } => ({ key, value: String(value) });
    const values = [
      kv('lifecycle', state),
      kv('latency_p50_ms', percentile(this.#latencies, 50).toFixed(3)),
      kv('latency_p99_ms', percentile(this.#latencies, 99).toFixed(3)),
      kv('ticks', d('ticks')),
      kv('overruns', d('overruns')),
      kv('holds', d('holds')),
      kv('stale_inputs', this.#staleNow.join(',') || 'none'),
      kv('stale_ticks', d('staleTicks')),
      kv('safety_interventions', d('interventions')),
      kv('rate_limited_commands', d('rateClamps')),
      kv('policy_errors', d('policyErrors')),
      kv('gripper_failures', d('gripperFailures')),
      kv('inferences_total', stats?.inferences ?? 0),
      kv('starved_ticks_total', stats?.starvedTicks ?? 0),
      kv('estop', this.#estop ?? 'clear'),
    ];
    const status: DiagnosticStatus = { level, name: `${this.transport.name}: control`, message, hardware_id: this.#robot?.id ?? '', values };
    return { header: { stamp: nsToStamp(this.transport.clock.nowNs()), frame_id: '' }, status: [status] };
  }

  #publishDiagnostics(): void {
    this.#diagPub?.publish(this.diagnostics({ consumePeriod: true }));
  }

  /**
   * Wait for the background inference in flight (if any). Manual-clock drivers call
   * this after each period for lockstep runs: bus time stands still while the model
   * computes, so async runs are deterministic.
   */
  async settleInference(): Promise<void> {
    await this.#loop?.executor.settle().catch(() => undefined);
  }

  /** Stop control, wait for in-flight inference, free the model if this node loaded it. */
  async close(): Promise<void> {
    this.#cleanup();
    // an in-flight inference may wait on a clock that no longer moves: bound the wait
    const settled = this.#loop?.executor.settle().catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([settled, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    if (this.#ownsPolicy) await this.#policy?.dispose();
  }
}
