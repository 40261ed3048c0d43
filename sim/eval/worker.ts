/**
 * Evaluation worker process: loads the policy once and reuses it across
 * episodes; builds one task environment (physics + an in-process software
 * renderer) per task and reuses it across that task's init states.
 */
import { loadPolicy } from '../../src/policy/load.ts';
import { policyCameras, type Policy } from '../../src/policy/types.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { freshLayouts } from '../tasks/task-scene.ts';
import { loadSuite, type LoadedSuite, type SuiteTask } from '../tasks/suites.ts';
import { taskRobot } from '../tasks/robots.ts';
import { expertForTask } from '../expert/for-task.ts';
import { embodimentFor, runEpisode } from './episode.ts';
import { episodeSeed, type EpisodeResult, type EpisodeSpec, type EvalConfig } from './types.ts';
import type { ScheduleOptions } from '../../src/schedule/types.ts';
import { scheduleFor } from '../../src/schedule/create.ts';

export type ToWorker = { type: 'init'; config: EvalConfig } | { type: 'episode'; spec: EpisodeSpec } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'result'; result: EpisodeResult } | { type: 'fatal'; message: string };

/** Runs episodes for one process; also usable in-process (workers = 0 in tests). */
export class EvalWorker {
  private model: Policy | null = null;
  private env: { task: string; env: TaskEnv; policy: Policy | null } | null = null;
  private tasks = new Map<string, SuiteTask>();
  private suiteMaxSteps = 0;
  private suite: LoadedSuite | null = null;

  constructor(private readonly config: EvalConfig) {}

  async init(): Promise<void> {
    const suite = loadSuite(this.config.suite);
    this.suite = suite;
    this.suiteMaxSteps = suite.maxSteps;
    for (const t of suite.tasks) this.tasks.set(t.name, t);
    const p = this.config.policy;
    if (p.type === 'model') this.model = await loadPolicy(p.dir, { sampler: p.sampler, steps: p.steps, rtiTail: p.rtiTail, noiseScale: p.noiseScale, eta: p.eta, seed: this.config.seed });
  }

  private async envFor(task: string): Promise<{ env: TaskEnv; policy: Policy | null }> {
    if (this.env?.task === task) return this.env;
    await this.closeEnv();
    const t = this.tasks.get(task);
    if (!t) throw new Error(`task '${task}' is not in suite ${this.config.suite}`);
    const robot = this.robotId();
    // the expert renders only what a video needs: the suite's first camera
    // a multi-robot policy renders only what it reads for this robot
    const embodiment = this.model ? embodimentFor(this.model, taskRobot(robot)) : '';
    const cameras = this.model ? [...policyCameras(this.model.metadata, embodiment)] : [this.suite!.cameras[0] ?? 'agentview'];
    const space = this.model ? this.model.metadata.embodiments[embodiment]!.space : 'ee_delta_pose';
    const layouts = this.config.layouts;
    const initStates = layouts === undefined ? t.initStates : freshLayouts(t.task, layouts, this.suite!.tasks.indexOf(t), this.config.episodes, { robotBase: taskRobot(robot).base });
    const env = await TaskEnv.create({
      task: t.task,
      name: t.name,
      initStates,
      robot,
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
      expertForTask({
        world: env.world,
        goal: env.task.goal,
        robot: env.taskRobot,
        noise: noise > 0 ? { actionStd: noise, graspStd: noise / 2 } : undefined,
        seed: episodeSeed(this.config.seed, spec),
      });
    const cameras = env.taskRobot.cameras;
    const embodiment = embodimentFor(policy, env.taskRobot);
    return runEpisode(
      {
        env,
        policy,
        robot: env.taskRobot.description,
        embodiment,
        videoCamera: cameras.includes('agentview') ? 'agentview' : (cameras[0] ?? 'agentview'),
        schedule: evalSchedule(this.config, policy, embodiment),
        maxSteps: this.config.maxSteps ?? this.suiteMaxSteps,
        out: this.config.out,
        fps: 20,
        seed: this.config.seed,
      },
      spec,
    );
  }

  /** the robot of the episodes: the config's override, else the suite's */
  private robotId(): string {
    return this.config.robot ?? this.suite!.robot;
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

/** The schedule an episode runs: the config's mode and `replan` over the package's own choice (scheduleFor). */
export function evalSchedule(config: Pick<EvalConfig, 'replan' | 'schedule'>, policy: Policy, embodiment: string): ScheduleOptions {
  return scheduleFor(policy.metadata, embodiment, { ...config.schedule, actionsPerChunk: config.replan });
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
