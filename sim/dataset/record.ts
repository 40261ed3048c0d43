/**
 * Record demonstrations or policy rollouts on a task suite into a LeRobot
 * dataset. Initial states are sampled fresh from a seed (by default disjoint
 * from the suite's fixed evaluation states, which use their own per-task seeds),
 * so a policy trained on these demos is evaluated on layouts it has not seen.
 */
import { loadSuite } from '../tasks/suites.ts';
import { sampleInitLayout, type InitLayout } from '../tasks/task-scene.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { ExpertPolicy } from '../expert/expert.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
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

const STATE_NAMES = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7', 'gripper_width'];

export async function recordSuite(o: RecordOptions): Promise<RecordSummary> {
  const suite = loadSuite(o.suite);
  const robot = loadRobot('franka/fr3');
  const model = o.policy.type === 'model' ? await loadPolicy(o.policy.dir, { sampler: o.policy.sampler, seed: o.seed }) : null;
  const actionSpec = model ? Object.values(model.metadata.embodiments)[0]! : null;
  const actionNames = actionSpec ? actionSpec.names : ['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper'];
  const writer = await LeRobotDatasetWriter.create({
    root: o.root,
    robotType: 'franka_fr3',
    fps: 20,
    features: {
      'observation.state': { dtype: 'float32', shape: [STATE_NAMES.length], names: STATE_NAMES },
      action: { dtype: 'float32', shape: [actionNames.length], names: actionNames },
    },
    cameras: { agentview: { height: o.imageSize, width: o.imageSize }, eye_in_hand: { height: o.imageSize, width: o.imageSize } },
    video: o.video ?? true,
  });
  const summary: RecordSummary = { episodes: 0, frames: 0, attempts: 0, perTask: {} };
  try {
    for (const [taskIndex, t] of suite.tasks.entries()) {
      if (o.tasks && !o.tasks.includes(taskIndex)) continue;
      // fresh layouts: the seed stream is (record seed, task index), not the suite's evaluation seeds
      const rng = new Rng((o.seed * 7919 + taskIndex * 104729 + 1) >>> 0);
      const maxAttempts = o.episodes * (o.maxAttemptsFactor ?? 3);
      const layouts: InitLayout[] = Array.from({ length: maxAttempts }, () => sampleInitLayout(t.task, rng));
      const env = await TaskEnv.create({
        task: t.task,
        name: t.name,
        initStates: layouts,
        robotCommandMode: actionSpec && actionSpec.space !== 'ee_delta_pose' ? 'joint_position' : 'ee_delta',
        cameras: ['agentview', 'eye_in_hand'],
        imageSize: o.imageSize,
        seed: o.seed,
      });
      const policy: Policy =
        model ??
        new ExpertPolicy({
          world: env.world,
          goal: t.task.goal,
          noise: o.policy.type === 'expert' && o.policy.noise ? { actionStd: o.policy.noise, graspStd: o.policy.noise / 2 } : undefined,
          seed: o.seed + taskIndex,
        });
      const maxSteps = suite.maxSteps;
      let kept = 0;
      let attempt = 0;
      try {
        for (; attempt < maxAttempts && kept < o.episodes; attempt++) {
          env.reset(attempt);
          const loop = new ControlLoop({ policy, robot, embodiment: Object.keys(policy.metadata.embodiments)[0]!, schedule: { mode: 'replan', actionsPerChunk: policy.metadata.horizon } });
          const frames: { state: Float32Array; action: Float32Array; images: Record<string, RawImage> }[] = [];
          let success = false;
          let steps = 0;
          for (; steps < maxSteps && !success; steps++) {
            const obs = await env.observe();
            const r = await loop.step(obs, steps);
            env.apply(r.command);
            if (r.action) {
              const q = obs.proprio.fields['joint_positions']!;
              const state = new Float32Array(8);
              state.set(q);
              state[7] = obs.proprio.fields['gripper']![0]!;
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
