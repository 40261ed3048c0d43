/**
 * Measures the scripted expert's success rate per task and suite.
 *
 *   node --import tsx sim/expert/measure.ts [--suite spatial|object|goal|long|dual_arm|all] [--episodes 10]
 *        [--tasks 0,3] [--action-noise 0.002] [--grasp-noise 0.005] [--strict] [--json out.json] [--verbose]
 *
 * LIBERO protocol: an episode succeeds at the first step the goal holds. --strict instead runs
 * until the expert has let go and backed off, and scores the state it leaves.
 *
 * Uses the shipped suites (sim/tasks/suites/<suite>) when generated, otherwise the task
 * definitions with init states sampled from the same per-task seeds as generate.ts.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/util/random.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { resolveTask, type BddlTask } from '../tasks/task.ts';
import { sampleInitLayout, type InitLayout } from '../tasks/task-scene.ts';
import { SUITE_TASKS } from '../tasks/suites/definitions.ts';
import { taskSeed } from '../tasks/suites/generate.ts';
import { taskRobot } from '../tasks/robots.ts';
import { ALL_SUITES, MAX_STEPS, SUITE_ROBOTS, loadSuite, type Suite } from '../tasks/suites/index.ts';
import { describeStatus, runExpertEpisode, type ExpertEpisodeResult } from './episode.ts';
import type { ExpertNoise } from './expert.ts';

export interface SuiteTaskSpec {
  name: string;
  task: BddlTask;
  initStates: InitLayout[];
}

/** The suite's tasks: shipped files if present, else the definitions sampled like generate.ts. */
export function suiteTasks(suite: Suite, episodes: number): SuiteTaskSpec[] {
  try {
    return loadSuite(suite).tasks.map((t) => ({ name: t.name, task: t.task, initStates: t.initStates }));
  } catch {
    return SUITE_TASKS[suite].map((def) => {
      const task = resolveTask(def.draft, def.name);
      const rng = new Rng(taskSeed(suite, def.name));
      const robotBase = taskRobot(SUITE_ROBOTS[suite].robot).base;
      return { name: def.name, task, initStates: Array.from({ length: episodes }, () => sampleInitLayout(task, rng, { robotBase })) };
    });
  }
}

export interface TaskRate {
  task: string;
  episodes: number;
  successes: number;
  rate: number;
  /** where the expert was when the episode ended (describeStatus) */
  failures: { init: number; steps: number; where: string; timeouts: string[] }[];
  meanSteps: number;
}

export async function measureTask(suite: Suite, spec: SuiteTaskSpec, opts: { episodes: number; noise?: ExpertNoise; verbose?: boolean; strict?: boolean }): Promise<TaskRate> {
  const env = await TaskEnv.create({ task: spec.task, initStates: spec.initStates, robot: SUITE_ROBOTS[suite].robot, robotCommandMode: 'ee_delta', cameras: [] });
  const out: TaskRate = { task: spec.name, episodes: 0, successes: 0, rate: 0, failures: [], meanSteps: 0 };
  let steps = 0;
  try {
    const n = Math.min(opts.episodes, spec.initStates.length);
    for (let i = 0; i < n; i++) {
      const r: ExpertEpisodeResult = await runExpertEpisode({ env, init: i, maxSteps: MAX_STEPS[suite], noise: opts.noise, seed: i, stopOnSuccess: !opts.strict });
      out.episodes++;
      steps += r.steps;
      if (r.success) out.successes++;
      else out.failures.push({ init: i, steps: r.steps, where: describeStatus(r.status), timeouts: r.status.timeouts });
      if (opts.verbose) console.error(`  ${spec.name} #${i}: ${r.success ? 'ok' : 'FAIL'} in ${r.steps} steps, retries ${r.status.retries}, timeouts [${r.status.timeouts.join(', ')}]${r.success ? '' : `, stuck in ${describeStatus(r.status)}`}`);
    }
  } finally {
    await env.close();
  }
  out.rate = out.episodes ? out.successes / out.episodes : 0;
  out.meanSteps = out.episodes ? steps / out.episodes : 0;
  return out;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const which = arg('suite') ?? 'all';
  const suites: Suite[] = which === 'all' ? [...ALL_SUITES] : [which as Suite];
  const episodes = Number(arg('episodes') ?? 10);
  const taskIdx = arg('tasks')?.split(',').map(Number);
  const an = Number(arg('action-noise') ?? 0);
  const gn = Number(arg('grasp-noise') ?? 0);
  const noise: ExpertNoise | undefined = an > 0 || gn > 0 ? { actionStd: an, graspStd: gn } : undefined;
  const verbose = argv.includes('--verbose');
  const strict = argv.includes('--strict');
  const report: Record<string, { rate: number; episodes: number; tasks: TaskRate[]; wallS: number }> = {};
  for (const suite of suites) {
    const t0 = performance.now();
    const specs = suiteTasks(suite, episodes).filter((_, i) => !taskIdx || taskIdx.includes(i));
    const rates: TaskRate[] = [];
    for (const spec of specs) {
      const r = await measureTask(suite, spec, { episodes, noise, verbose, strict });
      rates.push(r);
      console.log(`${suite.padEnd(8)} ${(100 * r.rate).toFixed(0).padStart(3)}%  ${r.successes}/${r.episodes}  mean steps ${r.meanSteps.toFixed(0).padStart(3)}  ${spec.name}`);
    }
    const succ = rates.reduce((s, r) => s + r.successes, 0);
    const eps = rates.reduce((s, r) => s + r.episodes, 0);
    report[suite] = { rate: eps ? succ / eps : 0, episodes: eps, tasks: rates, wallS: (performance.now() - t0) / 1000 };
    console.log(`${suite.padEnd(8)} suite: ${(100 * report[suite]!.rate).toFixed(1)}% (${succ}/${eps}) in ${report[suite]!.wallS.toFixed(0)} s`);
  }
  const json = arg('json');
  if (json) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
