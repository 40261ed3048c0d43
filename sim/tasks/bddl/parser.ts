/**
 * Recursive-descent parser from BDDL problem files to the task model (../task.ts).
 *
 * Grammar (LIBERO's dialect; sections in any order, each at most once):
 *   file     := '(' 'define' '(' 'problem' NAME ')' section* ')'
 *   section  := '(' ':domain' NAME ')' | '(' ':language' WORD+ ')' | '(' ':requirements' ANY* ')'
 *             | '(' ':regions' region* ')' | '(' ':fixtures' decl* ')' | '(' ':objects' decl* ')'
 *             | '(' ':obj_of_interest' NAME* ')' | '(' ':init' atom* ')' | '(' ':goal' formula ')'
 *   region   := '(' NAME ( '(' ':target' NAME ')' | '(' ':ranges' '(' rect* ')' ')'
 *                        | '(' ':yaw_rotation' '(' '(' NUM NUM ')' ')' ')' | '(' ':rgba' '(' NUM NUM NUM NUM ')' ')' )* ')'
 *   rect     := '(' NUM NUM NUM NUM ')'
 *   decl     := NAME+ '-' CATEGORY
 *   formula  := '(' ('and'|'or') formula+ ')' | '(' 'not' formula ')' | atom
 *   atom     := '(' PREDICATE NAME* ')'
 * Keywords, names and predicates are case-insensitive (folded to lower case, as LIBERO does).
 */
import {
  PREDICATES,
  TaskScope,
  isPredicateName,
  regionKey,
  type ArgRef,
  type BddlTask,
  type Formula,
  type Predicate,
  type Rect,
  type TaskEntity,
  type TaskRegion,
} from '../task.ts';
import { BddlError, type SourcePos } from './error.ts';
import { describe, readForm, type SAtom, type SExpr, type SList } from './lexer.ts';

export interface ParseOptions {
  /**
   * Reject every region whose :target is not a declared fixture or object. Off by default
   * because LIBERO's own files carry such regions (e.g. `bowl_drainer_1` regions in
   * libero_goal); with it off they are an error only when :init, :goal or
   * :obj_of_interest use them.
   */
  strictRegionTargets?: boolean;
}

const SECTIONS = [':domain', ':language', ':requirements', ':regions', ':fixtures', ':objects', ':obj_of_interest', ':init', ':goal'] as const;
type Section = (typeof SECTIONS)[number];
const REGION_ATTRIBUTES = [':target', ':ranges', ':yaw_rotation', ':rgba'] as const;

const NAME = /^[a-z][a-z0-9_]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one BDDL problem file. `source` names the file in error messages. */
export function parseBddl(text: string, source = '<bddl>', options: ParseOptions = {}): BddlTask {
  return new Parser(source, options).file(readForm(text, source));
}

class Parser {
  private readonly scope = new TaskScope();
  /** regions whose :target is undeclared, by region key, with the :target token */
  private readonly orphanRegions = new Map<string, SAtom>();

  constructor(
    private readonly source: string,
    private readonly options: ParseOptions,
  ) {}

  private fail(pos: SourcePos, detail: string): never {
    throw new BddlError(detail, this.source, { line: pos.line, col: pos.col });
  }

  file(root: SList): BddlTask {
    const head = root.items[0];
    if (!head || head.type !== 'atom' || head.text.toLowerCase() !== 'define') {
      this.fail(head ?? root.end, `expected 'define' after the first '(', found ${describe(head)}`);
    }
    let problem: string | undefined;
    const sections = new Map<Section, SList>();
    for (const item of root.items.slice(1)) {
      if (item.type !== 'list') this.fail(item, `expected '(problem NAME)' or a section such as '(:objects ...)', found ${describe(item)}`);
      const h = item.items[0];
      if (!h || h.type !== 'atom') this.fail(h ?? item.end, `expected a section keyword such as ':objects', found ${describe(h)}`);
      const key = h.text.toLowerCase();
      if (key === 'problem') {
        if (problem !== undefined) this.fail(h, "expected one '(problem NAME)', found a second: remove it");
        problem = this.problemName(item);
        continue;
      }
      if (!(SECTIONS as readonly string[]).includes(key)) {
        this.fail(h, `expected a section (${SECTIONS.join(', ')}), found unknown section '${h.text}'`);
      }
      const prior = sections.get(key as Section);
      if (prior) this.fail(h, `expected section '${key}' once, found it again (first at ${prior.line}:${prior.col}): merge them`);
      sections.set(key as Section, item);
    }
    if (problem === undefined) this.fail(root, "expected '(problem NAME)' inside '(define ...)', found none: add it after 'define'");

    const language = sections.get(':language');
    if (!language) this.fail(root, "expected a '(:language ...)' section with the task instruction, found none");
    const goal = sections.get(':goal');
    if (!goal) this.fail(root, "expected a '(:goal ...)' section, found none");

    // Declarations first: sections may come in any order, and references need them all.
    const fixtures = this.declarations(sections.get(':fixtures'), 'fixture');
    const objects = this.declarations(sections.get(':objects'), 'object');
    const regions = this.regions(sections.get(':regions'));

    return {
      problem,
      domain: this.domain(sections.get(':domain')),
      language: this.language(language),
      regions,
      fixtures,
      objects,
      objectsOfInterest: this.objectsOfInterest(sections.get(':obj_of_interest')),
      init: this.init(sections.get(':init')),
      goal: this.goal(goal),
    };
  }

  private problemName(list: SList): string {
    const name = list.items[1];
    if (!name) this.fail(list.end, "expected a problem name after 'problem', found ')'");
    if (name.type !== 'atom') this.fail(name, `expected a problem name after 'problem', found ${describe(name)}`);
    if (list.items[2]) this.fail(list.items[2], `expected ')' after the problem name, found ${describe(list.items[2])}`);
    return name.text;
  }

  private domain(list: SList | undefined): string {
    if (!list) return 'robosuite';
    return this.singleName(list, 'a domain name such as robosuite').text.toLowerCase();
  }

  /** `(:keyword NAME)` with exactly one atom */
  private singleName(list: SList, what: string): SAtom {
    const v = list.items[1];
    if (!v) this.fail(list.end, `expected ${what}, found ')'`);
    if (v.type !== 'atom') this.fail(v, `expected ${what}, found ${describe(v)}`);
    if (list.items[2]) this.fail(list.items[2], `expected ')' after ${describe(v)}, found ${describe(list.items[2])}`);
    return v;
  }

  private language(list: SList): string {
    const words = list.items.slice(1).map((w) => {
      if (w.type !== 'atom') this.fail(w, `expected words of the instruction, found ${describe(w)}: the instruction cannot contain parentheses`);
      return w.text;
    });
    if (words.length === 0) this.fail(list.end, "expected the task instruction after ':language', found ')'");
    return words.join(' ');
  }

  private name(a: SExpr, what: string): string {
    if (a.type !== 'atom') this.fail(a, `expected ${what}, found ${describe(a)}`);
    const name = a.text.toLowerCase();
    if (!NAME.test(name)) this.fail(a, `expected ${what} (a letter, then letters, digits or '_'), found '${a.text}'`);
    return name;
  }

  /** `name1 name2 - category ...` as in LIBERO's :objects and :fixtures */
  private declarations(list: SList | undefined, kind: 'object' | 'fixture'): TaskEntity[] {
    if (!list) return [];
    const out: TaskEntity[] = [];
    let pending: SAtom[] = [];
    const items = list.items.slice(1);
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      if (item.type !== 'atom') this.fail(item, `expected ${kind} names followed by '- CATEGORY', found ${describe(item)}`);
      if (item.text !== '-') {
        pending.push(item);
        continue;
      }
      if (pending.length === 0) this.fail(item, `expected ${kind} names before '-', found '-'`);
      const catAtom = items[k + 1];
      if (!catAtom || (catAtom.type === 'atom' && catAtom.text === '-')) {
        this.fail(catAtom ?? list.end, `expected a category after '-', found ${catAtom ? "'-'" : "')'"}`);
      }
      const category = this.name(catAtom, 'a category');
      for (const n of pending) {
        const name = this.name(n, `a ${kind} name`);
        const prior = this.scope.add(name, { kind, name });
        if (prior) this.fail(n, `expected a new name, found '${name}', already declared as a ${prior.kind}: rename one`);
        out.push({ name, category });
      }
      pending = [];
      k++;
    }
    if (pending.length > 0) {
      this.fail(pending[0], `expected '- CATEGORY' after '${pending.map((p) => p.text).join(' ')}', found ')'`);
    }
    return out;
  }

  private regions(list: SList | undefined): TaskRegion[] {
    if (!list) return [];
    const out: TaskRegion[] = [];
    const targets: SAtom[] = [];
    for (const item of list.items.slice(1)) {
      if (item.type !== 'list') this.fail(item, `expected a region '(NAME (:target T) ...)', found ${describe(item)}`);
      const [nameAtom, ...attrs] = item.items;
      if (!nameAtom) this.fail(item.end, "expected a region name, found ')'");
      const region: TaskRegion = { name: this.name(nameAtom, 'a region name'), target: '', ranges: [] };
      let target: SAtom | undefined;
      const seen = new Map<string, SList>();
      for (const attr of attrs) {
        const h = attr.type === 'list' ? attr.items[0] : attr;
        if (attr.type !== 'list' || !h || h.type !== 'atom') {
          this.fail(h ?? attr, `expected a region attribute (${REGION_ATTRIBUTES.join(', ')}), found ${describe(h ?? attr)}`);
        }
        const key = h.text.toLowerCase();
        if (!(REGION_ATTRIBUTES as readonly string[]).includes(key)) {
          this.fail(h, `expected a region attribute (${REGION_ATTRIBUTES.join(', ')}), found unknown attribute '${h.text}'`);
        }
        const prior = seen.get(key);
        if (prior) this.fail(h, `expected '${key}' once in region '${region.name}', found it again (first at ${prior.line}:${prior.col})`);
        seen.set(key, attr);
        if (key === ':target') {
          target = this.singleName(attr, 'the name of the fixture or object the region belongs to');
          region.target = this.name(target, 'a target name');
        } else if (key === ':ranges') {
          region.ranges = this.listOf(attr, ':ranges', (r) => this.rect(r));
        } else if (key === ':yaw_rotation') {
          const pairs = this.listOf(attr, ':yaw_rotation', (r) => this.numbers(r, 2, 'a yaw range (min max) in rad') as [number, number]);
          if (pairs.length !== 1) this.fail(attr, `expected one (min max) pair in :yaw_rotation, found ${pairs.length}`);
          region.yawRotation = pairs[0];
        } else {
          const v = this.singleList(attr, ':rgba');
          region.rgba = this.numbers(v, 4, 'an rgba colour (r g b a)') as [number, number, number, number];
        }
      }
      if (!target) this.fail(nameAtom, `expected '(:target NAME)' in region '${region.name}', found none`);
      targets.push(target);
      out.push(region);
    }
    // Targets may be declared after :regions, so check them once all regions are read.
    // Only objects and fixtures are in scope yet, so a hit is a valid target.
    out.forEach((region, k) => {
      const t = this.scope.resolve(region.target);
      if (t && t.kind !== 'gripper') return;
      if (this.options.strictRegionTargets) {
        this.fail(targets[k], `expected region '${region.name}' to target a declared fixture or object, found '${region.target}': declare it in :fixtures or :objects, or fix :target`);
      }
      this.orphanRegions.set(regionKey(region), targets[k]);
    });
    out.forEach((region, k) => {
      const key = regionKey(region);
      const prior = this.scope.add(key, { kind: 'region', name: region.name, owner: region.target });
      if (prior) this.fail(targets[k], `expected a unique region, found '${key}' (region '${region.name}' of '${region.target}') already naming a ${prior.kind}: rename one`);
    });
    return out;
  }

  /** `(:key (X ...))`: the attribute's single list argument */
  private singleList(attr: SList, key: string): SList {
    const v = attr.items[1];
    if (!v) this.fail(attr.end, `expected a parenthesised list after '${key}', found ')'`);
    if (v.type !== 'list') this.fail(v, `expected a parenthesised list after '${key}', found ${describe(v)}`);
    if (attr.items[2]) this.fail(attr.items[2], `expected ')' after the list of '${key}', found ${describe(attr.items[2])}`);
    return v;
  }

  /** `(:key ((...) (...)))`: each inner list through `each` */
  private listOf<T>(attr: SList, key: string, each: (l: SList) => T): T[] {
    return this.singleList(attr, key).items.map((r) => {
      if (r.type !== 'list') this.fail(r, `expected a parenthesised list inside '${key}', found ${describe(r)}`);
      return each(r);
    });
  }

  private numbers(list: SList, n: number, what: string): number[] {
    const vals = list.items.map((v) => {
      if (v.type !== 'atom' || !NUMBER.test(v.text)) this.fail(v, `expected a number in ${what}, found ${describe(v)}`);
      return Number(v.text);
    });
    if (vals.length < n) this.fail(list.end, `expected ${n} numbers in ${what}, found ${vals.length}`);
    if (vals.length > n) this.fail(list.items[n], `expected ${n} numbers in ${what}, found ${vals.length}`);
    return vals;
  }

  private rect(list: SList): Rect {
    const [x0, y0, x1, y1] = this.numbers(list, 4, 'a range (x0 y0 x1 y1) in m');
    if (x0 > x1 || y0 > y1) this.fail(list, `expected a range with x0 <= x1 and y0 <= y1, found (${x0} ${y0} ${x1} ${y1}): swap the corners`);
    return [x0, y0, x1, y1];
  }

  private objectsOfInterest(list: SList | undefined): string[] {
    if (!list) return [];
    return list.items.slice(1).map((a) => {
      const name = this.name(a, 'an object, fixture or region name');
      this.resolve(a as SAtom, name, ':obj_of_interest');
      return name;
    });
  }

  private resolve(at: SAtom, token: string, where: string): ArgRef {
    const ref = this.scope.resolve(token);
    if (!ref) {
      const hint = this.scope.suggest(token);
      this.fail(at, `'${token}' is used in ${where} but never declared in :objects, :fixtures or :regions${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    const orphan = this.orphanRegions.get(token);
    if (orphan) {
      this.fail(orphan, `region '${ref.kind === 'region' ? ref.name : token}' targets '${orphan.text}', which is not a declared fixture or object, and is used in ${where} at ${at.line}:${at.col}: declare '${orphan.text}' or fix :target`);
    }
    return ref;
  }

  private init(list: SList | undefined): Predicate[] {
    if (!list) return [];
    return list.items.slice(1).map((item) => {
      if (item.type !== 'list') this.fail(item, `expected a predicate such as '(On a b)' in :init, found ${describe(item)}`);
      return this.atom(item, ':init');
    });
  }

  private goal(list: SList): Formula {
    const f = list.items[1];
    if (!f) this.fail(list.end, "expected a goal formula such as '(And (On a b))', found ')'");
    if (list.items[2]) this.fail(list.items[2], `expected ')' after the goal formula (combine conditions with 'And'), found ${describe(list.items[2])}`);
    return this.formula(f);
  }

  private formula(e: SExpr): Formula {
    if (e.type !== 'list') this.fail(e, `expected a condition such as '(On a b)' in :goal, found ${describe(e)}`);
    const h = e.items[0];
    const op = h?.type === 'atom' ? h.text.toLowerCase() : '';
    if (op === 'and' || op === 'or') {
      if (e.items.length < 2) this.fail(e.end, `expected at least one condition after '${(h as SAtom).text}', found ')'`);
      return { type: op, args: e.items.slice(1).map((x) => this.formula(x)) };
    }
    if (op === 'not') {
      const arg = e.items[1];
      if (!arg) this.fail(e.end, "expected one condition after 'Not', found ')'");
      if (e.items[2]) this.fail(e.items[2], `expected ')' after the condition of 'Not', found ${describe(e.items[2])}`);
      return { type: 'not', arg: this.formula(arg) };
    }
    return this.atom(e, ':goal');
  }

  private atom(list: SList, where: string): Predicate {
    const h = list.items[0];
    if (!h) this.fail(list.end, `expected a predicate name such as 'On', found ')'`);
    if (h.type !== 'atom') this.fail(h, `expected a predicate name such as 'On', found ${describe(h)}`);
    const predicate = h.text.toLowerCase();
    if (!isPredicateName(predicate)) {
      const known = Object.values(PREDICATES).map((p) => p.bddl);
      const extra = where === ':goal' ? ', And, Or, Not' : '';
      this.fail(h, `expected a predicate (${known.join(', ')}${extra}), found unknown predicate '${h.text}'`);
    }
    const info = PREDICATES[predicate];
    const argExprs = list.items.slice(1);
    if (info.arity !== 'any' && argExprs.length !== info.arity) {
      const plural = info.arity === 1 ? '' : 's';
      const at = argExprs.length > info.arity ? argExprs[info.arity] : list.end;
      this.fail(at, `expected ${info.arity} argument${plural} for '${info.bddl}' (${info.doc}), found ${argExprs.length}`);
    }
    const args: string[] = [];
    const refs: ArgRef[] = [];
    for (const a of argExprs) {
      const name = this.name(a, `an argument of '${info.bddl}'`);
      refs.push(this.resolve(a as SAtom, name, where));
      args.push(name);
    }
    return { type: 'atom', predicate, args, refs };
  }
}
