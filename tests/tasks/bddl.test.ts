import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArmatureError } from '../../src/errors.ts';
import { BddlError } from '../../sim/tasks/bddl/error.ts';
import { formatBddl } from '../../sim/tasks/bddl/format.ts';
import { tokenize } from '../../sim/tasks/bddl/lexer.ts';
import { parseBddl } from '../../sim/tasks/bddl/parser.ts';
import {
  liberoInstruction,
  resolveTask,
  taskToJson,
  unevaluatedPredicates,
  type BddlTask,
  type TaskDraft,
} from '../../sim/tasks/task.ts';

const LIBERO_DIR = fileURLToPath(new URL('../fixtures/bddl/libero/', import.meta.url));

function liberoFiles(): string[] {
  return readdirSync(LIBERO_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bddl'))
    .sort();
}

function libero(rel: string): { text: string; task: BddlTask } {
  const text = readFileSync(join(LIBERO_DIR, rel), 'utf8');
  return { text, task: parseBddl(text, rel) };
}

/** 1-based line/column of the first occurrence of `needle` (computed independently of the lexer). */
function posOf(text: string, needle: string, nth = 0): { line: number; col: number } {
  let idx = -1;
  for (let k = 0; k <= nth; k++) idx = text.indexOf(needle, idx + 1);
  if (idx < 0) throw new Error(`test bug: '${needle}' not in text`);
  const before = text.slice(0, idx).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function parseError(text: string, options?: Parameters<typeof parseBddl>[2]): BddlError {
  try {
    parseBddl(text, 'case.bddl', options);
  } catch (e) {
    expect(e).toBeInstanceOf(BddlError);
    expect(e).toBeInstanceOf(ArmatureError);
    return e as BddlError;
  }
  throw new Error('expected parseBddl to throw');
}

function expectErrorAt(text: string, at: { line: number; col: number }, contains: string, options?: Parameters<typeof parseBddl>[2]): BddlError {
  const err = parseError(text, options);
  expect(err.message.startsWith(`case.bddl:${at.line}:${at.col}: `), err.message).toBe(true);
  expect(err.pos).toEqual(at);
  expect(err.message).toContain(contains);
  return err;
}

describe('LIBERO BDDL files', () => {
  it('vendors 12 files across all five suites, and every one parses', () => {
    const files = liberoFiles();
    expect(files).toHaveLength(12);
    expect(new Set(files.map((f) => f.split(/[\\/]/)[0]))).toEqual(
      new Set(['libero_10', 'libero_90', 'libero_goal', 'libero_object', 'libero_spatial']),
    );
    for (const f of files) {
      const { task } = libero(f);
      expect(task.domain).toBe('robosuite');
      expect(task.language.length).toBeGreaterThan(5);
      expect(task.objects.length).toBeGreaterThan(0);
      expect(task.init.length).toBeGreaterThan(0);
      expect(unevaluatedPredicates(task.goal)).toEqual([]);
    }
  });

  it('reads libero_goal/open_the_middle_drawer_of_the_cabinet exactly', () => {
    const { task } = libero('libero_goal/open_the_middle_drawer_of_the_cabinet.bddl');
    expect(task.problem).toBe('LIBERO_Tabletop_Manipulation');
    expect(task.language).toBe('Open the middle layer of the drawer');
    expect(liberoInstruction(task)).toBe('open the middle layer of the drawer');
    expect(task.fixtures).toEqual([
      { name: 'main_table', category: 'table' },
      { name: 'wooden_cabinet_1', category: 'wooden_cabinet' },
      { name: 'flat_stove_1', category: 'flat_stove' },
      { name: 'wine_rack_1', category: 'wine_rack' },
    ]);
    expect(task.objects.map((o) => o.name)).toEqual(['akita_black_bowl_1', 'cream_cheese_1', 'wine_bottle_1', 'plate_1']);
    expect(task.regions).toHaveLength(16);
    expect(task.regions[0]).toEqual({ name: 'plate_region', target: 'main_table', ranges: [[0.04, -0.03, 0.060000000000000005, -0.01]] });
    expect(task.regions.find((r) => r.name === 'cabinet_region')?.yawRotation).toEqual([Math.PI, Math.PI]);
    expect(task.objectsOfInterest).toEqual(['wooden_cabinet_1_middle_region']);
    expect(task.goal).toEqual({
      type: 'and',
      args: [
        {
          type: 'atom',
          predicate: 'open',
          args: ['wooden_cabinet_1_middle_region'],
          refs: [{ kind: 'region', name: 'middle_region', owner: 'wooden_cabinet_1' }],
        },
      ],
    });
    expect(task.init[4]).toEqual({
      type: 'atom',
      predicate: 'on',
      args: ['wooden_cabinet_1', 'main_table_cabinet_region'],
      refs: [
        { kind: 'fixture', name: 'wooden_cabinet_1' },
        { kind: 'region', name: 'cabinet_region', owner: 'main_table' },
      ],
    });
  });

  it('resolves fixtures, objects and object-owned regions in goals', () => {
    const stove = libero('libero_10/KITCHEN_SCENE3_turn_on_the_stove_and_put_the_moka_pot_on_it.bddl').task;
    expect(stove.language).toBe('turn on the stove and put the moka pot on it');
    expect(taskToJson(stove).goalBddl).toBe('(And (Turnon flat_stove_1) (On moka_pot_1 flat_stove_1_cook_region))');
    expect(stove.goal.type === 'and' && stove.goal.args.map((a) => (a.type === 'atom' ? a.refs : null))).toEqual([
      [{ kind: 'fixture', name: 'flat_stove_1' }],
      [
        { kind: 'object', name: 'moka_pot_1' },
        { kind: 'region', name: 'cook_region', owner: 'flat_stove_1' },
      ],
    ]);

    const soup = libero('libero_object/pick_up_the_alphabet_soup_and_place_it_in_the_basket.bddl').task;
    expect(soup.language).toBe('Pick the alphabet soup and place it in the basket');
    expect(soup.fixtures).toEqual([{ name: 'floor', category: 'floor' }]);
    expect(soup.objects).toHaveLength(7);
    expect(soup.regions.find((r) => r.name === 'contain_region')).toEqual({ name: 'contain_region', target: 'basket_1', ranges: [] });
    expect(taskToJson(soup).goalBddl).toBe('(And (In alphabet_soup_1 basket_1_contain_region))');
    const goalAtom = soup.goal.type === 'and' ? soup.goal.args[0] : soup.goal;
    expect(goalAtom.type === 'atom' && goalAtom.refs[1]).toEqual({ kind: 'region', name: 'contain_region', owner: 'basket_1' });
  });

  it('reads several names sharing one category and multi-clause goals', () => {
    const study = libero('libero_90/STUDY_SCENE4_pick_up_the_book_on_the_right_and_place_it_under_the_cabinet_shelf.bddl').task;
    expect(study.objects).toEqual([
      { name: 'black_book_1', category: 'black_book' },
      { name: 'yellow_book_1', category: 'yellow_book' },
      { name: 'yellow_book_2', category: 'yellow_book' },
    ]);
    const soup2 = libero('libero_10/LIVING_ROOM_SCENE2_put_both_the_alphabet_soup_and_the_tomato_sauce_in_the_basket.bddl').task;
    expect(taskToJson(soup2).goalBddl).toBe('(And (In alphabet_soup_1 basket_1_contain_region) (In tomato_sauce_1 basket_1_contain_region))');
    const mug = libero('libero_10/KITCHEN_SCENE6_put_the_yellow_and_white_mug_in_the_microwave_and_close_it.bddl').task;
    expect(taskToJson(mug).goalBddl).toBe('(And (In white_yellow_mug_1 microwave_1_heating_region) (Close microwave_1))');
  });

  it("keeps LIBERO's regions on undeclared targets unless they are used, and rejects them in strict mode", () => {
    const rel = 'libero_goal/open_the_middle_drawer_of_the_cabinet.bddl';
    const { text, task } = libero(rel);
    expect(task.regions.filter((r) => r.target === 'bowl_drainer_1').map((r) => r.name)).toEqual(['right_region', 'left_region']);
    expectErrorAt(text, posOf(text, 'bowl_drainer_1'), "'bowl_drainer_1'", { strictRegionTargets: true });
    // using one of them in the goal is an error even when not strict, reported at its :target
    const used = text.replace('(Open wooden_cabinet_1_middle_region)', '(Open bowl_drainer_1_left_region)');
    const err = expectErrorAt(used, posOf(used, 'bowl_drainer_1', 1), "region 'left_region' targets 'bowl_drainer_1'");
    expect(err.message).toContain(`used in :goal at ${posOf(used, 'bowl_drainer_1_left_region').line}:`);
  });

  it('formats every LIBERO file so that it parses back to the same task', () => {
    for (const f of liberoFiles()) {
      const { task } = libero(f);
      expect(parseBddl(formatBddl(task), `formatted ${f}`)).toEqual(task);
    }
  });

  it("writes LIBERO's own layout: identical text up to how numbers are spelled", () => {
    const { text, task } = libero('libero_10/KITCHEN_SCENE6_put_the_yellow_and_white_mug_in_the_microwave_and_close_it.bddl');
    expect(formatBddl(task)).toBe(text.replaceAll('(0.0 0.0)', '(0 0)'));
  });
});

const VALID = `; a task of our own; (parentheses in comments are ignored)
(define (problem armature_unit)
  (:domain robosuite)
  (:language put the bowl on the plate)
  (:regions
    (bowl_init
      (:target table)
      (:ranges ((-0.1 -0.1 0.0 0.0))))
    (plate_init
      (:target table)
      (:ranges ((0.0 0.0 0.1 0.1)))
      (:yaw_rotation ((0 1.57)))))
  (:fixtures table - kitchen_table)
  (:objects bowl_1 - akita_black_bowl plate_1 - plate) ; trailing comment
  (:init (On bowl_1 table_bowl_init) (On plate_1 table_plate_init))
  (:goal (And (On bowl_1 plate_1))))
`;

describe('BDDL syntax and errors', () => {
  it('parses a hand-written file with comments', () => {
    const t = parseBddl(VALID, 'case.bddl');
    expect(t.problem).toBe('armature_unit');
    expect(t.regions[1]).toEqual({ name: 'plate_init', target: 'table', ranges: [[0, 0, 0.1, 0.1]], yawRotation: [0, 1.57] });
    expect(t.objects).toEqual([
      { name: 'bowl_1', category: 'akita_black_bowl' },
      { name: 'plate_1', category: 'plate' },
    ]);
    expect(t.init[0].refs).toEqual([
      { kind: 'object', name: 'bowl_1' },
      { kind: 'region', name: 'bowl_init', owner: 'table' },
    ]);
  });

  it('tracks line and column in the tokenizer', () => {
    const toks = tokenize('; c (x)\n  (On\tab_1 c)\r\n)');
    expect(toks).toEqual([
      { type: '(', line: 2, col: 3 },
      { type: 'atom', text: 'On', line: 2, col: 4 },
      { type: 'atom', text: 'ab_1', line: 2, col: 7 },
      { type: 'atom', text: 'c', line: 2, col: 12 },
      { type: ')', line: 2, col: 13 },
      { type: ')', line: 3, col: 1 },
    ]);
  });

  it('reports a missing close paren at the innermost unclosed "("', () => {
    const text = VALID.replace('(:init (On bowl_1 table_bowl_init) (On plate_1 table_plate_init))', '(:init (On bowl_1 table_bowl_init) (On plate_1 table_plate_init)');
    // :init swallows :goal and define's ')' so define is what stays open, but the
    // indentation of (:goal at 16:3 points at the unclosed (:init at 15:3
    expectErrorAt(text, { line: 15, col: 3 }, "expected ')' to close this '(' before the '(' at 16:3");
    // without an indentation hint: the innermost '(' left open
    expectErrorAt('(define (problem p) (:language a) (:goal (And (True))', { line: 1, col: 35 }, "expected ')' to close this '(', found end of file at 1:54 with 2 lists open");
    // in LIBERO's layout a region left open is found by its next sibling region
    const rel = 'libero_spatial/pick_up_the_black_bowl_between_the_plate_and_the_ramekin_and_place_it_on_the_plate.bddl';
    const lib = readFileSync(join(LIBERO_DIR, rel), 'utf8');
    const lines = lib.split('\n');
    const k = lines.findIndex((l) => l.trim().startsWith('(:regions'));
    const regionStart = lines[k + 1];
    const regionEnd = lines.findIndex((l, i) => i > k + 1 && l === regionStart.replace(/\(.*/, ')'));
    lines.splice(regionEnd, 1);
    const broken = lines.join('\n');
    expectErrorAt(broken, { line: k + 2, col: regionStart.indexOf('(') + 1 }, `before the '(' at ${regionEnd + 1}:`);
  });

  it('reports a stray close paren after the define form', () => {
    const text = '(define (problem p) (:language hi) (:goal (True)))\n)';
    expectErrorAt(text, { line: 2, col: 1 }, "expected end of file after the closing ')'");
  });

  it('reports an unknown section, listing the known ones', () => {
    const text = VALID.replace('(:fixtures', '(:fixture');
    const err = expectErrorAt(text, posOf(text, ':fixture '), "unknown section ':fixture'");
    expect(err.message).toContain(':fixtures');
    expect(err.message).toContain(':obj_of_interest');
  });

  it('reports a missing problem name and a missing problem', () => {
    const noName = VALID.replace('(problem armature_unit)', '(problem)');
    expectErrorAt(noName, { line: 2, col: 17 }, "expected a problem name after 'problem', found ')'");
    const noProblem = VALID.replace('(problem armature_unit)', '');
    expectErrorAt(noProblem, { line: 2, col: 1 }, "expected '(problem NAME)'");
  });

  it('reports predicate arity at the missing or the first extra argument', () => {
    const tooFew = VALID.replace('(On bowl_1 plate_1)', '(On bowl_1)');
    // line 16 is '  (:goal (And (On bowl_1)))': the ')' closing (On ...) is column 25
    expectErrorAt(tooFew, { line: 16, col: 25 }, "expected 2 arguments for 'On' (arg1 rests on top of arg2 (object or region)), found 1");
    const tooMany = VALID.replace('(On bowl_1 plate_1)', '(Open bowl_1 plate_1)');
    expectErrorAt(tooMany, posOf(tooMany, 'plate_1)))'), "expected 1 argument for 'Open'");
  });

  it('reports an object used in :init or :goal but never declared, with a suggestion', () => {
    const init = VALID.replace('(On bowl_1 table_bowl_init)', '(On bowl_2 table_bowl_init)');
    const e1 = expectErrorAt(init, posOf(init, 'bowl_2'), "'bowl_2' is used in :init but never declared");
    expect(e1.message).toContain("did you mean 'bowl_1'?");
    const goal = VALID.replace('(On bowl_1 plate_1)', '(On bowl_1 saucer_1)');
    expectErrorAt(goal, posOf(goal, 'saucer_1'), "'saucer_1' is used in :goal but never declared");
  });

  it('reports an unknown predicate, listing the known ones', () => {
    const text = VALID.replace('(On bowl_1 plate_1)', '(Onto bowl_1 plate_1)');
    const err = expectErrorAt(text, posOf(text, 'Onto'), "unknown predicate 'Onto'");
    expect(err.message).toContain('Turnon');
    expect(err.message).toContain('And, Or, Not');
  });

  it('reports a region whose target is never declared (strict) or is used (default)', () => {
    const text = VALID.replace('(:target table)\n      (:ranges ((-0.1', '(:target counter)\n      (:ranges ((-0.1');
    expectErrorAt(text, posOf(text, 'counter'), "expected region 'bowl_init' to target a declared fixture or object, found 'counter'", {
      strictRegionTargets: true,
    });
    // not strict: the region key becomes counter_bowl_init, so :init's table_bowl_init is undeclared
    expectErrorAt(text, posOf(text, 'table_bowl_init'), "'table_bowl_init' is used in :init but never declared");
    const used = text.replace('table_bowl_init', 'counter_bowl_init');
    expectErrorAt(used, posOf(used, 'counter'), "region 'bowl_init' targets 'counter'");
  });

  it('reports malformed declarations, numbers and duplicates', () => {
    const noCat = VALID.replace('plate_1 - plate)', 'plate_1)');
    expectErrorAt(noCat, posOf(noCat, 'plate_1)'), "expected '- CATEGORY' after 'plate_1'");
    const badNum = VALID.replace('(0.0 0.0 0.1 0.1)', '(0.0 0.0 0.1 O.1)');
    expectErrorAt(badNum, posOf(badNum, 'O.1'), "expected a number in a range (x0 y0 x1 y1) in m, found 'O.1'");
    const short = VALID.replace('(0.0 0.0 0.1 0.1)', '(0.0 0.0 0.1)');
    // line 11 is '      (:ranges ((0.0 0.0 0.1)))': the ')' ending the range is column 29
    expectErrorAt(short, { line: 11, col: 29 }, 'expected 4 numbers in a range (x0 y0 x1 y1) in m, found 3');
    const flipped = VALID.replace('(0.0 0.0 0.1 0.1)', '(0.1 0.0 0.0 0.1)');
    expectErrorAt(flipped, posOf(flipped, '(0.1 0.0 0.0 0.1)'), 'swap the corners');
    const dupSection = VALID.replace('(:domain robosuite)', '(:domain robosuite) (:language again)');
    expectErrorAt(dupSection, posOf(dupSection, ':language', 1), "expected section ':language' once");
    const dupName = VALID.replace('plate_1 - plate', 'bowl_1 - plate');
    expectErrorAt(dupName, posOf(dupName, 'bowl_1 - plate'), "'bowl_1', already declared as a object");
    const dupRegion = VALID.replace('(plate_init', '(bowl_init');
    expectErrorAt(dupRegion, posOf(dupRegion, 'table', 1), "found 'table_bowl_init'");
  });

  it('reports an empty file and a file that does not start with (define', () => {
    expectErrorAt('; nothing\n', { line: 2, col: 1 }, 'found an empty file');
    expectErrorAt('  (defin (problem p))', { line: 1, col: 4 }, "expected 'define'");
    expectErrorAt('define', { line: 1, col: 1 }, "expected '(' to start");
  });
});

describe('formatBddl round trip of tasks built in code', () => {
  const draft: TaskDraft = {
    problem: 'ARMATURE_Kitchen',
    domain: 'robosuite',
    language: 'Open the drawer, then put the bowl in it',
    regions: [
      { name: 'bowl_region', target: 'kitchen_table', ranges: [[-0.1, 0.2, -0.05, 0.25], [0.3, -0.25, 0.35, -0.2]], yawRotation: [-Math.PI / 2, -0] },
      { name: 'cabinet_region', target: 'kitchen_table', ranges: [[0.02, -0.25, 0.04, -0.23]], rgba: [0, 0, 1, 0.25] },
      { name: 'top_region', target: 'wooden_cabinet_1', ranges: [] },
      { name: 'contain_region', target: 'basket_1', ranges: [] },
    ],
    fixtures: [
      { name: 'kitchen_table', category: 'kitchen_table' },
      { name: 'wooden_cabinet_1', category: 'wooden_cabinet' },
    ],
    objects: [
      { name: 'akita_black_bowl_1', category: 'akita_black_bowl' },
      { name: 'akita_black_bowl_2', category: 'akita_black_bowl' },
      { name: 'basket_1', category: 'basket' },
    ],
    objectsOfInterest: ['akita_black_bowl_1', 'wooden_cabinet_1_top_region'],
    init: [
      { type: 'atom', predicate: 'on', args: ['akita_black_bowl_1', 'kitchen_table_bowl_region'] },
      { type: 'atom', predicate: 'on', args: ['wooden_cabinet_1', 'kitchen_table_cabinet_region'] },
      { type: 'atom', predicate: 'close', args: ['wooden_cabinet_1_top_region'] },
    ],
    goal: {
      type: 'and',
      args: [
        { type: 'atom', predicate: 'open', args: ['wooden_cabinet_1_top_region'] },
        {
          type: 'or',
          args: [
            { type: 'atom', predicate: 'in', args: ['akita_black_bowl_1', 'wooden_cabinet_1_top_region'] },
            { type: 'not', arg: { type: 'atom', predicate: 'up', args: ['akita_black_bowl_2'] } },
          ],
        },
      ],
    },
  };

  it('parse(format(t)) deep-equals t', () => {
    const task = resolveTask(draft);
    const text = formatBddl(task);
    expect(text).toContain('akita_black_bowl_1 akita_black_bowl_2 - akita_black_bowl');
    expect(text).toContain('(And (Open wooden_cabinet_1_top_region) (Or (In akita_black_bowl_1 wooden_cabinet_1_top_region) (Not (Up akita_black_bowl_2))))');
    const back = parseBddl(text, 'generated.bddl');
    expect(back).toEqual(task);
    expect(Object.is(back.regions[0].yawRotation?.[1], -0)).toBe(true);
    expect(unevaluatedPredicates(back.goal)).toEqual(['up']);
  });

  it('resolveTask rejects what the parser rejects', () => {
    expect(() => resolveTask({ ...draft, init: [{ type: 'atom', predicate: 'on', args: ['bowl_9', 'kitchen_table_bowl_region'] }] })).toThrow(
      /'bowl_9' in :init is never declared/,
    );
    expect(() => resolveTask({ ...draft, init: [{ type: 'atom', predicate: 'open', args: [] }] })).toThrow(/'Open' takes 1 argument, found 0/);
    expect(() => resolveTask({ ...draft, regions: [{ name: 'r', target: 'shelf_1', ranges: [] }] })).toThrow(/targets 'shelf_1'/);
  });

  it('formatBddl refuses text that would not parse back', () => {
    const task = resolveTask(draft);
    expect(() => formatBddl({ ...task, language: 'open (the) drawer' })).toThrow(BddlError);
    expect(() => formatBddl({ ...task, language: '' })).toThrow(/non-empty/);
    expect(() => formatBddl({ ...task, regions: [{ ...task.regions[0], ranges: [[0, 0, Number.NaN, 1]] }] })).toThrow(/finite/);
  });

  it('taskToJson is plain JSON with the lower-case instruction', () => {
    // JSON has no -0; use a plain zero so the JSON round trip is exact
    const json = taskToJson(resolveTask({ ...draft, regions: [{ ...draft.regions[0], yawRotation: [-Math.PI / 2, 0] }, ...draft.regions.slice(1)] }));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.instruction).toBe('open the drawer, then put the bowl in it');
    expect(json.regions[2]).toEqual({ key: 'wooden_cabinet_1_top_region', name: 'top_region', target: 'wooden_cabinet_1', ranges: [] });
    expect(json.init[2].bddl).toBe('(Close wooden_cabinet_1_top_region)');
    expect(json.unevaluated).toEqual(['up']);
  });
});

describe('readBddlFile', () => {
  it('parses a file by path and names a missing path in the error', async () => {
    const { readBddlFile } = await import('../../sim/tasks/bddl/load.ts');
    const path = join(LIBERO_DIR, 'libero_goal/turn_on_the_stove.bddl');
    expect(readBddlFile(path).language).toBe('Turn on the stove');
    expect(() => readBddlFile(join(LIBERO_DIR, 'nope.bddl'))).toThrow(/nope\.bddl: cannot read the task file/);
  });
});
