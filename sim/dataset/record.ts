/**
 * Record demonstrations or policy rollouts on a task suite into a LeRobot
 * dataset. Initial states are sampled fresh from a seed (by default disjoint
 * from the suite's fixed evaluation states, which use their own per-task seeds),
 * so a policy trained on these demos is evaluated on layouts it has not seen.
 */
import { loadSuite } from '../tasks/suites.ts';
import { sampleInitLayout, type InitLayout } from '../tasks/task-scene.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { taskRobot } from '../tasks/robots.ts';
import { expertForTask } from '../expert/for-task.ts';
import { embodimentFor } from '../eval/episode.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { jointNames } from '../../src/embodiment/description.ts';
import type { Policy } from '../../src/policy/types.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { Rng } from '../../src/util/random.ts';
import { LeRobotDatasetWriter } from './lerobot-writer.ts';
import type { RawImage } from '../../src/observation/types.ts';

export interface RecordOptions {
  suite: string;
  root: string;
  /** episodes per task */
  episodes: number;
  tasks?: readonly number[];
  policy: { type: 'expert'; noise?: number } | { type: 'model'; dir: string; sampler?: string };
  seed: number;
  imageSize: number;
  /** robot description id instead of the suite's own */
  robot?: string;
  /** cameras to record instead of the suite's */
  cameras?: readonly string[];
  /** policy steps per episode instead of the suite's max steps */
  maxSteps?: number;
  /** keep only successful episodes (demonstrations), or every rollout */
  keep: 'success' | 'all';
  /** give up on a task after this many attempts per kept episode */
  maxAttemptsFactor?: number;
  video?: boolean;
  onEpisode?: (e: { task: string; attempt: number; success: boolean; steps: number; kept: number }) => void;
}

export interface RecordSummary {
  episodes: number;
  frames: number;
  attempts: number;
  perTask: Record<string, { kept: number; attempts: number }>;
}

/**
 * Names of `observation.state`: every arm joint, then each arm's gripper width. One arm:
 * 'joint1'.. and 'gripper_width' (LIBERO-style); several: '<arm>_joint1'.., '<arm>_gripper_width'.
 */
export function stateNames(robot: { arms: readonly { name: string; joints: readonly unknown[] }[] }): string[] {
  const one = robot.arms.length === 1;
  const p = (arm: string): string => (one ? '' : `${arm}_`);
  return [...robot.arms.flatMap((a) => a.joints.map((_, k) => `${p(a.name)}joint${k + 1}`)), ...robot.arms.map((a) => `${p(a.name)}gripper_width`)];
}

export async function recordSuite(o: RecordOptions): Promise<RecordSummary> {
  const suite = loadSuite(o.suite);
  const tr = taskRobot(o.robot ?? suite.robot, { cameras: o.cameras ?? suite.cameras });
  const robot = tr.description;
  const nJoints = jointNames(robot).length;
  const names = stateNames(robot);
  const model = o.policy.type === 'model' ? await loadPolicy(o.policy.dir, { sampler: o.policy.sampler, seed: o.seed }) : null;
  const actionSpec = model ? model.metadata.embodiments[embodimentFor(model, tr)]! : null;
  // the expert's action names come from the robot's arms (ExpertPolicy / BimanualExpertPolicy metadata)
  const actionNames = actionSpec ? actionSpec.names : tr.arms.length === 2 ? tr.arms.flatMap((a) => ['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper'].map((n) => `${a}_${n}`)) : ['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper'];
  const writer = await LeRobotDatasetWriter.create({
    root: o.root,
    robotType: tr.kind,
    fps: 20,
    features: {
      'observation.state': { dtype: 'float32', shape: [names.length], names },
      action: { dtype: 'float32', shape: [actionNames.length], names: actionNames },
    },
    cameras: Object.fromEntries(tr.cameras.map((c) => [c, { height: o.imageSize, width: o.imageSize }])),
    video: o.video ?? true,
  });
  const summary: RecordSummary = { episodes: 0, frames: 0, attempts: 0, perTask: {} };
  try {
    for (const [taskIndex, t] of suite.tasks.entries()) {
      if (o.tasks && !o.tasks.includes(taskIndex)) continue;
      // fresh layouts: the seed stream is (record seed, task index), not the suite's evaluation seeds
      const rng = new Rng((o.seed * 7919 + taskIndex * 104729 + 1) >>> 0);
      const maxAttempts = o.episodes * (o.maxAttemptsFactor ?? 3);
      const layouts: InitLayout[] = Array.from({ length: maxAttempts }, () => sampleInitLayout(t.task, rng, { robotBase: tr.base }));
      const env = await TaskEnv.create({
        task: t.task,
        name: t.name,
        initStates: layouts,
        robot: tr.id,
        robotCommandMode: actionSpec && actionSpec.space !== 'ee_delta_pose' ? 'joint_position' : 'ee_delta',
        cameras: tr.cameras,
        imageSize: o.imageSize,
        seed: o.seed,
      });
      const policy: Policy =
        model ??
        expertForTask({
          world: env.world,
          goal: t.task.goal,
          robot: tr,
          noise: o.policy.type === 'expert' && o.policy.noise ? { actionStd: o.policy.noise, graspStd: o.policy.noise / 2 } : undefined,
          seed: o.seed + taskIndex,
        });
      const embodiment = embodimentFor(policy, tr);
      const maxSteps = o.maxSteps ?? suite.maxSteps;
      let kept = 0;
      let attempt = 0;
      try {
        for (; attempt < maxAttempts && kept < o.episodes; attempt++) {
          env.reset(attempt);
          policy.reset();
          const loop = new ControlLoop({ policy, robot, embodiment, schedule: { mode: 'replan', actionsPerChunk: policy.metadata.horizon } });
          const frames: { state: Float32Array; action: Float32Array; images: Record<string, RawImage> }[] = [];
          let success = false;
          let steps = 0;
          for (; steps < maxSteps && !success; steps++) {
            const obs = await env.observe();
            const r = await loop.step(obs, steps);
            env.apply(r.command);
            if (r.action) {
              const state = new Float32Array(names.length);
              state.set(obs.proprio.fields['joint_positions']!);
              state.set(obs.proprio.fields['gripper']!, nJoints);
              frames.push({ state, action: Float32Array.from(r.action), images: obs.images as Record<string, RawImage> });
            }
            success = env.success();
          }
          summary.attempts++;
          if (success || o.keep === 'all') {
            for (const f of frames) {
              await writer.addFrame({ values: { 'observation.state': f.state, action: f.action }, images: f.images, task: env.instruction });
            }
            await writer.saveEpisode();
            kept++;
            summary.episodes++;
            summary.frames += frames.length;
          }
          o.onEpisode?.({ task: t.name, attempt, success, steps, kept });
        }
      } finally {
        if (!model) await policy.dispose();
        await env.close();
      }
      summary.perTask[t.name] = { kept, attempts: attempt };
    }
  } finally {
    await writer.finalize();
    await model?.dispose();
  }
  return summary;
}
