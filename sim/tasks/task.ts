/**
 * The typed task model behind LIBERO-style BDDL files.
 *
 * A task places objects and fixtures in named regions (`:init`) and states a goal
 * formula over them (`:goal`). Names follow LIBERO: a region `top_region` whose
 * `:target` is `wooden_cabinet_1` is referred to as `wooden_cabinet_1_top_region`
 * (LIBERO's `robosuite_parse_problem` keys regions as `target + "_" + name`).
 * Identifiers are lower case, as LIBERO's reader folds the whole file to lower case;
 * the problem name and language keep the case they were written in.
 *
 * Positions are in the frame of the region's target (metres, LIBERO's table frame:
 * x towards the robot's front, y to its left), yaw in radians about +z.
 */
import { BddlError } from './bddl/error.ts';

/** Axis-aligned rectangle [x0, y0, x1, y1] in the target's frame, m; x0 <= x1, y0 <= y1. */
export type Rect = [number, number, number, number];

export interface TaskRegion {
  /** name local to its target, e.g. 'top_region' */
  name: string;
  /** the fixture or object the region belongs to, e.g. 'wooden_cabinet_1' or 'kitchen_table' */
  target: string;
  /** sampling rectangles, m; empty for regions that are sites of the target (drawer, stove burner) */
  ranges: Rect[];
  /** [min, max] yaw sampled for objects placed here, rad; absent means LIBERO's default [0, 0] */
  yawRotation?: [number, number];
  /** debug colour of the region's site, [r, g, b, a] in 0..1 */
  rgba?: [number, number, number, number];
}

/** A declared object or fixture: `name - category`. */
export interface TaskEntity {
  name: string;
  /** LIBERO category, e.g. 'akita_black_bowl' (see categories.ts) */
  category: string;
}

export interface PredicateInfo {
  /** number of arguments, or 'any' for LIBERO's variadic true/false */
  arity: number | 'any';
  /** spelling used when writing BDDL (LIBERO's files capitalise the first letter) */
  bddl: string;
  /** whether Armature's success checker evaluates it; the others parse but cannot be scored */
  evaluated: boolean;
  doc: string;
}

/**
 * Predicates LIBERO defines (libero/envs/predicates). Keys are lower case: BDDL is case-insensitive.
 * `up`, `stack`, `incontact` and `printjointstate` exist in LIBERO but none of its suites use them.
 */
export const PREDICATES = {
  on: { arity: 2, bddl: 'On', evaluated: true, doc: 'arg1 rests on top of arg2 (object or region)' },
  in: { arity: 2, bddl: 'In', evaluated: true, doc: 'arg1 is inside and touching arg2 (container object or region)' },
  open: { arity: 1, bddl: 'Open', evaluated: true, doc: 'articulated arg (drawer region, microwave) is open' },
  close: { arity: 1, bddl: 'Close', evaluated: true, doc: 'articulated arg is closed' },
  turnon: { arity: 1, bddl: 'Turnon', evaluated: true, doc: 'switchable arg (stove) is on' },
  turnoff: { arity: 1, bddl: 'Turnoff', evaluated: true, doc: 'switchable arg is off' },
  grasped: { arity: 2, bddl: 'Grasped', evaluated: true, doc: 'gripper arg1 (gripper, left_gripper, ...) holds arg2: both its fingers touch it (Armature)' },
  lifted: { arity: 1, bddl: 'Lifted', evaluated: true, doc: 'arg is held up: its bottom 5 cm or more above the table top, not touching the table (Armature)' },
  true: { arity: 'any', bddl: 'True', evaluated: true, doc: 'always true' },
  false: { arity: 'any', bddl: 'False', evaluated: true, doc: 'always false' },
  up: { arity: 1, bddl: 'Up', evaluated: false, doc: 'arg is lifted above z = 1.0 m (LIBERO)' },
  stack: { arity: 2, bddl: 'Stack', evaluated: false, doc: 'arg1 is stacked on and contained by arg2 (LIBERO, unused)' },
  incontact: { arity: 2, bddl: 'InContact', evaluated: false, doc: 'arg1 touches arg2 (LIBERO, disabled there)' },
  printjointstate: { arity: 1, bddl: 'PrintJointState', evaluated: false, doc: 'LIBERO debug predicate: prints joint state, always true' },
} as const satisfies Record<string, PredicateInfo>;

export type PredicateName = keyof typeof PREDICATES;

export function isPredicateName(s: string): s is PredicateName {
  return Object.prototype.hasOwnProperty.call(PREDICATES, s);
}

/** What a predicate argument names. */
export type ArgRef =
  | { kind: 'object'; name: string }
  | { kind: 'fixture'; name: string }
  /** `name` is local to `owner` (the region's target); the BDDL token is `${owner}_${name}` */
  | { kind: 'region'; name: string; owner: string }
  /**
   * A robot gripper, never declared: `gripper` (any of the robot's grippers) or
   * `<arm>_gripper` (`left_gripper`, `right_gripper`; arm names from the robot description).
   */
  | { kind: 'gripper'; name: string; /** arm name, null for any */ arm: string | null };

/** `gripper` or `<arm>_gripper`: the ArgRef of a gripper token, else undefined. */
export function gripperRef(token: string): ArgRef | undefined {
  const m = /^(?:([a-z0-9]+(?:_[a-z0-9]+)*)_)?gripper$/.exec(token);
  return m ? { kind: 'gripper', name: token, arm: m[1] ?? null } : undefined;
}

/** One atomic predicate, e.g. (On akita_black_bowl_1 plate_1). */
export interface Predicate {
  type: 'atom';
  predicate: PredicateName;
  /** argument tokens as written in BDDL (lower case) */
  args: string[];
  /** each argument resolved against the task's declarations, same order as args */
  refs: ArgRef[];
}

export type Formula =
  | { type: 'and' | 'or'; args: Formula[] }
  | { type: 'not'; arg: Formula }
  | Predicate;

export interface BddlTask {
  /** LIBERO uses scene-family names such as 'LIBERO_Kitchen_Tabletop_Manipulation' */
  problem: string;
  /** 'robosuite' in every LIBERO file */
  domain: string;
  /** instruction as written, words joined by single spaces (see liberoInstruction) */
  language: string;
  regions: TaskRegion[];
  fixtures: TaskEntity[];
  objects: TaskEntity[];
  /** names of objects, fixtures or regions the task is about (LIBERO's :obj_of_interest) */
  objectsOfInterest: string[];
  init: Predicate[];
  goal: Formula;
}

/** The BDDL token that names a region: `${target}_${name}`. */
export function regionKey(region: Pick<TaskRegion, 'name' | 'target'>): string {
  return `${region.target}_${region.name}`;
}

/**
 * The instruction as LIBERO's environment reports it: its reader lower-cases the whole
 * file, so policies trained on LIBERO data saw lower-case prompts.
 */
export function liberoInstruction(task: Pick<BddlTask, 'language'>): string {
  return task.language.toLowerCase().split(/\s+/).filter(Boolean).join(' ');
}

/**
 * Name lookup for predicate arguments: objects, fixtures and region keys.
 * `add` returns the entry a name already had, so callers can report clashes with a position.
 */
export class TaskScope {
  private readonly names = new Map<string, ArgRef>();

  add(token: string, ref: ArgRef): ArgRef | undefined {
    const prior = this.names.get(token);
    if (!prior) this.names.set(token, ref);
    return prior;
  }

  /** a declared name, else a gripper token (see gripperRef) */
  resolve(token: string): ArgRef | undefined {
    return this.names.get(token) ?? gripperRef(token);
  }

  /** the declared name closest to `token` (edit distance at most 1/3 of its length), for "did you mean" */
  suggest(token: string): string | undefined {
    let best: string | undefined;
    let bestD = Math.max(2, Math.floor(token.length / 3)) + 1;
    for (const name of this.names.keys()) {
      const d = editDistance(token, name, bestD);
      if (d < bestD) {
        bestD = d;
        best = name;
      }
    }
    return best;
  }

  static of(task: Pick<BddlTask, 'regions' | 'fixtures' | 'objects'>): TaskScope {
    const scope = new TaskScope();
    for (const f of task.fixtures) scope.add(f.name, { kind: 'fixture', name: f.name });
    for (const o of task.objects) scope.add(o.name, { kind: 'object', name: o.name });
    for (const r of task.regions) scope.add(regionKey(r), { kind: 'region', name: r.name, owner: r.target });
    return scope;
  }
}

/** Levenshtein distance, giving up (returning `cap`) once every path exceeds it. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length], cap);
}

/** A predicate before its arguments are resolved: what code writes when it builds a task. */
export interface PredicateDraft {
  type: 'atom';
  predicate: PredicateName;
  args: string[];
}

export type FormulaDraft =
  | { type: 'and' | 'or'; args: FormulaDraft[] }
  | { type: 'not'; arg: FormulaDraft }
  | PredicateDraft;

export type TaskDraft = Omit<BddlTask, 'init' | 'goal'> & { init: PredicateDraft[]; goal: FormulaDraft };

/**
 * Checks a task built in code the way the parser checks a file (declared names, arity,
 * region targets) and fills in `refs`. Errors are BddlErrors naming `source`.
 */
export function resolveTask(draft: TaskDraft, source = '<task>'): BddlTask {
  const scope = new TaskScope();
  const declare = (token: string, ref: ArgRef, what: string): void => {
    if (scope.add(token, ref)) throw new BddlError(`${what} '${token}' is declared twice: rename one`, source);
  };
  for (const f of draft.fixtures) declare(f.name, { kind: 'fixture', name: f.name }, 'fixture');
  for (const o of draft.objects) declare(o.name, { kind: 'object', name: o.name }, 'object');
  for (const r of draft.regions) {
    const t = scope.resolve(r.target);
    if (!t || t.kind === 'region' || t.kind === 'gripper') {
      throw new BddlError(`region '${r.name}' targets '${r.target}', which is not a declared fixture or object: declare it or fix :target`, source);
    }
  }
  for (const r of draft.regions) declare(regionKey(r), { kind: 'region', name: r.name, owner: r.target }, 'region');
  const ref = (token: string, where: string): ArgRef => {
    const found = scope.resolve(token);
    if (!found) {
      const hint = scope.suggest(token);
      throw new BddlError(`'${token}' in ${where} is never declared in :objects, :fixtures or :regions${hint ? ` (did you mean '${hint}'?)` : ''}`, source);
    }
    return found;
  };
  const atom = (p: PredicateDraft, where: string): Predicate => {
    if (!isPredicateName(p.predicate)) throw new BddlError(`unknown predicate '${p.predicate}' in ${where}: known are ${Object.keys(PREDICATES).join(', ')}`, source);
    const arity = PREDICATES[p.predicate].arity;
    if (arity !== 'any' && p.args.length !== arity) {
      throw new BddlError(`'${PREDICATES[p.predicate].bddl}' takes ${arity} argument${arity === 1 ? '' : 's'}, found ${p.args.length} in ${where}`, source);
    }
    return { type: 'atom', predicate: p.predicate, args: [...p.args], refs: p.args.map((a) => ref(a, where)) };
  };
  const formula = (f: FormulaDraft): Formula => {
    if (f.type === 'atom') return atom(f, ':goal');
    if (f.type === 'not') return { type: 'not', arg: formula(f.arg) };
    if (f.args.length === 0) throw new BddlError(`'${f.type}' in :goal needs at least one condition`, source);
    return { type: f.type, args: f.args.map(formula) };
  };
  for (const name of draft.objectsOfInterest) ref(name, ':obj_of_interest');
  return {
    problem: draft.problem,
    domain: draft.domain,
    language: draft.language,
    regions: draft.regions.map((r) => structuredClone(r)),
    fixtures: draft.fixtures.map((f) => ({ ...f })),
    objects: draft.objects.map((o) => ({ ...o })),
    objectsOfInterest: [...draft.objectsOfInterest],
    init: draft.init.map((p) => atom(p, ':init')),
    goal: formula(draft.goal),
  };
}

/** One predicate in BDDL spelling, e.g. `(On akita_black_bowl_1 plate_1)`. */
export function formatPredicate(p: Pick<Predicate, 'predicate' | 'args'>): string {
  return `(${[PREDICATES[p.predicate].bddl, ...p.args].join(' ')})`;
}

/** A formula on one line in BDDL spelling, e.g. `(And (Open x) (On a b))`. */
export function formatFormula(f: Formula | FormulaDraft): string {
  switch (f.type) {
    case 'atom':
      return formatPredicate(f);
    case 'not':
      return `(Not ${formatFormula(f.arg)})`;
    case 'and':
    case 'or':
      return `(${f.type === 'and' ? 'And' : 'Or'} ${f.args.map(formatFormula).join(' ')})`;
  }
}

/** Predicates used in the goal that Armature cannot score, without repeats. */
export function unevaluatedPredicates(goal: Formula): PredicateName[] {
  const out = new Set<PredicateName>();
  const walk = (f: Formula): void => {
    if (f.type === 'atom') {
      if (!PREDICATES[f.predicate].evaluated) out.add(f.predicate);
    } else if (f.type === 'not') walk(f.arg);
    else f.args.forEach(walk);
  };
  walk(goal);
  return [...out];
}

type JsonFormula =
  | { type: 'and' | 'or'; args: JsonFormula[] }
  | { type: 'not'; arg: JsonFormula }
  | { type: 'atom'; predicate: PredicateName; args: string[]; refs: ArgRef[]; evaluated: boolean };

export interface TaskJson {
  problem: string;
  domain: string;
  language: string;
  /** the instruction LIBERO-trained policies expect (lower case) */
  instruction: string;
  fixtures: TaskEntity[];
  objects: TaskEntity[];
  objectsOfInterest: string[];
  regions: (TaskRegion & { key: string })[];
  init: { bddl: string; predicate: PredicateName; args: string[]; refs: ArgRef[] }[];
  goal: JsonFormula;
  /** the goal on one line, in BDDL */
  goalBddl: string;
  /** goal predicates Armature cannot score; non-empty means success cannot be checked */
  unevaluated: PredicateName[];
}

/** Plain JSON view of a task for `armature tasks parse <file.bddl>`. */
export function taskToJson(task: BddlTask): TaskJson {
  const formula = (f: Formula): JsonFormula => {
    if (f.type === 'atom') {
      return { type: 'atom', predicate: f.predicate, args: [...f.args], refs: f.refs.map((r) => ({ ...r })), evaluated: PREDICATES[f.predicate].evaluated };
    }
    if (f.type === 'not') return { type: 'not', arg: formula(f.arg) };
    return { type: f.type, args: f.args.map(formula) };
  };
  return {
    problem: task.problem,
    domain: task.domain,
    language: task.language,
    instruction: liberoInstruction(task),
    fixtures: task.fixtures.map((e) => ({ ...e })),
    objects: task.objects.map((e) => ({ ...e })),
    objectsOfInterest: [...task.objectsOfInterest],
    regions: task.regions.map((r) => ({ key: regionKey(r), ...structuredClone(r) })),
    init: task.init.map((p) => ({ bddl: formatPredicate(p), predicate: p.predicate, args: [...p.args], refs: p.refs.map((r) => ({ ...r })) })),
    goal: formula(task.goal),
    goalBddl: formatFormula(task.goal),
    unevaluated: unevaluatedPredicates(task.goal),
  };
}
