/**
 * `armature node`: the ROS 2 node on a chosen transport, and `armature soak`.
 *   --transport rclnodejs   a real ROS 2 node (params from --params or --ros-args --params-file)
 *   --transport mcap        offline on a recorded bag: --input in.mcap --output out.mcap
 *   --transport inprocess   node + simulator in one process: --sim <scene>
 */
import type { Command } from 'commander';
import { ArmatureError } from '../errors.ts';
import type { ParameterValue } from '../ros/transport.ts';

interface NodeCliOptions {
  transport: string;
  model?: string;
  params?: string;
  name: string;
  input?: string;
  output?: string;
  rate: string;
  sim?: string;
  steps: number;
  seed: number;
  render?: boolean;
  recordBag?: string;
  lifecycle?: boolean;
  json?: boolean;
}

const int = (v: string): number => Number.parseInt(v, 10);

async function parameters(o: NodeCliOptions): Promise<Record<string, ParameterValue>> {
  const out: Record<string, ParameterValue> = {};
  if (o.params) {
    const { loadParameterFile, checkNodeParameters } = await import('../ros/params.ts');
    Object.assign(out, loadParameterFile(o.params, o.name));
    const problems = checkNodeParameters(out);
    if (problems.length > 0) throw new ArmatureError('cli.node', `${o.params}:\n  ${problems.join('\n  ')}`);
  }
  if (o.model) out['model_dir'] = o.model;
  return out;
}

function rateOf(v: string): number | 'max' {
  if (v === 'max') return 'max';
  const x = Number(v);
  if (!(x > 0)) throw new ArmatureError('cli.node', `--rate must be 'max' or a positive factor of real time, got '${v}'`);
  return x;
}

const waitForSigint = (): Promise<void> => new Promise((resolve) => process.once('SIGINT', () => resolve()));

export function registerNodeCommands(program: Command): void {
  program
    .command('node')
    .description('run the Armature ROS 2 node (policy in, controller commands out) on ROS, on a recorded MCAP bag, or in-process with the simulator')
    .option('--transport <kind>', 'rclnodejs | mcap | inprocess', 'rclnodejs')
    .option('--model <dir>', 'model package (sets the model_dir parameter)')
    .option('--params <yaml>', "ROS 2 parameter file ('armature: ros__parameters: ...')")
    .option('--name <node>', 'node name (parameter file section)', 'armature')
    .option('--input <bag>', 'mcap: recorded bag to replay (ros2 profile, cdr)')
    .option('--output <bag>', 'mcap: bag to write the node\'s commands and diagnostics to')
    .option('--rate <max|x>', 'mcap: replay speed, max or a factor of real time', 'max')
    .option('--sim <scene>', 'inprocess: simulator scene (franka | dual_arm)')
    .option('--steps <n>', 'inprocess: control ticks to run', int, 200)
    .option('--seed <n>', 'inprocess: seed', int, 0)
    .option('--render', 'inprocess: render cameras (in-process software renderer; default: synthetic frames)')
    .option('--record-bag <file>', 'inprocess: record every topic to MCAP')
    .option('--lifecycle', 'rclnodejs: run as a managed (lifecycle) node; configure/activate with ros2 lifecycle')
    .option('--json', 'print the run summary as JSON')
    .action(async (o: NodeCliOptions) => {
      if (o.transport === 'mcap') return runMcap(o);
      if (o.transport === 'inprocess') return runInProcess(o);
      if (o.transport === 'rclnodejs') return runRos(o);
      throw new ArmatureError('cli.node', `--transport must be rclnodejs, mcap or inprocess, got '${o.transport}'`);
    });

  program
    .command('soak')
    .description('run node + simulator in-process for N minutes and report heap and RSS growth')
    .option('--minutes <n>', 'wall-clock duration', Number, 10)
    .option('--scene <name>', 'simulator scene', 'franka')
    .option('--model <dir>', 'model package (default: scripted joint sweep)')
    .option('--render', 'render cameras (in-process software renderer; default: synthetic frames)')
    .action(async (o: { minutes: number; scene: string; model?: string; render?: boolean }) => {
      const { runSoak } = await import('../ros/soak.ts');
      const r = await runSoak({
        minutes: o.minutes,
        scene: o.scene,
        ...(o.model ? { modelDir: o.model } : {}),
        render: o.render ?? false,
        onSample: (s) => process.stderr.write(`soak: ${s.t.toFixed(0)} s, ${s.ticks} ticks, rss ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB\n`),
      });
      const { samples, ...summary } = r;
      process.stdout.write(JSON.stringify({ ...summary, samples: samples.length }, null, 2) + '\n');
    });
}

async function runMcap(o: NodeCliOptions): Promise<void> {
  if (!o.input || !o.output) throw new ArmatureError('cli.node', '--transport mcap needs --input <bag.mcap> and --output <out.mcap>');
  const { runOffline } = await import('../ros/offline.ts');
  const r = await runOffline({ input: o.input, output: o.output, parameters: await parameters(o), rate: rateOf(o.rate), name: o.name });
  const summary = { input: o.input, output: o.output, bag_seconds: +r.durationS.toFixed(3), wall_s: +r.wallS.toFixed(3), messages_in: r.messages, messages_out: r.written, ...r.counters };
  if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else process.stdout.write(`replayed ${r.messages} messages (${r.durationS.toFixed(2)} s of bag) in ${r.wallS.toFixed(2)} s: ${r.counters.published} commands, ${r.counters.holds} holds; wrote ${r.written} messages to ${o.output}\n`);
}

async function runInProcess(o: NodeCliOptions): Promise<void> {
  if (!o.sim) throw new ArmatureError('cli.node', '--transport inprocess needs --sim <scene> (franka | dual_arm)');
  const params = await parameters(o);
  const { createSimSession } = await import('../ros/session.ts');
  const s = await createSimSession({
    scene: o.sim,
    ...(o.model ? { modelDir: o.model } : {}),
    seed: o.seed,
    render: o.render ?? false,
    parameters: params,
    ...(o.recordBag ? { recordBag: o.recordBag } : {}),
  });
  const t0 = performance.now();
  try {
    await s.run(o.steps);
  } finally {
    await s.close();
  }
  const wall = (performance.now() - t0) / 1000;
  const summary = { scene: o.sim, wall_s: +wall.toFixed(3), realtime_factor: +(o.steps / s.rateHz / wall).toFixed(2), ...s.node.counters, sim: s.sim.stats, ...(o.recordBag ? { bag: o.recordBag } : {}) };
  if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else process.stdout.write(`ran ${o.steps} ticks of node + simulator in ${wall.toFixed(2)} s: ${s.node.counters.published} commands, ${s.node.counters.holds} holds${o.recordBag ? `; recorded ${o.recordBag}` : ''}\n`);
}

async function runRos(o: NodeCliOptions): Promise<void> {
  const { RclnodejsTransport } = await import('../ros/rclnodejs-transport.ts');
  const { ArmatureNode } = await import('../ros/node.ts');
  if (o.params) {
    await parameters(o); // validate keys before ROS sees them
    if (!process.argv.includes('--params-file')) process.argv.push('--ros-args', '--params-file', o.params);
  }
  if (o.model && !process.argv.some((a) => a.startsWith('model_dir:='))) {
    if (!process.argv.includes('--ros-args')) process.argv.push('--ros-args');
    process.argv.push('-p', `model_dir:=${o.model}`);
  }
  const transport = await RclnodejsTransport.create({ name: o.name, lifecycle: o.lifecycle ?? false });
  const node = new ArmatureNode({ transport });
  try {
    await node.prepare();
    if (o.lifecycle) {
      process.stderr.write(`armature: model loaded; managed node '${o.name}' is unconfigured: ros2 lifecycle set /${o.name} configure, then activate\n`);
    } else {
      await node.start();
    }
    await waitForSigint();
  } finally {
    await node.close();
    await transport.close();
  }
}
