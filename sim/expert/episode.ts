/**
 * One expert episode on a TaskEnv, through the real runtime path:
 * observe -> ControlLoop (replan, 1 action per chunk) -> safety -> TaskEnv.apply.
 */
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import type { TaskEnv } from '../tasks/task-env.ts';
import type { BimanualStatus } from './bimanual.ts';
import type { ExpertNoise, ExpertStatus } from './expert.ts';
import { expertForTask } from './for-task.ts';

export interface ExpertEpisodeOptions {
  env: TaskEnv;
  /** init state index */
  init: number;
  /** policy steps after settling (LIBERO: 220 / 280 / 300 / 520) */
  maxSteps: number;
  noise?: ExpertNoise;
  seed?: number;
  /** keep running this many steps after success is first seen, and require it still holds (default 0) */
  holdSteps?: number;
  /**
   * true (LIBERO): stop at the first step the goal holds (after holdSteps). false: run until the
   * expert has finished its plan (released, backed off) and score the state it leaves.
   */
  stopOnSuccess?: boolean;
  /** called every tick with the expert's status (debugging) */
  onTick?: (tick: number, status: ExpertStatus | BimanualStatus) => void;
}

export interface ExpertEpisodeResult {
  success: boolean;
  /** policy steps taken */
  steps: number;
  /** safety interventions over the episode */
  interventions: number;
  /** ExpertStatus for one arm, BimanualStatus for two */
  status: ExpertStatus | BimanualStatus;
}

/** Where an expert stopped, one line: 'pick bowl_1/descend' or 'left: place x/lower, right: done'. */
export function describeStatus(s: ExpertStatus | BimanualStatus): string {
  if ('arms' in s) return s.arms.map((a) => `${a.arm}: ${a.plan[a.phase] ?? 'done'}${a.stage ? `/${a.stage}` : ''}`).join(', ');
  return `${s.plan[s.phase] ?? 'done'}${s.stage ? `/${s.stage}` : ''}`;
}

export async function runExpertEpisode(o: ExpertEpisodeOptions): Promise<ExpertEpisodeResult> {
  const { env } = o;
  env.reset(o.init);
  const expert = expertForTask({ world: env.world, goal: env.task.goal, robot: env.taskRobot, noise: o.noise, seed: o.seed ?? o.init });
  const robot = env.taskRobot.description;
  const loop = new ControlLoop({ policy: expert, robot, embodiment: env.taskRobot.embodiment, schedule: { mode: 'replan', actionsPerChunk: 1 } });
  let interventions = 0;
  let successAt = -1;
  let steps = 0;
  for (let tick = 0; tick < o.maxSteps; tick++) {
    const obs = await env.observe();
    const step = await loop.step(obs, tick);
    if (step.error) throw step.error;
    interventions += step.command.interventions.length;
    env.apply(step.command);
    steps = tick + 1;
    o.onTick?.(tick, expert.status());
    if (o.stopOnSuccess === false) {
      if (expert.finished) break;
      continue;
    }
    if (env.success()) {
      if (successAt < 0) successAt = tick;
      if (tick - successAt >= (o.holdSteps ?? 0)) break;
    } else successAt = -1;
  }
  await expert.dispose();
  const success = o.stopOnSuccess === false ? env.success() : successAt >= 0;
  return { success, steps, interventions, status: expert.status() };
}
