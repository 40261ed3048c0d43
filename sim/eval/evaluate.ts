/**
 * Evaluation orchestrator: plans (task, init) episodes, skips those already in
 * `<out>/episodes.ndjson` (resume), runs the rest on worker processes, appends
 * each result as it arrives, and writes results.json, results.md and report.html.
 *
 * Sharding: `shard {index, count}` keeps every count-th (task, init) pair, so N
 * machines given shards 0..N-1 of the same config cover the evaluation exactly
 * once; merge their episodes.ndjson files into one folder and run `armature eval
 * --report-only` there to aggregate.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuite } from '../tasks/suites.ts';
import { EvalWorker, type FromWorker, type ToWorker } from './worker.ts';
import { episodeKey, type EpisodeResult, type EpisodeSpec, type EvalConfig, type EvalSummary, type TaskSummary } from './types.ts';
import { renderHtmlReport, renderMarkdown } from './report.ts';
import { ArmatureError } from '../../src/errors.ts';

export const EPISODES_FILE = 'episodes.ndjson';
/** what produced the episodes in a folder, checked before resuming there */
export const RUN_FILE = 'run.json';

/**
 * Everything in a config that changes episode outcomes (not episodes/tasks/shard/workers/videos,
 * which only choose which episodes run), with the model identified by its files' content hash, so
 * a folder is only resumed by the same policy (a retrained model in the same folder does not match).
 */
export function outcomeConfig(config: Omit<EvalConfig, 'out'>, modelSha256?: string): Record<string, unknown> {
  const p = config.policy;
  const policy =
    p.type === 'model'
      ? { type: 'model', sampler: p.sampler ?? null, steps: p.steps ?? null, ...(p.rtiTail ? { rti_tail: p.rtiTail } : {}), ...(p.noiseScale !== undefined ? { noise_scale: p.noiseScale } : {}), ...(p.eta !== undefined ? { eta: p.eta } : {}), model_sha256: modelSha256 ?? modelFingerprint(p.dir) }
      : { type: 'expert', noise: p.noise ?? 0 };
  return { suite: config.suite, policy, replan: config.replan ?? null, seed: config.seed, imageSize: config.imageSize, maxSteps: config.maxSteps ?? null, robot: config.robot ?? null, ...(config.schedule ? { schedule: config.schedule } : {}), ...(config.layouts !== undefined ? { layouts: config.layouts } : {}) };
}

/** sha256 over a model package's manifest, ONNX graphs and binary tables, in name order. */
export function modelFingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).filter((n) => n === 'manifest.json' || n.endsWith('.onnx') || n.endsWith('.bin')).sort()) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

/** Differences between two outcome configs as 'field: stored -> now' (empty when equal). */
function configDiff(stored: Record<string, unknown>, now: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(stored), ...Object.keys(now)])) {
    const a = stored[k] ?? null;
    const b = now[k] ?? null;
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') out.push(...configDiff(a as Record<string, unknown>, b as Record<string, unknown>, `${prefix}${k}.`));
    else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${prefix}${k}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  }
  return out;
}

/**
 * Refuse to resume from episodes that another configuration produced. Folders written before
 * run.json existed are checked against their results.json config (without the model hash).
 */
function checkResumable(config: EvalConfig, previous: number): void {
  const now = outcomeConfig(config);
  const runFile = join(config.out, RUN_FILE);
  let stored: Record<string, unknown> | null = null;
  if (existsSync(runFile)) stored = JSON.parse(readFileSync(runFile, 'utf8')) as Record<string, unknown>;
  else if (previous > 0 && existsSync(join(config.out, 'results.json'))) {
    const old = (JSON.parse(readFileSync(join(config.out, 'results.json'), 'utf8')) as { config?: Omit<EvalConfig, 'out'> }).config;
    // no model hash was stored then: compare everything else
    if (old) stored = outcomeConfig(old, (now.policy as { model_sha256?: string }).model_sha256);
  }
  if (previous > 0 && stored === null) {
    throw new ArmatureError('eval.resume', `${config.out} holds ${previous} episodes but no ${RUN_FILE} saying which configuration produced them: use another --out, or delete ${join(config.out, EPISODES_FILE)}`);
  }
  const diff = stored ? configDiff(stored, now) : [];
  if (previous > 0 && diff.length > 0) {
    throw new ArmatureError('eval.resume', `${config.out} holds ${previous} episodes of another configuration (${diff.join('; ')}): use another --out for this one, or delete ${join(config.out, EPISODES_FILE)} to start over`);
  }
  writeFileSync(runFile, JSON.stringify(now, null, 1) + '\n');
}

export function planEpisodes(config: Pick<EvalConfig, 'suite' | 'episodes' | 'tasks' | 'shard' | 'videosPerTask' | 'layouts'>): EpisodeSpec[] {
  const suite = loadSuite(config.suite);
  const specs: EpisodeSpec[] = [];
  let pair = 0;
  suite.tasks.forEach((t, taskIndex) => {
    if (config.tasks && !config.tasks.includes(taskIndex)) return;
    // validation layouts are drawn on demand, as many as asked for
    if (config.layouts === undefined && config.episodes > t.initStates.length) {
      throw new ArmatureError('eval.episodes', `task ${t.name} has ${t.initStates.length} fixed init states, --episodes asks for ${config.episodes}`);
    }
    for (let init = 0; init < config.episodes; init++, pair++) {
      if (config.shard && pair % config.shard.count !== config.shard.index) continue;
      specs.push({ suite: config.suite, taskIndex, task: t.name, init, video: init < config.videosPerTask });
    }
  });
  return specs;
}

export function readEpisodes(out: string): EpisodeResult[] {
  const file = join(out, EPISODES_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EpisodeResult);
}

/** `ran` episodes took `wallS` in this invocation (resumed ones are not timed again). */
export function summarize(config: EvalConfig, results: readonly EpisodeResult[], run: { wallS: number; ran: number; policyName: string }): EvalSummary {
  const { wallS, ran, policyName } = run;
  const byTask = new Map<string, EpisodeResult[]>();
  for (const r of [...results].sort((a, b) => a.taskIndex - b.taskIndex || a.init - b.init)) {
    const list = byTask.get(r.task) ?? [];
    list.push(r);
    byTask.set(r.task, list);
  }
  const tasks: TaskSummary[] = [...byTask].map(([task, rs]) => {
    const ok = rs.filter((r) => r.success);
    return {
      task,
      instruction: rs[0]!.instruction,
      episodes: rs.length,
      successes: ok.length,
      success_rate: ok.length / rs.length,
      timeouts: rs.filter((r) => r.outcome === 'timeout').length,
      errors: rs.filter((r) => r.outcome === 'error').length,
      mean_steps_success: ok.length ? ok.reduce((a, r) => a + r.steps, 0) / ok.length : null,
    };
  });
  const successes = results.filter((r) => r.success).length;
  const { out: _out, ...rest } = config;
  // results.json is kept in the repo: a model folder under the working directory is written relative to it
  const policy = rest.policy.type === 'model' ? { ...rest.policy, dir: portablePath(rest.policy.dir) } : rest.policy;
  return {
    suite: config.suite,
    policy: policyName,
    episodes: results.length,
    successes,
    success_rate: results.length ? successes / results.length : 0,
    tasks,
    seed: config.seed,
    wall_s: wallS,
    episodes_per_hour: wallS > 0 && ran > 0 ? (ran / wallS) * 3600 : 0,
    // episodes resumed from older files may lack the count
    nfe_per_action: results.reduce((a, r) => a + (r.model_evaluations ?? 0), 0) / Math.max(1, results.reduce((a, r) => a + r.steps, 0)),
    workers: config.workers,
    config: { ...rest, policy },
  };
}

/** `dir` relative to the working directory when it lies under it, else unchanged. */
export function portablePath(dir: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
}

function progressLine(done: number, total: number, ok: number, t0: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const el = (performance.now() - t0) / 1000;
  const eta = done ? (el / done) * (total - done) : 0;
  return `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} episodes, success ${done ? ((ok / done) * 100).toFixed(1) : '0.0'}%, ${el.toFixed(0)} s elapsed, eta ${eta.toFixed(0)} s `;
}

const WORKER_FILE = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Run `specs` on `n` child processes (or in this process when n = 0); calls onResult as each ends. */
async function runOnWorkers(config: EvalConfig, specs: EpisodeSpec[], onResult: (r: EpisodeResult) => void): Promise<void> {
  if (specs.length === 0) return;
  if (config.workers <= 0) {
    const w = new EvalWorker(config);
    await w.init();
    try {
      for (const s of specs) onResult(await w.run(s));
    } finally {
      await w.close();
    }
    return;
  }
  // each task's episodes stay together so a worker reuses its task environment
  const queue = [...specs];
  const n = Math.min(config.workers, specs.length);
  const children: ChildProcess[] = [];
  await new Promise<void>((resolve, reject) => {
    let running = n;
    for (let i = 0; i < n; i++) {
      const child = fork(WORKER_FILE, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ARMATURE_EVAL_WORKER: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      const send = (m: ToWorker) => child.send(m);
      let lastTask: string | null = null;
      const next = () => {
        let idx = queue.findIndex((s) => s.task === lastTask);
        if (idx < 0) idx = 0;
        const spec = queue.splice(idx, 1)[0];
        if (!spec) {
          send({ type: 'stop' });
          return;
        }
        lastTask = spec.task;
        send({ type: 'episode', spec });
      };
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') next();
        else if (m.type === 'result') {
          onResult(m.result);
          next();
        } else reject(new ArmatureError('eval.worker', `evaluation worker failed: ${m.message}`));
      });
      child.on('exit', (code) => {
        if (code !== 0 && code !== null) reject(new ArmatureError('eval.worker', `evaluation worker exited with code ${code}`));
        if (--running === 0) resolve();
      });
      send({ type: 'init', config });
    }
  }).finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill();
  });
}

export interface EvaluateOptions {
  /** print a progress bar on stderr */
  progress?: boolean;
  policyName: string;
}

export async function evaluate(config: EvalConfig, opts: EvaluateOptions): Promise<EvalSummary> {
  mkdirSync(config.out, { recursive: true });
  const planned = planEpisodes(config);
  const plannedKeys = new Set(planned.map(episodeKey));
  const stored = readEpisodes(config.out);
  checkResumable(config, stored.length);
  const previous = stored.filter((r) => plannedKeys.has(episodeKey(r)));
  const doneKeys = new Set(previous.map(episodeKey));
  const todo = planned.filter((s) => !doneKeys.has(episodeKey(s)));
  const results = [...previous];
  const t0 = performance.now();
  let ok = previous.filter((r) => r.success).length;
  const file = join(config.out, EPISODES_FILE);
  if (opts.progress && previous.length) process.stderr.write(`resuming: ${previous.length} of ${planned.length} episodes already in ${file}\n`);
  if (opts.progress) process.stderr.write(progressLine(results.length, planned.length, ok, t0));
  await runOnWorkers(config, todo, (r) => {
    appendFileSync(file, JSON.stringify(r) + '\n');
    results.push(r);
    if (r.success) ok++;
    if (opts.progress) process.stderr.write(progressLine(results.length, planned.length, ok, t0));
  });
  if (opts.progress) process.stderr.write('\n');
  const wallS = (performance.now() - t0) / 1000;
  const summary = summarize(config, results, { wallS, ran: todo.length, policyName: opts.policyName });
  writeReports(config.out, summary, results);
  return summary;
}

export function writeReports(out: string, summary: EvalSummary, results: readonly EpisodeResult[]): void {
  writeFileSync(join(out, 'results.json'), JSON.stringify({ ...summary, episodes_detail: results }, null, 2) + '\n');
  writeFileSync(join(out, 'results.md'), renderMarkdown(summary));
  writeFileSync(join(out, 'report.html'), renderHtmlReport(summary, results));
}
