/**
 * The scripted expert that fits a task's robot: ExpertPolicy for one arm (action space
 * named after the robot's embodiment), BimanualExpertPolicy for two.
 */
import type { Policy } from '../../src/policy/types.ts';
import type { WorldView } from '../tasks/predicates.ts';
import type { TaskRobot } from '../tasks/robots.ts';
import type { Formula } from '../tasks/task.ts';
import { BimanualExpertPolicy, type BimanualStatus } from './bimanual.ts';
import { ExpertError, ExpertPolicy, type ExpertNoise, type ExpertStatus } from './expert.ts';

export interface TaskExpertOptions {
  world: WorldView;
  goal: Formula;
  robot: Pick<TaskRobot, 'arms' | 'embodiment'>;
  noise?: ExpertNoise;
  seed?: number;
  /** single arm: plan only the goal atoms still false when the expert starts (taking over mid-episode) */
  skipSatisfied?: boolean;
}

/** A scripted expert policy; `finished` once its plan has run. */
export type TaskExpert = Policy & { readonly finished: boolean; status(): ExpertStatus | BimanualStatus };

export function expertForTask(o: TaskExpertOptions): TaskExpert {
  if (o.robot.arms.length === 2) {
    if ((o.noise?.graspMiss ?? 0) > 0) throw new ExpertError('grasp misses (graspMiss, --grasp-miss) are only planned by the one-arm expert: record two-arm robots without them');
    return new BimanualExpertPolicy({ world: o.world, goal: o.goal, arms: o.robot.arms, embodiment: o.robot.embodiment, noise: o.noise, seed: o.seed });
  }
  return new ExpertPolicy({ world: o.world, goal: o.goal, embodiment: o.robot.embodiment, noise: o.noise, seed: o.seed, skipSatisfied: o.skipSatisfied });
}
