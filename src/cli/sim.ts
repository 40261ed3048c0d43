import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { ArmatureError } from '../errors.ts';
import { policyCameras } from '../policy/types.ts';
import { scheduleFor } from '../schedule/create.ts';

interface SimCliOptions {
  scene: string;
  model?: string;
  embodiment?: string;
  sampler?: string;
  noiseScale?: number;
  eta?: number;
  steps: number;
  seed: number;
  replan?: number;
  instruction?: string;
  json?: boolean;
  viewer?: boolean;
  port: number;
  record?: string;
  replay?: string;
  imageSize: number;
  realtime?: boolean;
  ros?: boolean;
  transport?: string;
  recordBag?: string;
}

const int = (v: string) => Number.parseInt(v, 10);

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run the MuJoCo simulator headless (optionally with a policy, a live browser viewer, or an episode replay)')
    .option('--scene <name>', 'built-in scene: franka | dual_arm', 'franka')
    .option('--model <dir>', 'policy package to drive the robot (default: a scripted joint sweep)')
    .option('--embodiment <name>', "the policy's embodiment to act as (default: its first)")
    .option('--sampler <mode>', 'diffusion/flow sampling mode')
    .option('--noise-scale <s>', "flow: scale of the sampler's source noise (default: the model's)", Number.parseFloat)
    .option('--eta <x>', "diffusion ddim/streaming/rti: DDIM eta (default: 1 for streaming, else 0)", Number.parseFloat)
    .option('--steps <n>', 'policy ticks to run', int, 200)
    .option('--seed <n>', 'seed for physics noise and samplers', int, 0)
    .option('--replan <n>', "actions executed per chunk before replanning (default: the model's execute length)", int)
    .option('--instruction <text>', 'language instruction (default: the scene\'s)')
    .option('--image-size <px>', 'rendered camera size', int, 128)
    .option('--json', 'print the final joint state and run statistics as JSON')
    .option('--viewer', 'serve a live browser viewer on 127.0.0.1 and run in real time')
    .option('--port <n>', 'viewer port (0 = any free port)', int, 8765)
    .option('--record <file>', 'write the episode (armature.episode/1 NDJSON) for replay in the viewer')
    .option('--replay <file>', 'with --viewer: replay a recorded episode instead of simulating')
    .option('--ros', 'run the simulator as a ROS-shaped robot (topics of hardware/sim/<scene>.sim.yml) driven by the Armature node')
    .option('--transport <kind>', 'with --ros: inprocess (node + simulator in this process) or rclnodejs (simulator only, on ROS 2); default: rclnodejs when a ROS 2 environment is sourced')
    .option('--record-bag <file>', 'with --ros: record every topic (cameras, joint states, commands, diagnostics) to MCAP')
    .action(async (o: SimCliOptions) => {
      if (o.ros) return simRos(o);
      if (o.replay) return replay(o);
      await simulate(o);
    });
}

async function simRos(o: SimCliOptions): Promise<void> {
  const transport = o.transport ?? (process.env['AMENT_PREFIX_PATH'] ? 'rclnodejs' : 'inprocess');
  if (transport === 'inprocess') {
    const { createSimSession } = await import('../ros/session.ts');
    const s = await createSimSession({
      scene: o.scene,
      ...(o.model ? { modelDir: o.model } : {}),
      seed: o.seed,
      // a learned policy sees rendered cameras, as in plain `armature sim`
      render: o.model !== undefined,
      imageSize: o.imageSize,
      parameters: { ...(o.embodiment ? { embodiment: o.embodiment } : {}), ...(o.sampler ? { sampler: o.sampler } : {}), ...(o.noiseScale !== undefined ? { noise_scale: o.noiseScale } : {}), ...(o.eta !== undefined ? { eta: o.eta } : {}), ...(o.replan ? { actions_per_chunk: o.replan } : {}) },
      ...(o.instruction ? { instruction: o.instruction } : {}),
      ...(o.recordBag ? { recordBag: o.recordBag } : {}),
    });
    const t0 = performance.now();
    try {
      await s.run(o.steps);
    } finally {
      await s.close();
    }
    const wall = (performance.now() - t0) / 1000;
    const summary = { scene: o.scene, transport, ticks: o.steps, wall_s: +wall.toFixed(3), node: s.node.counters, sim: s.sim.stats, ...(o.recordBag ? { bag: o.recordBag } : {}) };
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(`ran ${o.steps} ticks of simulator + node over the in-process bus in ${wall.toFixed(2)} s${o.recordBag ? `; recorded ${o.recordBag}` : ''}\n`);
    return;
  }
  if (transport !== 'rclnodejs') throw new ArmatureError('cli.sim', `--transport must be inprocess or rclnodejs, got '${transport}'`);
  if (o.recordBag) throw new ArmatureError('cli.sim', '--record-bag is for the in-process transport; on ROS 2 use `ros2 bag record -s mcap -a`');
  const { RclnodejsTransport } = await import('../ros/rclnodejs-transport.ts');
  const { SimNode, loadSimMapping } = await import('../ros/sim-node.ts');
  const { scenePreset } = await import('../../sim/env/presets.ts');
  const { SimRobot } = await import('../../sim/env/sim-robot.ts');
  const { loadRobot } = await import('../embodiment/registry.ts');
  const preset = scenePreset(o.scene);
  const mapping = loadSimMapping(o.scene);
  const rate = 20;
  const robot = await SimRobot.create({ scene: preset.scene, robot: loadRobot(preset.robot), commandMode: 'joint_position', cameras: Object.keys(mapping.cameras), imageSize: o.imageSize, policyHz: rate, seed: o.seed });
  const transport_ = await RclnodejsTransport.create({ name: 'armature_sim' });
  const sim = new SimNode({ transport: transport_, robot, mapping, rateHz: rate, instruction: o.instruction ?? preset.instruction });
  await sim.start();
  process.stderr.write(`simulator '${o.scene}' on ROS 2 at ${rate} Hz (joint states ${mapping.joint_states}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  sim.close();
  await transport_.close();
  await robot.close();
}

async function replay(o: SimCliOptions): Promise<void> {
  if (!o.viewer) throw new ArmatureError('cli.sim', '--replay needs --viewer');
  const { startViewerServer } = await import('../../sim/viewer/server.ts');
  const viewer = await startViewerServer({ port: o.port, source: { type: 'episode-file', path: o.replay! } });
  process.stderr.write(`viewer: open ${viewer.url} (replaying ${o.replay}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await viewer.close();
}

async function simulate(o: SimCliOptions): Promise<void> {
  const { scenePreset } = await import('../../sim/env/presets.ts');
  const { SimRobot } = await import('../../sim/env/sim-robot.ts');
  const { JointSweepPolicy } = await import('../../sim/env/sweep-policy.ts');
  const { runRollout } = await import('../../sim/env/rollout.ts');
  const { loadRobot } = await import('../embodiment/registry.ts');
  const { ControlLoop } = await import('../runtime/control-loop.ts');
  const { chunkPathOf } = await import('../../sim/env/chunk-path.ts');

  const preset = scenePreset(o.scene);
  const robotDesc = loadRobot(preset.robot);
  const policy = o.model
    ? await (await import('../policy/load.ts')).loadPolicy(o.model, { sampler: o.sampler, noiseScale: o.noiseScale, eta: o.eta, seed: o.seed })
    : new JointSweepPolicy(robotDesc, { rateHz: 20 });
  const embodiment = o.embodiment ?? Object.keys(policy.metadata.embodiments)[0]!;
  const actionSpec = policy.metadata.embodiments[embodiment];
  if (!actionSpec) throw new ArmatureError('cli.sim', `policy has no embodiment '${embodiment}'`);
  const rate = policy.metadata.controlRateHz;
  const robot = await SimRobot.create({
    scene: preset.scene,
    robot: robotDesc,
    commandMode: actionSpec.space === 'ee_delta_pose' ? 'ee_delta' : 'joint_position',
    // a learned policy needs its cameras rendered; the sweep does not (unless the viewer shows them)
    cameras: o.model ? [...policyCameras(policy.metadata, embodiment)] : [],
    imageSize: o.imageSize,
    policyHz: rate,
    seed: o.seed,
  });
  const loop = new ControlLoop({
    policy,
    robot: robotDesc,
    embodiment,
    schedule: scheduleFor(policy.metadata, embodiment, { actionsPerChunk: o.replan }),
  });
  const instruction = o.instruction ?? preset.instruction;
  const { startViewerServer } = o.viewer ? await import('../../sim/viewer/server.ts') : { startViewerServer: null };
  const viewer = startViewerServer
    ? await startViewerServer({ port: o.port, source: { type: 'live', scene: robot.renderScene, jointNames: robot.jointNames, instruction }, policyCameras: preset.cameras })
    : null;
  if (viewer) process.stderr.write(`viewer: open ${viewer.url}\n`);
  // Ctrl-C ends the episode early and then the viewer, instead of killing mid-step
  let interrupted = false;
  const stop = new Promise<void>((resolve) =>
    process.once('SIGINT', () => {
      interrupted = true;
      resolve();
    }),
  );
  const { packFrame, episodeToNdjson, EPISODE_FORMAT } = await import('../../sim/viewer/episode.ts');
  type Frame = ReturnType<typeof packFrame>;
  const frames: Frame[] = [];
  const dt = 1 / rate;
  try {
    const result = await runRollout({
      robot,
      loop,
      instruction,
      steps: o.steps,
      onStep: async ({ step }) => {
        if (!viewer && !o.record) return;
        const frame = packFrame({
          t: robot.time,
          state: robot.renderState(),
          joints: Array.from(robot.sim.jointPositions(robot.jointNames)),
          chunkPath: chunkPathOf(robot, loop),
          instruction,
        });
        if (o.record) frames.push(frame);
        if (viewer) {
          viewer.push(frame);
          await new Promise((r) => setTimeout(r, dt * 1000));
        }
        void step;
        return interrupted;
      },
    });
    if (o.record) {
      writeFileSync(o.record, episodeToNdjson({ format: EPISODE_FORMAT, scene: robot.renderScene, jointNames: robot.jointNames, instruction, dt, steps: frames }));
      process.stderr.write(`recorded ${frames.length} steps to ${o.record}\n`);
    }
    const q = robot.sim.jointPositions(robot.jointNames);
    const stats = loop.stats();
    const summary = {
      scene: o.scene,
      policy: policy.metadata.name,
      embodiment,
      ticks: result.ticks,
      sim_time_s: +result.simTimeS.toFixed(4),
      wall_s: +result.wallS.toFixed(3),
      realtime_factor: +(result.simTimeS / result.wallS).toFixed(2),
      joint_positions: Object.fromEntries(robot.jointNames.map((n, i) => [n, +q[i]!.toFixed(6)])),
      gripper_widths: Array.from(robot.gripperWidths(), (v) => +v.toFixed(5)),
      inferences: stats.inferences,
      policy_errors: stats.policyErrors,
      safety: stats.safety,
    };
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(`ran ${result.ticks} ticks (${result.simTimeS.toFixed(2)} s sim) in ${result.wallS.toFixed(2)} s\n`);
    if (viewer && !interrupted) {
      process.stderr.write(`episode finished; viewer still serving ${viewer.url}; Ctrl-C to stop\n`);
      await stop;
    }
  } finally {
    await viewer?.close();
    await robot.close();
    await policy.dispose();
  }
}
