import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArmatureError } from '../errors.ts';
import { isRtiTail, RTI_TAILS, type RtiTail } from '../policy/samplers/rti.ts';
import { SCHEDULE_MODES, type ScheduleMode } from '../schedule/types.ts';

const int = (v: string) => Number.parseInt(v, 10);
const probability = (v: string): number => {
  const p = Number(v);
  if (!(p >= 0 && p <= 1)) throw new ArmatureError('cli.probability', `'${v}' is not a probability: give a number from 0 to 1`);
  return p;
};

/** "0-4,7" -> [0,1,2,3,4,7] */
export function parseRanges(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ArmatureError('cli.range', `cannot read range '${part}': use e.g. 0-4,7`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

export function registerTaskCommands(program: Command): void {
  const tasks = program.command('tasks').description('LIBERO-style BDDL task files');
  tasks
    .command('parse')
    .description('parse a BDDL task file and print it as JSON (or a file:line:col error)')
    .argument('<file>', 'BDDL file')
    .action(async (file: string) => {
      const { parseBddl } = await import('../../sim/tasks/bddl/parser.ts');
      const { taskToJson } = await import('../../sim/tasks/task.ts');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        throw new ArmatureError('cli.file', `cannot read ${file}`, { cause });
      }
      process.stdout.write(JSON.stringify(taskToJson(parseBddl(text, file)), null, 2) + '\n');
    });
  tasks
    .command('list')
    .description('list the tasks of a suite')
    .option('--suite <name>', 'spatial | object | goal | long | dual_arm', 'spatial')
    .action(async (o: { suite: string }) => {
      const { loadSuite } = await import('../../sim/tasks/suites.ts');
      const suite = loadSuite(o.suite);
      process.stderr.write(`# suite ${suite.name}: robot ${suite.robot}, cameras ${suite.cameras.join(', ')}, max steps ${suite.maxSteps}\n`);
      for (const [i, t] of suite.tasks.entries()) process.stdout.write(`${i}\t${t.name}\t${t.task.language}\t${t.initStates.length} init states\n`);
    });
}

/** The robot a model runs a suite with when --robot is not given (see defaultRobotFor); says so on stderr. */
async function modelRobot(modelDir: string, suiteName: string): Promise<string | undefined> {
  const { loadManifest } = await import('../policy/manifest.ts');
  const { loadSuite } = await import('../../sim/tasks/suites.ts');
  const { defaultRobotFor } = await import('../../sim/eval/episode.ts');
  const { SIM_EMBODIMENT } = await import('../../sim/env/sim-robot.ts');
  const suiteRobot = loadSuite(suiteName).robot;
  const robot = defaultRobotFor(loadManifest(modelDir).embodiments, suiteRobot, (id) => id in SIM_EMBODIMENT);
  if (robot) process.stderr.write(`# ${modelDir} has no head for the suite's robot ${suiteRobot}: evaluating with its own robot ${robot}\n`);
  return robot;
}

interface EvalCliOptions {
  suite: string;
  model?: string;
  policy?: string;
  sampler?: string;
  steps?: number;
  rtiTail?: RtiTail;
  noiseScale?: number;
  eta?: number;
  episodes: number;
  workers: number;
  tasks?: string;
  shard?: string;
  replan?: number;
  seed: number;
  imageSize: number;
  videos: number;
  out?: string;
  json?: string;
  maxSteps?: number;
  noise: number;
  robot?: string;
  layouts?: number;
  schedule?: ScheduleMode;
  blendSteps?: number;
  ensembleDecay?: number;
  progress: boolean;
}

export function parseScheduleMode(v: string): ScheduleMode {
  if (!(SCHEDULE_MODES as readonly string[]).includes(v)) throw new ArmatureError('cli.eval', `--schedule must be one of ${SCHEDULE_MODES.join(', ')}, got '${v}'`);
  return v as ScheduleMode;
}

export function parseRtiTail(v: string): RtiTail {
  if (!isRtiTail(v)) throw new ArmatureError('cli.eval', `--rti-tail must be one of ${RTI_TAILS.join(', ')}, got '${v}'`);
  return v;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a policy on a task suite (LIBERO protocol: fixed init states, success rate per task)')
    .requiredOption('--suite <name>', 'spatial | object | goal | long | dual_arm')
    .option('--model <dir>', 'model package to evaluate')
    .option('--policy <name>', "built-in policy instead of a model: 'expert' (scripted, privileged state)")
    .option('--sampler <mode>', 'diffusion/flow sampling mode')
    .option('--steps <n>', 'denoising / integration steps', int)
    .option('--rti-tail <how>', "--sampler rti, rows the previous chunk did not cover: 'repeat' its last action (RTI-DP), 'noise' (diffusion with per-position timesteps; their default), 'predict' (one-step estimate; the default elsewhere)", parseRtiTail)
    .option('--noise-scale <s>', 'flow: scale of the source noise (1 = as trained; below 1 samples nearer the mode)', Number.parseFloat)
    .option('--eta <x>', 'diffusion ddim/streaming/rti: DDIM eta (0 = deterministic, 1 = DDPM-like variance; default 1 for streaming, else 0)', Number.parseFloat)
    .option('--episodes <n>', 'fixed init states per task (0..n-1)', int, 50)
    .option('--workers <n>', 'worker processes (0 = in this process)', int, 2)
    .option('--tasks <ranges>', 'task indices, e.g. 0-4,7 (default: all)')
    .option('--shard <k/n>', 'run shard k of n over (task, init) pairs, e.g. 0/4')
    .option('--replan <n>', "actions executed per chunk before replanning (default: the model's execute length)", int)
    .option('--schedule <mode>', "chunk execution (default: the package's, else replan): 'replan', 'ensemble' (ACT temporal ensembling; --replan sets ticks between chunks, default 1), 'blend' (ramp into each new chunk)", parseScheduleMode)
    .option('--blend-steps <n>', '--schedule blend: ticks over which the old plan hands over', int)
    .option('--ensemble-decay <m>', "--schedule ensemble: ACT's weight decay m (default 0.01)", Number.parseFloat)
    .option('--seed <n>', 'seed for samplers and expert noise', int, 0)
    .option('--image-size <px>', 'camera size', int, 128)
    .option('--videos <n>', 'rollout videos per task (first n init states)', int, 1)
    .option('--max-steps <n>', "override the suite's max steps", int)
    .option('--noise <std>', 'expert: action noise std (m, rad)', Number.parseFloat, 0)
    .option('--robot <id>', "robot description id instead of the suite's own, e.g. franka/fr3")
    .option('--layouts <seed>', "validation: fresh layouts from this seed's stream (as `record --seed` draws them) instead of the fixed init states; pick a seed no training data used", int)
    .option('--out <dir>', 'output folder: results.json, results.md, report.html, videos/ (resumable)')
    .option('--json <file>', 'also write the per-task success rates as JSON here')
    .option('--no-progress', 'no progress bar')
    .action(async (o: EvalCliOptions) => {
      if (!!o.model === !!o.policy) throw new ArmatureError('cli.eval', 'give exactly one of --model <dir> or --policy expert');
      if (o.policy && o.policy !== 'expert') throw new ArmatureError('cli.eval', `unknown --policy '${o.policy}': the built-in policy is 'expert'`);
      let shard: { index: number; count: number } | undefined;
      if (o.shard) {
        const m = /^(\d+)\/(\d+)$/.exec(o.shard);
        if (!m || Number(m[1]) >= Number(m[2])) throw new ArmatureError('cli.eval', `--shard must be k/n with 0 <= k < n, got '${o.shard}'`);
        shard = { index: Number(m[1]), count: Number(m[2]) };
      }
      const { evaluate } = await import('../../sim/eval/evaluate.ts');
      const robot = o.robot ?? (o.model ? await modelRobot(resolve(o.model), o.suite) : undefined);
      const policyName = o.model ? o.model.replace(/\/+$/, '').split('/').pop()! : 'expert';
      // the default folder names what changes outcomes, so runs of other settings do not collide
      const variant = [o.sampler, o.rtiTail, o.steps !== undefined ? `k${o.steps}` : undefined, o.noiseScale !== undefined ? `ns${o.noiseScale}` : undefined, o.eta !== undefined ? `eta${o.eta}` : undefined, o.schedule, o.blendSteps !== undefined ? `b${o.blendSteps}` : undefined, o.ensembleDecay !== undefined ? `d${o.ensembleDecay}` : undefined, o.replan !== undefined ? `r${o.replan}` : undefined, robot?.replace(/\//g, '_'), o.seed ? `s${o.seed}` : undefined, o.layouts !== undefined ? `val${o.layouts}` : undefined]
        .filter((v) => v !== undefined)
        .join('-');
      const out = resolve(o.out ?? `out/eval/${o.suite}-${policyName}${variant ? `-${variant}` : ''}`);
      const summary = await evaluate(
        {
          suite: o.suite,
          policy: o.model ? { type: 'model', dir: resolve(o.model), sampler: o.sampler, steps: o.steps, rtiTail: o.rtiTail, noiseScale: o.noiseScale, eta: o.eta } : { type: 'expert', noise: o.noise },
          episodes: o.episodes,
          tasks: o.tasks ? parseRanges(o.tasks) : undefined,
          shard,
          workers: o.workers,
          replan: o.replan,
          schedule: o.schedule || o.blendSteps !== undefined || o.ensembleDecay !== undefined ? { mode: o.schedule, blendSteps: o.blendSteps, decay: o.ensembleDecay } : undefined,
          seed: o.seed,
          imageSize: o.imageSize,
          videosPerTask: o.videos,
          out,
          maxSteps: o.maxSteps,
          robot,
          layouts: o.layouts,
        },
        { progress: o.progress, policyName },
      );
      if (o.json) {
        writeFileSync(
          o.json,
          JSON.stringify(
            {
              suite: summary.suite,
              policy: summary.policy,
              success_rate: summary.success_rate,
              episodes: summary.episodes,
              tasks: Object.fromEntries(summary.tasks.map((t) => [t.task, { success_rate: t.success_rate, episodes: t.episodes, instruction: t.instruction }])),
            },
            null,
            2,
          ) + '\n',
        );
      }
      process.stdout.write(readFileSync(`${out}/results.md`, 'utf8'));
      process.stderr.write(`results: ${out}/results.json, results.md, report.html\n`);
    });
}

interface RecordCliOptions {
  suite: string;
  dataset: string;
  episodes: number;
  tasks?: string;
  policy?: string;
  model?: string;
  sampler?: string;
  noise: number;
  graspMiss: number;
  seed: number;
  imageSize: number;
  keep: 'success' | 'all';
  png?: boolean;
  robot?: string;
  maxSteps?: number;
  handoff?: string;
}

/** '<from>-<to>' handoff steps of `armature record --handoff`. */
export function parseHandoffSteps(spec: string): { fromStep: number; toStep: number } {
  const m = /^(\d+)-(\d+)$/.exec(spec.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new ArmatureError('cli.handoff', `--handoff '${spec}': give the step range the model hands over in as <from>-<to>, e.g. 20-150`);
  return { fromStep: Number(m[1]), toStep: Number(m[2]) };
}

export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description('record demonstrations (scripted expert) or policy rollouts on a suite into a LeRobot v3.0 dataset')
    .requiredOption('--suite <name>', 'spatial | object | goal | long | dual_arm')
    .requiredOption('--dataset <dir>', 'dataset root folder (created; must be new or empty)')
    .option('--episodes <n>', 'episodes to keep per task', int, 10)
    .option('--tasks <ranges>', 'task indices, e.g. 0-4,7 (default: all)')
    .option('--policy <name>', "'expert' (default) or use --model", 'expert')
    .option('--model <dir>', 'record rollouts of this model package instead of the expert')
    .option('--sampler <mode>', 'diffusion/flow sampling mode')
    .option('--noise <std>', 'expert action noise std (m, rad); grasp offsets get half', Number.parseFloat, 0)
    .option('--grasp-miss <p>', "expert: probability that an episode has one missed grasp (the fingers close above the object); such episodes are kept from the moment the expert noticed its empty hand (recovery demonstrations)", probability, 0)
    .option('--seed <n>', 'seed for the sampled initial layouts (disjoint from the evaluation states) and noise', int, 1000)
    .option('--image-size <px>', 'camera size', int, 128)
    .option('--keep <which>', "'success' (demonstrations) or 'all'", 'success')
    .option('--png', 'store frames as PNG inside the parquet instead of mp4')
    .option('--robot <id>', "robot description id instead of the suite's own")
    .option('--max-steps <n>', "policy steps per episode instead of the suite's max steps", int)
    .option('--handoff <from-to>', 'recovery data: --model drives until a step drawn from this range (then until its hand is open), the expert finishes; only the expert is recorded')
    .action(async (o: RecordCliOptions) => {
      const { recordSuite } = await import('../../sim/dataset/record.ts');
      if (o.handoff !== undefined && !o.model) throw new ArmatureError('cli.handoff', '--handoff needs --model <dir>: the policy that drives before the expert takes over');
      if (o.graspMiss > 0 && o.model) throw new ArmatureError('cli.grasp_miss', '--grasp-miss shapes the expert\'s demonstrations: drop it, or --model, which records a policy\'s rollouts');
      const summary = await recordSuite({
        suite: o.suite,
        root: resolve(o.dataset),
        episodes: o.episodes,
        tasks: o.tasks ? parseRanges(o.tasks) : undefined,
        policy:
          o.model && o.handoff !== undefined
            ? { type: 'handoff', dir: resolve(o.model), sampler: o.sampler, ...parseHandoffSteps(o.handoff) }
            : o.model
              ? { type: 'model', dir: resolve(o.model), sampler: o.sampler }
              : { type: 'expert', noise: o.noise, graspMiss: o.graspMiss },
        seed: o.seed,
        imageSize: o.imageSize,
        keep: o.keep,
        video: !o.png,
        robot: o.robot,
        maxSteps: o.maxSteps,
        onEpisode: (e) => {
          const skipped = e.handoff !== undefined && 'skipped' in e.handoff ? e.handoff.skipped : null;
          const what = skipped ? `skipped (${skipped})` : e.success ? 'success' : 'failure';
          const from = e.handoff !== undefined && 'at' in e.handoff ? `, expert from step ${e.handoff.at}` : '';
          const again = e.retries > 0 ? `, expert retried ${e.retries}x` : '';
          process.stderr.write(`${e.task} attempt ${e.attempt}: ${what} after ${e.steps} steps${from}${again} (kept ${e.kept})\n`);
        },
      });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    });
}
