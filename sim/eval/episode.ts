/**
 * One evaluation episode under the LIBERO protocol: restore fixed init state i,
 * 10 no-op settling steps, then policy steps until the goal holds (checked on
 * physics after every step) or the step limit.
 */
import { join } from 'node:path';
import { ArmatureError } from '../../src/errors.ts';
import type { Policy } from '../../src/policy/types.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import type { ScheduleOptions } from '../../src/schedule/index.ts';
import type { Observation } from '../../src/observation/types.ts';
import { VideoEncoder } from '../dataset/video.ts';
import type { TaskEnv } from '../tasks/task-env.ts';
import { episodeSeed, type EpisodeResult, type EpisodeSpec } from './types.ts';

export interface EpisodeContext {
  env: TaskEnv;
  policy: Policy;
  robot: RobotDescription;
  /** the policy's embodiment key to act for (default: its first) */
  embodiment?: string;
  /** camera recorded into rollout videos (default 'agentview') */
  videoCamera?: string;
  schedule: ScheduleOptions;
  maxSteps: number;
  /** folder for videos (relative names are stored in results) */
  out: string;
  fps: number;
  /** evaluation seed; each episode's policy noise is seeded from (seed, task, init) */
  seed?: number;
}

/** The head (embodiment key) trained for this robot's description id, else the one named like its embodiment key. */
function headFor(robots: Readonly<Record<string, string | undefined>>, robot: { readonly id: string; readonly embodiment: string }): string | undefined {
  return Object.keys(robots).find((k) => robots[k] === robot.id) ?? (robot.embodiment in robots ? robot.embodiment : undefined);
}

/**
 * The policy's embodiment for this robot: the one trained for the robot's description id, else the
 * one named like its embodiment key, else (a single-robot policy run on another robot, e.g. an FR3
 * policy on the UR5e, both in end-effector deltas) its only one. A multi-robot policy with no head
 * for the robot is refused rather than silently driven with another robot's head.
 */
export function embodimentFor(policy: Pick<Policy, 'metadata'>, robot: { readonly id: string; readonly embodiment: string }): string {
  const meta = policy.metadata;
  const keys = Object.keys(meta.embodiments);
  const head = headFor(Object.fromEntries(keys.map((k) => [k, meta.embodimentRobots?.[k]])), robot);
  if (head !== undefined) return head;
  if (keys.length === 1) return keys[0]!;
  throw new ArmatureError('eval.embodiment', `model ${meta.name} has heads for ${keys.map((k) => `${k} (${meta.embodimentRobots?.[k] ?? '?'})`).join(', ')} but none for robot '${robot.id}'; pick one of those robots with --robot, or train a head for it`);
}

/**
 * The robot to evaluate a model with when none is asked for: the suite's own when the model has a
 * head for it (by robot id or embodiment key), else the model's robot when it drives exactly one
 * simulated robot (a UR5e-only policy on a Franka suite runs with the UR5e); undefined = the suite's.
 */
export function defaultRobotFor(
  embodiments: Readonly<Record<string, { readonly robot: string }>>,
  suiteRobot: string,
  simulated: (id: string) => boolean,
): string | undefined {
  const entries = Object.entries(embodiments);
  const robots = Object.fromEntries(entries.map(([key, e]) => [key, e.robot]));
  if (headFor(robots, { id: suiteRobot, embodiment: suiteRobot.split('/')[0]! }) !== undefined) return undefined;
  if (entries.length === 1 && simulated(entries[0]![1].robot)) return entries[0]![1].robot;
  return undefined;
}

/** The RGB bytes of a rendered frame, tightly packed (rgb8 frames from the renderer already are). */
function rgbBytes(obs: Observation, camera: string): Uint8Array | null {
  const f = obs.images[camera];
  if (!f || f.type !== 'raw' || f.encoding !== 'rgb8') return null;
  return f.step === f.width * 3 ? f.data : null;
}

export async function runEpisode(ctx: EpisodeContext, spec: EpisodeSpec): Promise<EpisodeResult> {
  const t0 = performance.now();
  const { env } = ctx;
  const embodiment = ctx.embodiment ?? Object.keys(ctx.policy.metadata.embodiments)[0]!;
  const camera = ctx.videoCamera ?? 'agentview';
  const loop = new ControlLoop({ policy: ctx.policy, robot: ctx.robot, embodiment, schedule: ctx.schedule });
  // the policy is reused across episodes: restart its warm starts and its noise from the
  // episode's own seed, so the outcome does not depend on which worker ran it or what ran before,
  // and episodes do not all share one noise sequence
  loop.reset(ctx.seed === undefined ? undefined : episodeSeed(ctx.seed, spec));
  // restores fixed init state i and runs LIBERO's 10 no-op settling steps
  env.reset(spec.init);
  const base = {
    ...spec,
    instruction: env.instruction,
  };
  let video: VideoEncoder | null = null;
  const videoFile = spec.video ? join('videos', `${spec.task}__init${String(spec.init).padStart(3, '0')}.mp4`) : undefined;
  let steps = 0;
  try {
    for (; steps < ctx.maxSteps; ) {
      // render only when the policy will look (or a video is being recorded)
      const obs = await env.observe({ images: videoFile !== undefined || loop.needsImages(steps) });
      if (videoFile) {
        const rgb = rgbBytes(obs, camera);
        if (rgb) {
          const f = obs.images[camera]!;
          if (f.type === 'raw') video ??= await VideoEncoder.start({ file: join(ctx.out, videoFile), width: f.width, height: f.height, fps: ctx.fps });
          await video!.write(rgb);
        }
      }
      const r = await loop.step(obs, steps);
      env.apply(r.command);
      steps++;
      if (env.success()) {
        return finish('success', `goal reached at step ${steps}`);
      }
    }
    return finish('timeout', `max steps ${ctx.maxSteps} reached`);
  } catch (e) {
    return finish('error', (e as Error).message);
  } finally {
    await video?.close().catch(() => undefined);
  }

  function finish(outcome: EpisodeResult['outcome'], reason: string): EpisodeResult {
    const s = loop.stats();
    const interventions = Object.values(s.safety.counts).reduce((a, b) => a + b, 0);
    return {
      ...base,
      outcome,
      success: outcome === 'success',
      steps,
      reason,
      wallS: (performance.now() - t0) / 1000,
      video_file: videoFile && video ? videoFile : undefined,
      safety_interventions: interventions,
      inferences: s.inferences,
      model_evaluations: s.modelEvaluations,
    };
  }
}
