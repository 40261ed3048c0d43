/**
 * Node + simulator in one process on an InProcessBus with a manual clock: what
 * `armature sim --ros`, `armature node --transport inprocess --sim`, the soak run,
 * the benchmark and the tests all build. Time moves only in run(), so a session
 * is deterministic for a seed and runs as fast as the machine allows.
 */
import type { SimRobot } from '../../sim/env/sim-robot.ts';
import { policyCameras, type Policy } from '../policy/types.ts';
import { InProcessBus, secondsToNs } from './inprocess.ts';
import { McapRecorder } from './mcap.ts';
import { ArmatureNode, type TickRecord } from './node.ts';
import { SimNode, loadSimMapping } from './sim-node.ts';
import type { ParameterValue } from './transport.ts';

export interface SimSessionOptions {
  /** built-in scene (sim/env/presets.ts) with a hardware/sim/<scene>.sim.yml mapping */
  scene: string;
  /** a loaded policy; otherwise `modelDir`; otherwise the scripted joint sweep */
  policy?: Policy;
  modelDir?: string;
  seed?: number;
  /** render cameras (SimRobot's in-process software renderer); default false = synthetic frames */
  render?: boolean;
  /** rendered frame size, px (default 128) */
  imageSize?: number;
  /** node parameter overrides (as from the launch YAML) */
  parameters?: Readonly<Record<string, ParameterValue>>;
  instruction?: string;
  /** record every topic (sim and node) to this MCAP file */
  recordBag?: string;
  /** round-trip every message through CDR (slower; catches schema bugs) */
  serialize?: boolean;
  log?: (line: string) => void;
}

export interface SimSession {
  readonly bus: InProcessBus;
  readonly node: ArmatureNode;
  readonly sim: SimNode;
  readonly robot: SimRobot;
  readonly recorder: McapRecorder | undefined;
  readonly rateHz: number;
  /**
   * Advance `ticks` control periods (node ticks), calling `each` after every one.
   * Lockstep (default): after each period, wait for the inference in flight, so
   * a chunk requested at tick k is ready at tick k + 1 whatever the machine's speed.
   * Without lockstep, inference only completes as bus time is awaited (policies
   * that wait on bus timers model slow inference that way).
   */
  run(ticks: number, each?: (tick: number) => void | Promise<void>, opts?: { lockstep?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function createSimSession(opts: SimSessionOptions): Promise<SimSession> {
  const { scenePreset } = await import('../../sim/env/presets.ts');
  const { SimRobot } = await import('../../sim/env/sim-robot.ts');
  const { loadRobot } = await import('../embodiment/registry.ts');
  const preset = scenePreset(opts.scene);
  const desc = loadRobot(preset.robot);
  const mapping = loadSimMapping(opts.scene);
  let policy = opts.policy;
  const ownsPolicy = !policy;
  if (!policy && opts.modelDir) {
    policy = await (await import('../policy/load.ts')).loadPolicy(opts.modelDir, { seed: opts.seed ?? 0 });
  } else if (!policy) {
    const { JointSweepPolicy } = await import('../../sim/env/sweep-policy.ts');
    policy = new JointSweepPolicy(desc, { rateHz: 20 });
  }
  const rateHz = policy.metadata.controlRateHz;
  // what the node will read: the cameras of the embodiment its parameters choose (default: the first)
  const embodimentParam = opts.parameters?.['embodiment'];
  const cameras = policyCameras(policy.metadata, typeof embodimentParam === 'string' && embodimentParam ? embodimentParam : Object.keys(policy.metadata.embodiments)[0]!);
  const bus = new InProcessBus({ clock: 'manual', serialize: opts.serialize ?? false });
  const recorder = opts.recordBag ? await McapRecorder.create({ path: opts.recordBag }) : undefined;
  recorder?.recordBus(bus);
  const robot = await SimRobot.create({
    scene: preset.scene,
    robot: desc,
    commandMode: 'joint_position',
    cameras: opts.render ? cameras : [],
    imageSize: opts.imageSize ?? 128,
    policyHz: rateHz,
    seed: opts.seed ?? 0,
  });
  const instruction = opts.instruction ?? preset.instruction;
  const sim = new SimNode({
    transport: bus.node('sim'),
    robot,
    mapping,
    rateHz,
    instruction,
    // without a renderer, every camera the robot has publishes a synthetic frame
    ...(opts.render ? {} : { syntheticCameras: { names: Object.keys(mapping.cameras) } }),
  });
  await sim.start();
  const parameters: Record<string, ParameterValue> = { robot: preset.robot, seed: opts.seed ?? 0, ...(opts.parameters ?? {}) };
  const node = new ArmatureNode({ transport: bus.node('armature', { parameters }), policy, ...(opts.log ? { log: opts.log } : {}) });
  await node.start();
  const periodNs = secondsToNs(1 / rateHz);
  return {
    bus,
    node,
    sim,
    robot,
    recorder,
    rateHz,
    async run(ticks, each, runOpts = {}) {
      const lockstep = runOpts.lockstep ?? true;
      for (let k = 0; k < ticks; k++) {
        await bus.advanceTo(bus.clock.nowNs() + periodNs);
        if (lockstep) await node.settleInference();
        await each?.(k);
      }
    },
    async close() {
      await node.close();
      sim.close();
      await recorder?.close();
      await robot.close();
      if (ownsPolicy) await policy.dispose();
    },
  };
}
