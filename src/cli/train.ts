/**
 * `armature train <name>` (npm run train -- <name>): the one command that
 * regenerates a bundled policy from nothing. It reads models/<name>/train.json,
 * then
 *   1. records expert demonstrations for each listed suite (fresh init layouts,
 *      disjoint from the evaluation states) as LeRobot datasets under .cache/data,
 *      in parallel shards, skipping any dataset already complete;
 *   2. flattens them into training arrays (.cache/arrays/<hash of the data>);
 *   3. runs the package's PyTorch script, which checkpoints and resumes
 *      (.cache/train/<name>), then exports ONNX graphs, goldens, manifest,
 *      loss curve and training.json into models/<name>;
 *   4. runs the package's later stages (train.json `stages`, e.g. a new robot's
 *      decoder on the frozen backbone): their own data, script and checkpoint
 *      (.cache/train/<name>@<stage>), with `--base <main checkpoint folder>`;
 *      an `optional` stage (an experiment) runs only when named with --stage;
 *   5. checks onnxruntime-node against the new goldens.
 * Every step is resumable, so a killed run continues where it stopped.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ArmatureError } from '../errors.ts';
import { parseHandoffSteps, parseRanges } from './eval.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'armature.mjs');

const dataSpec = z.object({
  suite: z.string().min(1),
  /** demonstrations kept per task */
  episodes: z.number().int().positive(),
  /** expert action noise std (m, rad) */
  noise: z.number().nonnegative().default(0),
  /** probability that an episode has one missed grasp, kept from the moment the expert noticed it (`--grasp-miss`) */
  grasp_miss: z.number().min(0).max(1).default(0),
  /** layout seed; evaluation states use the suite's own seeds */
  seed: z.number().int().nonnegative().default(1000),
  /** task indices, e.g. "0-4" (default all) */
  tasks: z.string().optional(),
  /**
   * embodiment key (e.g. 'franka', 'agibot') for multi-robot packages: entries are grouped into
   * one arrays folder per embodiment and the script gets `--arrays <embodiment>=<dir>` for each.
   * Either every entry names one or none does (then one `--arrays <dir>`).
   */
  embodiment: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or -').optional(),
  /** robot description id that performs the demonstrations instead of the suite's own, e.g. 'universal_robots/ur5e' */
  robot: z.string().regex(/^[a-z0-9_]+\/[a-z0-9_]+$/, "'<maker>/<model>', e.g. universal_robots/ur5e").optional(),
  /**
   * recovery data (HG-DAgger-style, `armature record --handoff`): the package's own exported policy
   * drives until a step drawn from `steps` ('<from>-<to>'), the expert finishes and only it is recorded.
   * Only in a stage: it needs the main training's export.
   */
  handoff: z
    .object({
      // the same check as `armature record --handoff`, so a bad range fails before any recording starts
      steps: z.string().superRefine((v, ctx) => {
        try {
          parseHandoffSteps(v);
        } catch (e) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
        }
      }),
      sampler: z.string().optional(),
    })
    .strict()
    .optional(),
});

/**
 * A later training stage on top of the main one (e.g. a new robot's decoder head trained on a frozen
 * backbone): its own data and script, which gets `--base <main checkpoint folder>`.
 */
const stageSpec = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or -'),
  data: z.array(dataSpec).min(1),
  script: z.string(),
  args: z.array(z.string()).default([]),
  /** an experiment: runs only when asked for with `--stage <name>` (its export replaces the package's weights) */
  optional: z.boolean().default(false),
});

const trainSpec = z.object({
  data: z.array(dataSpec).min(1),
  /** stored frame side, px (the graph average-pools 128 px frames to this) */
  image_size: z.number().int().positive().default(64),
  /** training script in the package folder */
  script: z.string().default('train.py'),
  /** extra arguments for the script */
  args: z.array(z.string()).default([]),
  /** stages run in order after the main training */
  stages: z.array(stageSpec).default([]),
});
export type TrainSpec = z.infer<typeof trainSpec>;
export type DataSpec = z.infer<typeof dataSpec>;

export function parseTrainSpec(raw: unknown, file = 'train.json'): TrainSpec {
  const parsed = trainSpec.safeParse(raw);
  if (!parsed.success) throw new ArmatureError('train.spec', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const where = [{ at: 'data', data: parsed.data.data }, ...parsed.data.stages.map((st, i) => ({ at: `stages.${i} (${st.name}).data`, data: st.data }))];
  for (const { at, data } of where) {
    const named = data.filter((d) => d.embodiment !== undefined).length;
    if (named !== 0 && named !== data.length) {
      throw new ArmatureError('train.spec', `${file}: ${at}: ${named} of ${data.length} entries name an embodiment; name one in every entry (multi-robot) or in none`);
    }
    const i = data.findIndex((d) => d.handoff && d.grasp_miss > 0);
    if (i >= 0) throw new ArmatureError('train.spec', `${file}: ${at}.${i}: grasp_miss shapes the expert's own demonstrations, and a handoff entry records the expert only after the policy; drop one of them`);
  }
  if (parsed.data.data.some((d) => d.handoff)) {
    throw new ArmatureError('train.spec', `${file}: data: a handoff entry records the package's own policy, which exists only after the main training; move it into a stage`);
  }
  const names = parsed.data.stages.map((st) => st.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ArmatureError('train.spec', `${file}: stages: '${twice}' appears twice; give each stage its own name`);
  return parsed.data;
}

export function readTrainSpec(dir: string): TrainSpec {
  const file = path.join(dir, 'train.json');
  if (!existsSync(file)) throw new ArmatureError('train.spec', `${file} not found: a trainable package has a train.json naming its data and script`);
  return parseTrainSpec(JSON.parse(readFileSync(file, 'utf8')), file);
}

/**
 * Data entries grouped by arrays folder, in first-appearance order: one group keyed '' when no
 * entry names an embodiment, else one per embodiment.
 */
export function dataGroups(spec: { readonly data: readonly DataSpec[] }): Map<string, DataSpec[]> {
  const groups = new Map<string, DataSpec[]>();
  for (const d of spec.data) {
    const key = d.embodiment ?? '';
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  return groups;
}

/** The script's `--arrays` arguments: `DIR` alone, or `emb=DIR` per embodiment. */
export function arraysArguments(arrays: ReadonlyMap<string, string>): string[] {
  return [...arrays].flatMap(([emb, dir]) => ['--arrays', emb ? `${emb}=${dir}` : dir]);
}

/**
 * Folder name of a recorded dataset: everything that changes its content. A handoff entry also
 * names the policy that drove (`driver`: packageFingerprint of the package it was recorded with).
 */
export function datasetKey(d: Omit<DataSpec, 'grasp_miss'> & { grasp_miss?: number }, driver?: string): string {
  const tasks = d.tasks ? `-t${d.tasks.replace(/[^0-9-]/g, '_')}` : '';
  const robot = d.robot ? `-r${d.robot.replace('/', '_')}` : '';
  if (d.handoff && !driver) throw new ArmatureError('train.spec', 'a handoff data entry needs the fingerprint of the policy that drives it');
  const handoff = d.handoff ? `-h${d.handoff.steps}${d.handoff.sampler ? `-${d.handoff.sampler}` : ''}-m${driver}` : '';
  const miss = (d.grasp_miss ?? 0) > 0 ? `-g${d.grasp_miss}` : '';
  return `${d.suite}-e${d.episodes}-n${d.noise}${miss}-s${d.seed}${tasks}${robot}${handoff}`;
}

/** Short hash of a package's manifest and ONNX graphs: which weights drove a handoff recording. */
export function packageFingerprint(dir: string): string {
  const h = createHash('sha256');
  const files = ['manifest.json', ...readdirSync(dir).filter((n) => n.endsWith('.onnx')).sort()];
  for (const f of files) {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new ArmatureError('train.handoff', `${p} not found: a handoff recording drives the package's exported policy; run its main training first`);
    h.update(f).update(readFileSync(p));
  }
  return h.digest('hex').slice(0, 10);
}

function run(cmd: string, args: readonly string[], log: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    log(`$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new ArmatureError('train.step', `${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

function splitTasks(spec: string | undefined, count: number, shards: number): string[] {
  const all = spec ? parseRanges(spec) : Array.from({ length: count }, (_, i) => i);
  const n = Math.min(shards, all.length);
  return Array.from({ length: n }, (_, k) => all.filter((_, i) => i % n === k).join(','));
}

/** Shard folders of a dataset recorded earlier (any --jobs), when all of them are complete. */
export function completeShards(root: string): string[] | null {
  if (!existsSync(root)) return null;
  const shards = readdirSync(root).filter((n) => /^shard-\d+$/.test(n)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  if (shards.length === 0 || !shards.every((n, k) => n === `shard-${k}` && existsSync(path.join(root, n, '.complete')))) return null;
  return shards.map((n) => path.join(root, n));
}

async function recordDataset(d: z.infer<typeof dataSpec>, root: string, jobs: number, pkg: string, log: (s: string) => void): Promise<string[]> {
  // a dataset recorded with another --jobs is split differently but holds the same episodes
  const done = completeShards(root);
  if (done) return done;
  const { loadSuite } = await import('../../sim/tasks/suites.ts');
  const count = loadSuite(d.suite).tasks.length;
  const shards = splitTasks(d.tasks, count, jobs);
  const dirs = shards.map((_, k) => path.join(root, `shard-${k}`));
  await Promise.all(
    shards.map(async (tasks, k) => {
      const dir = dirs[k]!;
      if (existsSync(path.join(dir, '.complete'))) return;
      rmSync(dir, { recursive: true, force: true });
      const args = [CLI, 'record', '--suite', d.suite, '--dataset', dir, '--episodes', String(d.episodes), '--tasks', tasks, '--noise', String(d.noise), ...(d.grasp_miss > 0 ? ['--grasp-miss', String(d.grasp_miss)] : []), '--seed', String(d.seed), '--png', ...(d.robot ? ['--robot', d.robot] : []), ...(d.handoff ? ['--model', pkg, '--handoff', d.handoff.steps, ...(d.handoff.sampler ? ['--sampler', d.handoff.sampler] : [])] : [])];
      await run(process.execPath, args, log);
      writeFileSync(path.join(dir, '.complete'), new Date().toISOString() + '\n');
    }),
  );
  return dirs;
}

/** Flatten `datasets` into .cache/arrays/<hash> unless done; packages trained on the same data share it. */
async function buildArrays(datasets: string[], imageSize: number, cache: string, log: (s: string) => void): Promise<string> {
  const want = JSON.stringify({ datasets, image: imageSize });
  const arrays = path.join(cache, 'arrays', createHash('sha256').update(want).digest('hex').slice(0, 12));
  const stamp = path.join(arrays, '.complete');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    const { exportTrainingArrays } = await import('../../sim/dataset/training-arrays.ts');
    const tmp = `${arrays}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const index = await exportTrainingArrays({ datasets, out: tmp, imageSize });
    rmSync(arrays, { recursive: true, force: true });
    renameSync(tmp, arrays);
    writeFileSync(stamp, want);
    log(`arrays: ${index.frames} frames, ${index.episodes.length} episodes, ${index.tasks.length} instructions -> ${arrays}\n`);
  }
  return arrays;
}

/** The stages a run trains: every non-optional one after the main training, or just the one named. */
export function stagesToRun(spec: Pick<TrainSpec, 'stages'>, name: string, stage?: string): TrainSpec['stages'] {
  if (stage === undefined) return spec.stages.filter((st) => !st.optional);
  const named = spec.stages.filter((st) => st.name === stage);
  if (named.length === 0) throw new ArmatureError('train.stage', `models/${name}/train.json has no stage '${stage}'; stages: ${spec.stages.map((st) => st.name).join(', ') || 'none'}`);
  return named;
}

export interface TrainOptions {
  readonly name: string;
  readonly jobs: number;
  readonly python: string;
  readonly cache: string;
  /** stop after the data steps */
  readonly dataOnly?: boolean;
  /** run only this stage (the main training must have run before) */
  readonly stage?: string;
  readonly log?: (s: string) => void;
}

/** Record and flatten a data list: arrays folder per embodiment key ('' when none is named). */
async function prepareData(data: readonly DataSpec[], imageSize: number, o: TrainOptions, pkg: string, log: (s: string) => void): Promise<Map<string, string>> {
  const arraysByEmbodiment = new Map<string, string>();
  for (const [emb, entries] of dataGroups({ data })) {
    const datasets: string[] = [];
    for (const d of entries) {
      const root = path.join(o.cache, 'data', datasetKey(d, d.handoff ? packageFingerprint(pkg) : undefined));
      datasets.push(...(await recordDataset(d, root, o.jobs, pkg, log)));
    }
    arraysByEmbodiment.set(emb, await buildArrays(datasets, imageSize, o.cache, log));
  }
  return arraysByEmbodiment;
}

export async function trainPackage(o: TrainOptions): Promise<void> {
  const log = o.log ?? ((s: string) => process.stderr.write(s));
  const pkg = path.join(ROOT, 'models', o.name);
  const spec = readTrainSpec(pkg);
  const ckpt = path.join(o.cache, 'train', o.name);
  const stages = stagesToRun(spec, o.name, o.stage);
  if (o.stage === undefined) {
    const arrays = await prepareData(spec.data, spec.image_size, o, pkg, log);
    if (!o.dataOnly) {
      mkdirSync(ckpt, { recursive: true });
      await run(o.python, [path.join(pkg, spec.script), ...arraysArguments(arrays), '--checkpoint', ckpt, ...spec.args], log);
    }
  } else if (!o.dataOnly && !existsSync(path.join(ckpt, 'last.pt'))) {
    throw new ArmatureError('train.stage', `stage '${o.stage}' builds on the main training of ${o.name}, but ${path.join(ckpt, 'last.pt')} does not exist; run \`npm run train -- ${o.name}\` first`);
  }
  for (const st of stages) {
    const arrays = await prepareData(st.data, spec.image_size, o, pkg, log);
    if (o.dataOnly) continue;
    const dir = `${ckpt}@${st.name}`;
    mkdirSync(dir, { recursive: true });
    await run(o.python, [path.join(pkg, st.script), ...arraysArguments(arrays), '--checkpoint', dir, '--base', ckpt, ...st.args], log);
  }
  if (!o.dataOnly) await run(process.execPath, [CLI, 'policy', 'verify', '--model', pkg], log);
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('regenerate a bundled policy: expert demos -> training arrays -> PyTorch training (resumable) -> ONNX export + goldens')
    .argument('<name>', 'model package under models/ with a train.json')
    .option('--jobs <n>', 'parallel recording processes', (v) => Number.parseInt(v, 10), 2)
    .option('--python <exe>', 'Python with torch and onnx (Debian python3-torch, python3-onnx)', '/usr/bin/python3')
    .option('--cache <dir>', 'where datasets, arrays and checkpoints go', path.join(ROOT, '.cache'))
    .option('--data-only', 'record and flatten the data, then stop')
    .option('--stage <name>', "run only this stage of train.json's stages (after the main training)")
    .action(async (name: string, o: { jobs: number; python: string; cache: string; dataOnly?: boolean; stage?: string }) => {
      await trainPackage({ name, jobs: o.jobs, python: o.python, cache: path.resolve(o.cache), dataOnly: o.dataOnly, stage: o.stage });
    });
}

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('LeRobot datasets');
  dataset
    .command('arrays')
    .description('flatten LeRobot datasets into the binary arrays the PyTorch training scripts read')
    .requiredOption('--dataset <dir...>', 'dataset roots (one robot and action space)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--image-size <px>', 'stored frame side (must divide the recorded size)', (v) => Number.parseInt(v, 10), 64)
    .action(async (o: { dataset: string[]; out: string; imageSize: number }) => {
      const { exportTrainingArrays } = await import('../../sim/dataset/training-arrays.ts');
      const index = await exportTrainingArrays({ datasets: o.dataset.map((d) => path.resolve(d)), out: path.resolve(o.out), imageSize: o.imageSize });
      process.stdout.write(JSON.stringify({ frames: index.frames, episodes: index.episodes.length, tasks: index.tasks.length, cameras: index.cameras }) + '\n');
    });
}
