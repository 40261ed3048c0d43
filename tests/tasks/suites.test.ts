import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import { formatBddl } from '../../sim/tasks/bddl/format.ts';
import { parseBddl } from '../../sim/tasks/bddl/parser.ts';
import { generateSuites } from '../../sim/tasks/suites/generate.ts';
import { INIT_STATES_PER_TASK, MAX_STEPS, SUITES, SUITES_DIR, SuiteError, loadSuite } from '../../sim/tasks/suites/index.ts';
import { loadSuite as loadViaShim } from '../../sim/tasks/suites.ts';
import {
  TABLE_CENTRE,
  TaskSceneError,
  buildTaskScene,
  initRegion,
  sampleInitLayout,
  tableFootprints,
  taskShapes,
} from '../../sim/tasks/task-scene.ts';
import { resolveTask, unevaluatedPredicates } from '../../sim/tasks/task.ts';

const loaded = SUITES.map((s) => loadSuite(s));

describe('suite files', () => {
  it('has four suites of ten tasks with LIBERO max steps', () => {
    expect(SUITES).toEqual(['spatial', 'object', 'goal', 'long']);
    expect(loaded.map((s) => [s.name, s.tasks.length, s.maxSteps])).toEqual([
      ['spatial', 10, 220],
      ['object', 10, 280],
      ['goal', 10, 300],
      ['long', 10, 520],
    ]);
    expect(MAX_STEPS.long).toBe(520);
    expect(loadViaShim('goal').tasks.map((t) => t.name)).toEqual(loaded[2]!.tasks.map((t) => t.name));
  });

  it('every .bddl parses, formats back to the same text and has a scorable goal', () => {
    let n = 0;
    for (const s of SUITES) {
      const files = readdirSync(join(SUITES_DIR, s)).filter((f) => f.endsWith('.bddl'));
      expect(files).toHaveLength(10);
      for (const f of files) {
        const path = join(SUITES_DIR, s, f);
        const text = readFileSync(path, 'utf8');
        const task = parseBddl(text, path);
        expect(formatBddl(task)).toBe(text);
        expect(unevaluatedPredicates(task.goal)).toEqual([]);
        n++;
      }
    }
    expect(n).toBe(40);
  });

  it('every task has 50 init states that place exactly its objects and fixtures', () => {
    for (const s of loaded) {
      for (const t of s.tasks) {
        expect(t.initStates).toHaveLength(INIT_STATES_PER_TASK);
        const names = [...taskShapes(t.task).keys()].sort();
        for (const st of t.initStates) expect(st.placements.map((p) => p.name).sort()).toEqual(names);
        // the 50 states differ (objects are sampled), the fixtures do not
        const movable = t.task.objects[0]!.name;
        const xs = new Set(t.initStates.map((st) => st.placements.find((p) => p.name === movable)!.pos.join()));
        expect(xs.size).toBeGreaterThan(40);
        for (const f of t.task.fixtures) {
          if (!taskShapes(t.task).has(f.name)) continue;
          const at = new Set(t.initStates.map((st) => JSON.stringify(st.placements.find((p) => p.name === f.name))));
          expect(at.size).toBe(1);
        }
      }
    }
  });

  it('spatial tasks share their objects and all ask for bowl 1 on the plate', () => {
    const spatial = loaded[0]!;
    for (const t of spatial.tasks) {
      expect(t.task.objects.map((o) => o.category).sort()).toEqual(['akita_black_bowl', 'akita_black_bowl', 'cookies', 'glazed_rim_porcelain_ramekin', 'plate']);
      expect(t.task.language).toMatch(/^pick up the black bowl .+ and place it on the plate$/);
    }
    expect(new Set(spatial.tasks.map((t) => t.task.language)).size).toBe(10);
  });

  it('the object suite asks for ten distinct groceries', () => {
    const targets = loaded[1]!.tasks.map((t) => (t.task.goal.type === 'and' && t.task.goal.args[0]!.type === 'atom' ? t.task.goal.args[0]!.args[0] : ''));
    expect(new Set(targets).size).toBe(10);
  });

  it('goal and long suites include drawer, stove and two-step goals', () => {
    const goalText = loaded[2]!.tasks.map((t) => JSON.stringify(t.task.goal));
    expect(goalText.some((g) => g.includes('"open"'))).toBe(true);
    expect(goalText.some((g) => g.includes('"turnon"'))).toBe(true);
    for (const t of loaded[3]!.tasks) expect(t.task.goal.type === 'and' && t.task.goal.args.length).toBe(2);
  });

  it('the generator is deterministic and the shipped files are current', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-suites-'));
    try {
      generateSuites(dir);
      for (const s of SUITES) {
        for (const f of ['index.json', ...readdirSync(join(SUITES_DIR, s)).filter((x) => x.endsWith('.bddl'))]) {
          expect(readFileSync(join(dir, s, f), 'utf8')).toBe(readFileSync(join(SUITES_DIR, s, f), 'utf8'));
        }
        for (const f of readdirSync(join(SUITES_DIR, s, 'init'))) {
          expect(readFileSync(join(dir, s, 'init', f), 'utf8')).toBe(readFileSync(join(SUITES_DIR, s, 'init', f), 'utf8'));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names unknown suites', () => {
    expect(() => loadSuite('libero_90')).toThrow(SuiteError);
    expect(() => loadSuite('libero_90')).toThrow(/spatial, object, goal, long/);
  });
});

describe('sampled layouts', () => {
  it('are collision-free and inside their regions for every stored init state', () => {
    let checked = 0;
    for (const s of loaded) {
      for (const t of s.tasks) {
        for (const st of t.initStates) {
          const circles = tableFootprints(t.task, st);
          for (let i = 0; i < circles.length; i++) {
            for (let j = i + 1; j < circles.length; j++) {
              const a = circles[i]!;
              const b = circles[j]!;
              if (a.name === b.name) continue;
              expect(Math.hypot(a.x - b.x, a.y - b.y)).toBeGreaterThanOrEqual(a.r + b.r);
            }
            // on the table
            expect(Math.abs(circles[i]!.x - TABLE_CENTRE[0]) + circles[i]!.r).toBeLessThanOrEqual(0.4);
            expect(Math.abs(circles[i]!.y - TABLE_CENTRE[1]) + circles[i]!.r).toBeLessThanOrEqual(0.6);
          }
          for (const p of st.placements) {
            const region = initRegion(t.task, p.name);
            if (!region) continue;
            const lx = p.pos[0] - TABLE_CENTRE[0];
            const ly = p.pos[1] - TABLE_CENTRE[1];
            const inside = region.ranges.some((r) => lx >= r[0] - 1e-4 && lx <= r[2] + 1e-4 && ly >= r[1] - 1e-4 && ly <= r[3] + 1e-4);
            expect(inside, `${t.name}: ${p.name} at (${lx}, ${ly}) outside ${region.key}`).toBe(true);
            expect(p.pos[2]).toBe(TABLE_CENTRE[2]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(40 * 50 * 4);
  });

  it('stack objects On another on its top surface', () => {
    const t = loaded[0]!.tasks.find((x) => x.name.includes('on_the_ramekin'))!;
    for (const st of t.initStates) {
      const bowl = st.placements.find((p) => p.name === 'akita_black_bowl_1')!;
      const ramekin = st.placements.find((p) => p.name === 'glazed_rim_porcelain_ramekin_1')!;
      expect(bowl.pos[0]).toBeCloseTo(ramekin.pos[0], 3);
      expect(bowl.pos[1]).toBeCloseTo(ramekin.pos[1], 3);
      // ramekin height 2 x 0.02 m
      expect(bowl.pos[2]).toBeCloseTo(ramekin.pos[2] + 0.04, 4);
    }
  });

  it('are reproducible from the seed', () => {
    const t = loaded[1]!.tasks[0]!.task;
    expect(sampleInitLayout(t, new Rng(7))).toEqual(sampleInitLayout(t, new Rng(7)));
    expect(sampleInitLayout(t, new Rng(7))).not.toEqual(sampleInitLayout(t, new Rng(8)));
  });

  it('fail with a clear error when a region cannot hold its objects', () => {
    const region = { name: 'crowded_region', target: 'main_table', ranges: [[0, 0, 0.01, 0.01] as [number, number, number, number]] };
    const task = resolveTask({
      problem: 'p',
      domain: 'robosuite',
      language: 'x',
      regions: [region],
      fixtures: [{ name: 'main_table', category: 'table' }],
      objects: [
        { name: 'plate_1', category: 'plate' },
        { name: 'plate_2', category: 'plate' },
      ],
      objectsOfInterest: [],
      init: [
        { type: 'atom', predicate: 'on', args: ['plate_1', 'main_table_crowded_region'] },
        { type: 'atom', predicate: 'on', args: ['plate_2', 'main_table_crowded_region'] },
      ],
      goal: { type: 'atom', predicate: 'true', args: [] },
    });
    expect(() => sampleInitLayout(task, new Rng(1), { maxTries: 50 })).toThrow(TaskSceneError);
    expect(() => sampleInitLayout(task, new Rng(1), { maxTries: 50 })).toThrow(/could not place 'plate_2'.*main_table_crowded_region/);
    const unplaced = resolveTask({ ...task, regions: [region], init: [task.init[0]!] });
    expect(() => sampleInitLayout(unplaced, new Rng(1))).toThrow(/'plate_2'.*has no \(On plate_2/);
  });
});

describe('buildTaskScene', () => {
  it('puts the table top at z = 0.4, the Franka at the edge and every entity in the scene', () => {
    const t = loaded[2]!.tasks[0]!;
    const scene = buildTaskScene(t.task, t.initStates[0]!);
    expect(scene.table?.pos).toEqual([0.5, 0, 0.4]);
    expect(scene.robots).toEqual([{ kind: 'franka_fr3', pos: [0, 0, 0.4] }]);
    const names = (scene.objects ?? []).map((o) => o.name).sort();
    // the stove is a burner plate plus a knob
    expect(names).toEqual(['akita_black_bowl_1', 'cream_cheese_1', 'flat_stove_1', 'flat_stove_1_burner', 'plate_1', 'wooden_cabinet_1']);
    const cab = scene.objects!.find((o) => o.name === 'wooden_cabinet_1');
    expect(cab?.type === 'cabinet' && cab.travel).toBeCloseTo(taskShapes(t.task).get('wooden_cabinet_1')!.drawer!.travel, 9);
  });

  it('sizes every object the robot must move for the Franka hand (opening <= 0.08 m)', () => {
    for (const s of loaded) {
      for (const t of s.tasks) {
        const shapes = taskShapes(t.task);
        for (const name of t.task.objectsOfInterest) {
          const shape = shapes.get(name);
          if (!shape || shape.fixture || shape.kind === 'basket' || shape.kind === 'plate') continue;
          if (shape.kind === 'bowl') {
            // grasped by the rim: wall ~8 mm, wall height ~4 cm
            expect(shape.wall).toBeCloseTo(0.008, 6);
            expect(2 * shape.size[2]).toBeGreaterThanOrEqual(0.035);
            expect(2 * shape.size[2]).toBeLessThanOrEqual(0.05);
            continue;
          }
          const across = shape.kind === 'box' ? 2 * Math.min(shape.size[0], shape.size[1]) : 2 * shape.size[0];
          expect(across, `${t.name}: ${name}`).toBeLessThanOrEqual(0.075);
        }
      }
    }
  });
});
