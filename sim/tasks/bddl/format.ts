/**
 * Writes a task back to BDDL in the layout of LIBERO's generated files
 * (libero/utils/bddl_generation_utils.py), so our suites can be stored as .bddl and
 * read by LIBERO's own parser. `parseBddl(formatBddl(t))` deep-equals `t` for any task
 * the parser produced, or `resolveTask` accepted, with lower-case names and a
 * language of single-space-separated words.
 */
import { formatFormula, formatPredicate, type BddlTask, type TaskEntity, type TaskRegion } from '../task.ts';
import { BddlError } from './error.ts';

const INDENT = '  ';
/** characters that would end an atom or start a comment */
const BREAKS_ATOM = /[\s();]/;

function num(x: number, source: string): string {
  if (!Number.isFinite(x)) throw new BddlError(`cannot write ${x} as a BDDL number: ranges, yaw and rgba must be finite`, source);
  // String() is the shortest text that parses back to the same double; keep the sign of -0.
  return Object.is(x, -0) ? '-0' : String(x);
}

function atomText(s: string, what: string, source: string): string {
  if (s.length === 0 || BREAKS_ATOM.test(s)) {
    throw new BddlError(`cannot write ${what} '${s}' as a BDDL atom: it must be non-empty without spaces, parentheses or ';'`, source);
  }
  return s;
}

function region(r: TaskRegion, source: string): string[] {
  const i = INDENT;
  const lines = [`${i}${i}${i}(${atomText(r.name, 'region name', source)}`, `${i.repeat(5)}(:target ${atomText(r.target, 'region target', source)})`];
  if (r.ranges.length > 0) {
    lines.push(`${i.repeat(5)}(:ranges (`);
    for (const rect of r.ranges) lines.push(`${i.repeat(7)}(${rect.map((x) => num(x, source)).join(' ')})`);
    lines.push(`${i.repeat(6)})`, `${i.repeat(5)})`);
  }
  if (r.yawRotation) {
    lines.push(`${i.repeat(5)}(:yaw_rotation (`, `${i.repeat(7)}(${r.yawRotation.map((x) => num(x, source)).join(' ')})`, `${i.repeat(6)})`, `${i.repeat(5)})`);
  }
  if (r.rgba) lines.push(`${i.repeat(5)}(:rgba (${r.rgba.map((x) => num(x, source)).join(' ')}))`);
  lines.push(`${i}${i}${i})`);
  return lines;
}

/** `a b - cat` lines, grouping neighbours of one category as LIBERO does. */
function declarations(entities: TaskEntity[], source: string): string[] {
  const lines: string[] = [];
  let k = 0;
  while (k < entities.length) {
    const category = entities[k].category;
    const names: string[] = [];
    while (k < entities.length && entities[k].category === category) names.push(atomText(entities[k++].name, 'name', source));
    lines.push(`${INDENT}${INDENT}${names.join(' ')} - ${atomText(category, 'category', source)}`);
  }
  return lines;
}

/** The task as a BDDL problem file (ends with a newline). `source` names the task in errors. */
export function formatBddl(task: BddlTask, source = '<task>'): string {
  const i = INDENT;
  const words = task.language.split(' ');
  words.forEach((w) => atomText(w, 'a word of the language', source));
  const out: string[] = [
    `(define (problem ${atomText(task.problem, 'problem name', source)})`,
    `${i}(:domain ${atomText(task.domain, 'domain', source)})`,
    `${i}(:language ${words.join(' ')})`,
    `${i}${i}(:regions`,
    ...task.regions.flatMap((r) => region(r, source)),
    `${i}${i})`,
    '',
    `${i}(:fixtures`,
    ...declarations(task.fixtures, source),
    `${i})`,
    '',
    `${i}(:objects`,
    ...declarations(task.objects, source),
    `${i})`,
    '',
    `${i}(:obj_of_interest`,
    ...task.objectsOfInterest.map((n) => `${i}${i}${atomText(n, 'object of interest', source)}`),
    `${i})`,
    '',
    `${i}(:init`,
    ...task.init.map((p) => `${i}${i}${formatPredicate(p)}`),
    `${i})`,
    '',
    `${i}(:goal`,
    `${i}${i}${formatFormula(task.goal)}`,
    `${i})`,
    '',
    ')',
    '',
  ];
  return out.join('\n');
}
