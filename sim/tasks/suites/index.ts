/**
 * Loading the shipped task suites: `<suite>/index.json` (task order, max steps, robot and
 * cameras), `sim/tasks/suites/<suite>/<task>.bddl` plus
 * `init/<task>.json` (50 fixed initial layouts), in the order of `<suite>/index.json`.
 * The files are written by `node --import tsx sim/tasks/suites/generate.ts`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArmatureError } from '../../../src/errors.ts';
import { parseBddl } from '../bddl/parser.ts';
import type { BddlTask } from '../task.ts';
import type { InitLayout } from '../task-scene.ts';

/** The four LIBERO-style suites (Franka). */
export const SUITES = ['spatial', 'object', 'goal', 'long'] as const;
/** Every shipped suite: the LIBERO-style four and the dual-arm suite. */
export const ALL_SUITES = [...SUITES, 'dual_arm'] as const;
export type Suite = (typeof ALL_SUITES)[number];

/** Episode limits, policy steps after the 10 settling steps (LIBERO's for its four suites) */
export const MAX_STEPS: Readonly<Record<Suite, number>> = { spatial: 220, object: 280, goal: 300, long: 520, dual_arm: 400 };

/** Who performs each suite: robot description id and the cameras a policy sees. */
export const SUITE_ROBOTS: Readonly<Record<Suite, { robot: string; cameras: readonly string[] }>> = {
  spatial: { robot: 'franka/fr3', cameras: ['agentview', 'eye_in_hand'] },
  object: { robot: 'franka/fr3', cameras: ['agentview', 'eye_in_hand'] },
  goal: { robot: 'franka/fr3', cameras: ['agentview', 'eye_in_hand'] },
  long: { robot: 'franka/fr3', cameras: ['agentview', 'eye_in_hand'] },
  dual_arm: { robot: 'agibot/dual_arm', cameras: ['head', 'left_wrist', 'right_wrist'] },
};

/** fixed initial states per task (LIBERO) */
export const INIT_STATES_PER_TASK = 50;

export const SUITES_DIR = fileURLToPath(new URL('.', import.meta.url));

export const INIT_FORMAT = 'armature.init_states/1';

/** What `init/<task>.json` holds. */
export interface InitStatesFile {
  format: typeof INIT_FORMAT;
  suite: string;
  task: string;
  /** seed the layouts were sampled from */
  seed: number;
  states: InitLayout[];
}

export interface SuiteIndex {
  suite: Suite;
  maxSteps: number;
  /** robot description id the suite is made for (absent in older files: 'franka/fr3') */
  robot?: string;
  /** cameras a policy sees (absent in older files: the robot's cameras) */
  cameras?: string[];
  /** task names in order */
  tasks: string[];
}

export interface SuiteTask {
  name: string;
  /** path of the .bddl file */
  file: string;
  task: BddlTask;
  initStates: InitLayout[];
}

export interface LoadedSuite {
  name: Suite;
  maxSteps: number;
  /** robot description id, e.g. 'franka/fr3', 'agibot/dual_arm' */
  robot: string;
  /** cameras a policy sees */
  cameras: readonly string[];
  tasks: SuiteTask[];
}

export class SuiteError extends ArmatureError {
  constructor(message: string) {
    super('task.suite', message);
  }
}

export function isSuite(name: string): name is Suite {
  return (ALL_SUITES as readonly string[]).includes(name);
}

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new SuiteError(`${what} ${path} is missing: run 'node --import tsx sim/tasks/suites/generate.ts'`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SuiteError(`${what} ${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}): regenerate it`);
  }
}

/** Reads an init-state file and checks its shape. */
export function readInitStates(path: string): InitStatesFile {
  const data = readJson(path, 'init-state file') as Partial<InitStatesFile>;
  if (data.format !== INIT_FORMAT || !Array.isArray(data.states)) {
    throw new SuiteError(`init-state file ${path} is not in format '${INIT_FORMAT}' (missing format or states): regenerate it`);
  }
  data.states.forEach((s, i) => {
    if (!s || !Array.isArray(s.placements) || s.placements.some((p) => typeof p.name !== 'string' || !Array.isArray(p.pos) || p.pos.length !== 3 || typeof p.yaw !== 'number')) {
      throw new SuiteError(`init-state file ${path}: state ${i} must be {placements: [{name, pos: [x, y, z], yaw}]}`);
    }
  });
  return data as InitStatesFile;
}

/** One suite's tasks with their parsed BDDL and init states. `dir` defaults to the shipped suites. */
export function loadSuite(name: string, opts: { dir?: string } = {}): LoadedSuite {
  if (!isSuite(name)) throw new SuiteError(`unknown suite '${name}': suites are ${ALL_SUITES.join(', ')}`);
  const dir = join(opts.dir ?? SUITES_DIR, name);
  const index = readJson(join(dir, 'index.json'), 'suite index') as SuiteIndex;
  const tasks = index.tasks.map((t): SuiteTask => {
    const file = join(dir, `${t}.bddl`);
    if (!existsSync(file)) throw new SuiteError(`suite '${name}' lists task '${t}' but ${file} is missing: regenerate the suite`);
    const task = parseBddl(readFileSync(file, 'utf8'), file);
    const init = readInitStates(join(dir, 'init', `${t}.json`));
    return { name: t, file, task, initStates: init.states };
  });
  const robot = index.robot ?? SUITE_ROBOTS[name].robot;
  const cameras = index.cameras ?? SUITE_ROBOTS[name].cameras;
  return { name, maxSteps: MAX_STEPS[name], robot, cameras, tasks };
}
