/** Evaluation: what is run (episodes), how (config) and what comes back (results). */
import type { RtiTail } from '../../src/policy/samplers/rti.ts';
import type { ScheduleOverrides } from '../../src/schedule/create.ts';

/** How chunks become actions over the package's choice; `replan` gives every mode's actions per chunk. */
export type EvalSchedule = Omit<ScheduleOverrides, 'actionsPerChunk'>;

/** Which policy drives the episodes. */
export type PolicySource = { type: 'model'; dir: string; sampler?: string; steps?: number; rtiTail?: RtiTail; noiseScale?: number; eta?: number } | { type: 'expert'; noise?: number };

export interface EvalConfig {
  suite: string;
  policy: PolicySource;
  /** fixed init states per task: 0 .. episodes-1 (before sharding) */
  episodes: number;
  /** subset of task indices (default all) */
  tasks?: readonly number[];
  /** shard k of n over (task, init) pairs, for spreading an evaluation over machines */
  shard?: { index: number; count: number };
  workers: number;
  /** actions executed per chunk before replanning (LIBERO baselines: 5 or 8); default: the manifest's execute_length (else the whole chunk); ensemble: 1 as ACT unless the package chose ensemble */
  replan?: number;
  /** chunk execution chosen over the package's (execute-then-replan, ACT temporal ensembling, real-time-chunking blending) */
  schedule?: EvalSchedule;
  seed: number;
  /** rendered camera size, px */
  imageSize: number;
  /** save an mp4 (agentview, else the robot's first camera) for the first N episodes of each task */
  videosPerTask: number;
  /** output folder (results, report, videos); also the resume state */
  out: string;
  /** override the suite's max steps */
  maxSteps?: number;
  /** robot description id to run the suite with instead of the suite's own (e.g. a Franka suite on another arm) */
  robot?: string;
  /**
   * validation: run on fresh layouts from this seed's stream (as `armature record --seed` draws them)
   * instead of the suite's fixed init states, so settings are chosen without touching the test states
   */
  layouts?: number;
}

export interface EpisodeSpec {
  suite: string;
  taskIndex: number;
  task: string;
  init: number;
  video: boolean;
}

export type EpisodeOutcome = 'success' | 'timeout' | 'error';

export interface EpisodeResult extends EpisodeSpec {
  outcome: EpisodeOutcome;
  success: boolean;
  /** policy steps taken (after settling) */
  steps: number;
  /** why it ended: 'goal reached at step 57', 'max steps 220 reached', or the error */
  reason: string;
  wallS: number;
  /** relative path of the rollout video, when recorded */
  video_file?: string;
  instruction: string;
  safety_interventions: number;
  inferences: number;
  /** denoiser / velocity-field evaluations in the episode (diffusion, flow; else 0) */
  model_evaluations: number;
}

export interface TaskSummary {
  task: string;
  instruction: string;
  episodes: number;
  successes: number;
  success_rate: number;
  timeouts: number;
  errors: number;
  mean_steps_success: number | null;
}

export interface EvalSummary {
  suite: string;
  policy: string;
  episodes: number;
  successes: number;
  success_rate: number;
  tasks: TaskSummary[];
  seed: number;
  wall_s: number;
  episodes_per_hour: number;
  /** denoiser / velocity-field evaluations per executed action, over every episode (0 for other kinds) */
  nfe_per_action: number;
  workers: number;
  config: Omit<EvalConfig, 'out'>;
}

/** Seed of one episode's randomness (policy noise, expert noise) from the evaluation seed, task and init state. */
export function episodeSeed(seed: number, e: Pick<EpisodeSpec, 'taskIndex' | 'init'>): number {
  return (seed * 1_000_003 + e.taskIndex * 7919 + e.init) >>> 0;
}

/** Stable key of an episode, for resuming. */
export function episodeKey(e: Pick<EpisodeSpec, 'suite' | 'task' | 'init'>): string {
  return `${e.suite}/${e.task}/${e.init}`;
}
