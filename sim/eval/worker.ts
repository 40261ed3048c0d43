/**
 * Evaluation worker process: loads the policy once and reuses it across
 * episodes; builds one task environment (physics + a page in the process's one
 * Chromium) per task and reuses it across that task's init states.
 */
import { loadPolicy } from '../../src/policy/load.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import type { Policy } from '../../src/policy/types.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { loadSuite, type SuiteTask } from '../tasks/suites.ts';
import { ExpertPolicy } from '../expert/expert.ts';
import { runEpisode } from './episode.ts';
import type { EpisodeResult, EpisodeSpec, EvalConfig } from './types.ts';

export type ToWorker = { type: 'init'; config: EvalConfig } | { type: 'episode'; spec: EpisodeSpec } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'result'; result: EpisodeResult } | { type: 'fatal'; message: string };

/** Runs episodes for one process; also usable in-process (workers = 0 in tests). */
export class EvalWorker {
  private model: Policy | null = null;
  private env: { task: string; env: TaskEnv; policy: Policy | null } | null = null;
  private tasks = new Map<string, SuiteTask>();
  private suiteMaxSteps = 0;

  constructor(private readonly config: EvalConfig) {}

  async init(): Promise<void> {
    const suite = loadSuite(this.config.suite);
    this.suiteMaxSteps = suite.maxSteps;
    for (const t of suite.tasks) this.tasks.set(t.name, t);
    const p = this.config.policy;
    if (p.type === 'model') this.model = await loadPolicy(p.dir, { sampler: p.sampler, steps: p.steps, seed: this.config.seed });
  }

  private async envFor(task: string): Promise<{ env: TaskEnv; policy: Policy | null }> {
    if (this.env?.task === task) return this.env;
    await this.closeEnv();
    const t = this.tasks.get(task);
    if (!t) throw new Error(`task '${task}' is not in suite ${this.config.suite}`);
    const cameras = this.model ? [...this.model.metadata.cameras] : ['agentview'];
    const space = this.model ? Object.values(this.model.metadata.embodiments)[0]!.space : 'ee_delta_pose';
    const env = await TaskEnv.create({
      task: t.task,
      name: t.name,
      initStates: t.initStates,
      robotCommandMode: space === 'ee_delta_pose' ? 'ee_delta' : 'joint_position',
      cameras,
      imageSize: this.config.imageSize,
      seed: this.config.seed,
    });
    const policy = this.model;
    this.env = { task, env, policy };
    return this.env;
  }

  async run(spec: EpisodeSpec): Promise<EpisodeResult> {
    const { env, policy: model } = await this.envFor(spec.task);
    // the expert is built per episode and seeded from (seed, task, init), so noisy runs do not depend on which worker ran what
    const noise = this.config.policy.type === 'expert' ? (this.config.policy.noise ?? 0) : 0;
    const policy =
      model ??
      new ExpertPolicy({
        world: env.world,
        goal: env.task.goal,
        noise: noise > 0 ? { actionStd: noise, graspStd: noise / 2 } : undefined,
        seed: (this.config.seed * 1_000_003 + spec.taskIndex * 7919 + spec.init) >>> 0,
      });
    const horizon = policy.metadata.horizon;
    return runEpisode(
      {
        env,
        policy,
        robot: loadRobot('franka/fr3'),
        schedule: { mode: 'replan', actionsPerChunk: Math.min(this.config.replan ?? horizon, horizon) },
        maxSteps: this.config.maxSteps ?? this.suiteMaxSteps,
        out: this.config.out,
        fps: 20,
      },
      spec,
    );
  }

  private async closeEnv(): Promise<void> {
    if (!this.env) return;
    await this.env.env.close();
    this.env = null;
  }

  async close(): Promise<void> {
    await this.closeEnv();
    await this.model?.dispose();
  }
}

// child-process entry: driven by the parent over IPC
if (process.send && process.env['ARMATURE_EVAL_WORKER'] === '1') {
  let worker: EvalWorker | null = null;
  const send = (m: FromWorker) => process.send!(m);
  process.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        if (m.type === 'init') {
          worker = new EvalWorker(m.config);
          await worker.init();
          send({ type: 'ready' });
        } else if (m.type === 'episode') {
          send({ type: 'result', result: await worker!.run(m.spec) });
        } else {
          await worker?.close();
          process.exit(0);
        }
      } catch (e) {
        send({ type: 'fatal', message: (e as Error).stack ?? String(e) });
      }
    })();
  });
}
