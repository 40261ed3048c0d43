/**
 * Writes the suites (the four LIBERO-style ones and dual_arm): `<suite>/<task>.bddl`, `<suite>/init/<task>.json` (50 init
 * layouts sampled from a seed derived from the task name) and `<suite>/index.json`.
 * Deterministic: running it twice writes the same bytes.
 *
 *   node --import tsx sim/tasks/suites/generate.ts [outDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../../src/util/random.ts';
import { formatBddl } from '../bddl/format.ts';
import { parseBddl } from '../bddl/parser.ts';
import { resolveTask } from '../task.ts';
import { sampleInitLayout } from '../task-scene.ts';
import { SUITE_TASKS } from './definitions.ts';
import { taskRobot } from '../robots.ts';
import { ALL_SUITES, INIT_FORMAT, INIT_STATES_PER_TASK, MAX_STEPS, SUITE_ROBOTS, SUITES_DIR, type InitStatesFile, type SuiteIndex } from './index.ts';

/** FNV-1a of a string: a stable per-task seed */
export function taskSeed(suite: string, task: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${suite}/${task}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** JSON with one init state per line: readable diffs when a layout changes */
function initText(f: InitStatesFile): string {
  const head = JSON.stringify({ ...f, states: [] }).replace(/"states":\[\]}$/, '"states": [');
  return `${head}\n${f.states.map((s) => `  ${JSON.stringify(s)}`).join(',\n')}\n]}\n`;
}

export function generateSuites(outDir: string = SUITES_DIR): { files: number } {
  let files = 0;
  for (const suite of ALL_SUITES) {
    const dir = join(outDir, suite);
    const { robot, cameras } = SUITE_ROBOTS[suite];
    const robotBase = taskRobot(robot).base;
    mkdirSync(join(dir, 'init'), { recursive: true });
    const names: string[] = [];
    for (const def of SUITE_TASKS[suite]) {
      const file = join(dir, `${def.name}.bddl`);
      const task = resolveTask(def.draft, file);
      const text = formatBddl(task, file);
      // what we write must read back as the same task
      const back = parseBddl(text, file);
      if (JSON.stringify(back) !== JSON.stringify(task)) throw new Error(`${file}: formatBddl/parseBddl round trip changed the task`);
      writeFileSync(file, text);
      const seed = taskSeed(suite, def.name);
      const rng = new Rng(seed);
      const states = Array.from({ length: INIT_STATES_PER_TASK }, () => sampleInitLayout(task, rng, { robotBase }));
      const init: InitStatesFile = { format: INIT_FORMAT, suite, task: def.name, seed, states };
      writeFileSync(join(dir, 'init', `${def.name}.json`), initText(init));
      names.push(def.name);
      files += 2;
    }
    const index: SuiteIndex = { suite, maxSteps: MAX_STEPS[suite], robot, cameras: [...cameras], tasks: names };
    writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
    files += 1;
  }
  return { files };
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  const out = process.argv[2] ? resolve(process.argv[2]) : SUITES_DIR;
  const { files } = generateSuites(out);
  console.log(`wrote ${files} files under ${out}`);
}
