/**
 * Record demonstrations or policy rollouts on a task suite into a LeRobot
 * dataset. Initial states are sampled fresh from a seed (by default disjoint
 * from the suite's fixed evaluation states, which use their own per-task seeds),
 * so a policy trained on these demos is evaluated on layouts it has not seen.
 *
 * Handoff recording (HG-DAgger-style recovery data): a model drives for a random number of
 * steps, then the scripted expert takes over from whatever state the model left (planning
 * only the goal atoms still false) and only the expert's frames are recorded. The model
 * hands over with an open hand, so the expert is never taught to drop what it holds.
 */
import { loadSuite } from '../tasks/suites.ts';
import { freshLayouts, type InitLayout } from '../tasks/task-scene.ts';
import { TaskEnv } from '../tasks/task-env.ts';
import { taskRobot } from '../tasks/robots.ts';
import { expertForTask, type TaskExpert } from '../expert/for-task.ts';
import { embodimentFor } from '../eval/episode.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { jointNames } from '../../src/embodiment/description.ts';
import type { Policy } from '../../src/policy/types.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { scheduleFor } from '../../src/schedule/create.ts';
import { Rng } from '../../src/util/random.ts';
import { LeRobotDatasetWriter } from './lerobot-writer.ts';
import type { RawImage } from '../../src/observation/types.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import { ArmatureError } from '../../src/errors.ts';
import type { ExpertNoise, ExpertStatus } from '../expert/expert.ts';

export interface RecordOptions {
  suite: string;
  root: string;
  /** episodes per task */
  episodes: number;
  tasks?: readonly number[];
  policy: { type: 'expert'; noise?: number; graspMiss?: number } | { type: 'model'; dir: string; sampler?: string } | HandoffPolicy;
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
  onEpisode?: (e: { task: string; attempt: number; success: boolean; steps: number; kept: number; handoff?: HandoffOutcome; retries: number }) => void;
}

/** The expert's noise for a recording: grasp offsets get half the action noise. */
export function expertNoise(p: { noise?: number; graspMiss?: number }): ExpertNoise | undefined {
  const n = p.noise ?? 0;
  const m = p.graspMiss ?? 0;
  if (n <= 0 && m <= 0) return undefined;
  return { actionStd: n, graspStd: n / 2, ...(m > 0 ? { graspMiss: m } : {}) };
}

/** Where the one-arm expert's planned grasp miss stands ('none' for the two-arm expert, which plans none). */
function graspMiss(e: TaskExpert): ExpertStatus['graspMiss'] {
  const s = e.status();
  return 'graspMiss' in s ? s.graspMiss : 'none';
}

/** The model `dir` drives first; the expert takes over at a step drawn uniformly from [fromStep, toStep]. */
export interface HandoffPolicy {
  type: 'handoff';
  dir: string;
  sampler?: string;
  fromStep: number;
  toStep: number;
}

/** How a handoff attempt went before the expert's part: the step it took over at, or why it did not. */
export type HandoffOutcome = { at: number } | { skipped: 'model succeeded' | 'hand never opened' };

/** A hand counts as open for the handoff above this width (FR3 fully open: 0.08 m). */
export const HANDOFF_MIN_WIDTH = 0.06;

export interface RecordSummary {
  episodes: number;
  frames: number;
  attempts: number;
  /** kept episodes in which the expert grasped again or re-planned (a missed grasp, a knocked object) */
  retried: number;
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
  const handoff = o.policy.type === 'handoff' ? o.policy : null;
  if (handoff) {
    if (!(Number.isInteger(handoff.fromStep) && Number.isInteger(handoff.toStep) && handoff.fromStep >= 0 && handoff.toStep >= handoff.fromStep)) {
      throw new ArmatureError('record.handoff', `handoff steps ${handoff.fromStep}-${handoff.toStep}: give integers 0 <= from <= to, e.g. 20-150`);
    }
    if (tr.arms.length !== 1) throw new ArmatureError('record.handoff', `handoff recording needs a one-arm robot; ${tr.id} has ${tr.arms.length} arms`);
  }
  const driver = o.policy.type === 'expert' ? null : await loadPolicy(o.policy.dir, { sampler: o.policy.sampler, seed: o.seed });
  // handoff: the embodiment the model drives, checked once: the expert takes over in ee deltas
  const driverEmbodiment = handoff && driver ? embodimentFor(driver, tr) : '';
  if (handoff && driver) {
    const space = driver.metadata.embodiments[driverEmbodiment]!.space;
    if (space !== 'ee_delta_pose') {
      await driver.dispose();
      throw new ArmatureError('record.handoff', `handoff model ${driver.metadata.name} acts in '${space}'; the expert takes over in ee_delta_pose, so give a model with that action space`);
    }
  }
  // the policy whose actions are recorded: the model itself, or (handoff) the expert
  const model = handoff ? null : driver;
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
  const summary: RecordSummary = { episodes: 0, frames: 0, attempts: 0, retried: 0, perTask: {} };
  try {
    for (const [taskIndex, t] of suite.tasks.entries()) {
      if (o.tasks && !o.tasks.includes(taskIndex)) continue;
      // fresh layouts: the seed stream is (record seed, task index), not the suite's evaluation seeds
      const maxAttempts = o.episodes * (o.maxAttemptsFactor ?? 3);
      const layouts: InitLayout[] = freshLayouts(t.task, o.seed, taskIndex, maxAttempts, { robotBase: tr.base });
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
      const noise = o.policy.type === 'expert' ? expertNoise(o.policy) : undefined;
      const expert = model
        ? null
        : expertForTask({
          world: env.world,
          goal: t.task.goal,
          robot: tr,
          noise,
          seed: o.seed + taskIndex,
          skipSatisfied: handoff !== null,
        });
      const policy: Policy = model ?? expert!;
      // only a recording that asks for grasp misses looks at the expert's status every tick
      const missing = expert !== null && (noise?.graspMiss ?? 0) > 0 ? expert : null;
      const embodiment = embodimentFor(policy, tr);
      const maxSteps = o.maxSteps ?? suite.maxSteps;
      // handoff: the step each attempt's model hands over at, from its own stream (layouts stay those of a plain recording)
      const handoffRng = new Rng((o.seed * 15485863 + taskIndex * 32452843 + 7) >>> 0);
      let kept = 0;
      let attempt = 0;
      try {
        for (; attempt < maxAttempts && kept < o.episodes; attempt++) {
          env.reset(attempt);
          policy.reset();
          let steps = 0;
          let success = false;
          let handoffOutcome: HandoffOutcome | undefined;
          if (handoff && driver) {
            const at = handoff.fromStep + Math.floor(handoffRng.uniform() * (handoff.toStep - handoff.fromStep + 1));
            const r = await driveUntilHandoff(env, driver, { robot, embodiment: driverEmbodiment, at, maxSteps });
            steps = r.steps;
            if (r.success || steps >= maxSteps) {
              // solved without help, or never opened its hand: nothing for the expert to show
              summary.attempts++;
              o.onEpisode?.({ task: t.name, attempt, success: false, steps, kept, handoff: { skipped: r.success ? 'model succeeded' : 'hand never opened' }, retries: 0 });
              continue;
            }
            handoffOutcome = { at: steps };
          }
          const loop = new ControlLoop({ policy, robot, embodiment, schedule: { mode: 'replan', actionsPerChunk: policy.metadata.horizon } });
          const frames: { state: Float32Array; action: Float32Array; images: Record<string, RawImage> }[] = [];
          // a planned grasp miss is not a demonstration: keep the episode from the moment the expert noticed the empty hand
          let from = -1;
          for (let tick = 0; steps < maxSteps && !success; steps++, tick++) {
            const obs = await env.observe();
            const r = await loop.step(obs, tick);
            env.apply(r.command);
            if (missing && from < 0 && graspMiss(missing) === 'noticed') from = frames.length;
            if (r.action) {
              const state = new Float32Array(names.length);
              state.set(obs.proprio.fields['joint_positions']!);
              state.set(obs.proprio.fields['gripper']!, nJoints);
              frames.push({ state, action: Float32Array.from(r.action), images: obs.images as Record<string, RawImage> });
            }
            success = env.success();
          }
          summary.attempts++;
          const retries = expert?.status().retries ?? 0;
          // a miss drawn but never reached (or never noticed) leaves nothing clean to keep
          if (missing && graspMiss(missing) !== 'none' && from < 0) success = false;
          if (success || o.keep === 'all') {
            const recorded = from > 0 ? frames.slice(from) : frames;
            for (const f of recorded) {
              await writer.addFrame({ values: { 'observation.state': f.state, action: f.action }, images: f.images, task: env.instruction });
            }
            await writer.saveEpisode();
            kept++;
            summary.episodes++;
            summary.frames += recorded.length;
            if (retries > 0) summary.retried++;
          }
          o.onEpisode?.({ task: t.name, attempt, success, steps, kept, handoff: handoffOutcome, retries });
        }
      } finally {
        if (!model) await policy.dispose();
        await env.close();
      }
      summary.perTask[t.name] = { kept, attempts: attempt };
    }
  } finally {
    await writer.finalize();
    await driver?.dispose();
  }
  return summary;
}

/**
 * Run `driver` as the evaluation does (its manifest's execute length) until step `at`, then on
 * until its hand is open, so the expert never starts by dropping a held object.
 */
async function driveUntilHandoff(
  env: TaskEnv,
  driver: Policy,
  o: { robot: RobotDescription; embodiment: string; at: number; maxSteps: number },
): Promise<{ steps: number; success: boolean }> {
  driver.reset();
  // the model drives as it does in an evaluation: its own schedule and execute length
  const loop = new ControlLoop({ policy: driver, robot: o.robot, embodiment: o.embodiment, schedule: scheduleFor(driver.metadata, o.embodiment) });
  let steps = 0;
  for (; steps < o.maxSteps; steps++) {
    const obs = await env.observe();
    if (steps >= o.at && (obs.proprio.fields['gripper']?.[0] ?? 0) >= HANDOFF_MIN_WIDTH) break;
    const r = await loop.step(obs, steps);
    env.apply(r.command);
    if (env.success()) return { steps: steps + 1, success: true };
  }
  return { steps, success: false };
}
