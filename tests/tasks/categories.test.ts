import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArmatureError } from '../../src/errors.ts';
import { parseBddl } from '../../sim/tasks/bddl/parser.ts';
import { CategoryError, categoryGeometry, knownCategories, toSceneObject } from '../../sim/tasks/categories.ts';

const LIBERO_DIR = fileURLToPath(new URL('../fixtures/bddl/libero/', import.meta.url));

describe('LIBERO categories', () => {
  it('knows every category used by the vendored LIBERO files', () => {
    const files = readdirSync(LIBERO_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.bddl'));
    const used = new Set<string>();
    for (const f of files) {
      const t = parseBddl(readFileSync(join(LIBERO_DIR, f), 'utf8'), f);
      for (const e of [...t.objects, ...t.fixtures]) used.add(e.category);
    }
    expect(used.size).toBeGreaterThan(20);
    for (const c of used) expect(() => categoryGeometry(c), c).not.toThrow();
  });

  it('maps categories to kinds, with fixtures welded and articulations named', () => {
    expect(categoryGeometry('akita_black_bowl')).toMatchObject({ kind: 'bowl', fixture: false });
    expect(categoryGeometry('AKITA_BLACK_BOWL').kind).toBe('bowl');
    expect(categoryGeometry('plate').kind).toBe('plate');
    expect(categoryGeometry('basket').kind).toBe('basket');
    expect(categoryGeometry('cream_cheese').kind).toBe('box');
    expect(categoryGeometry('alphabet_soup').kind).toBe('cylinder');
    expect(categoryGeometry('ketchup').kind).toBe('bottle');
    expect(categoryGeometry('porcelain_mug').kind).toBe('mug');
    expect(categoryGeometry('wooden_cabinet')).toMatchObject({ kind: 'cabinet', fixture: true, articulation: 'drawer' });
    expect(categoryGeometry('microwave')).toMatchObject({ kind: 'cabinet', articulation: 'door' });
    expect(categoryGeometry('flat_stove')).toMatchObject({ kind: 'stove', fixture: true, articulation: 'knob' });
    expect(categoryGeometry('kitchen_table')).toMatchObject({ kind: 'table', fixture: true });
    for (const c of knownCategories()) {
      const g = categoryGeometry(c);
      expect(g.size.every((v) => v >= 0 && v < 1.01), c).toBe(true);
      expect(g.rgba.every((v) => v >= 0 && v <= 1), c).toBe(true);
      if (!g.fixture) {
        expect(g.mass, c).toBeGreaterThan(0);
        // free objects are table-top sized
        expect(Math.min(g.size[0], g.size[1]) * 2, c).toBeLessThan(0.3);
      }
    }
  });

  it('returns copies, so callers cannot change the table', () => {
    const a = categoryGeometry('plate');
    (a.size as unknown as number[])[0] = 5;
    expect(categoryGeometry('plate').size[0]).toBe(0.1);
  });

  it('throws for an unknown category, listing the known ones', () => {
    let err: unknown;
    try {
      categoryGeometry('rubber_duck');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CategoryError);
    expect(err).toBeInstanceOf(ArmatureError);
    const msg = (err as Error).message;
    expect(msg).toContain("unknown object category 'rubber_duck'");
    for (const c of knownCategories()) expect(msg).toContain(c);
    expect(msg.indexOf('akita_black_bowl')).toBeLessThan(msg.indexOf('wooden_cabinet'));
  });

  it('builds scene objects resting on the given surface point', () => {
    const bowl = toSceneObject({ name: 'akita_black_bowl_1', category: 'akita_black_bowl', pos: [0.1, 0.2, 0.9] });
    expect(bowl).toMatchObject({ type: 'bowl', name: 'akita_black_bowl_1', pos: [0.1, 0.2, 0.9], radius: 0.065, height: 0.044, fixed: false });
    // box-like kinds have their origin at the centre, so they sit half their height higher
    const box = toSceneObject({ name: 'cream_cheese_1', category: 'cream_cheese', pos: [0, 0, 0.9] });
    expect(box).toMatchObject({ type: 'box', size: [0.035, 0.025, 0.015] });
    expect(box?.pos[2]).toBeCloseTo(0.915, 12);
    const can = toSceneObject({ name: 'soup', category: 'alphabet_soup', pos: [0, 0, 0.9] });
    expect(can).toMatchObject({ type: 'cylinder', radius: 0.033, halfHeight: 0.045 });
    expect(can?.pos[2]).toBeCloseTo(0.945, 12);
    const cab = toSceneObject({ name: 'cab', category: 'wooden_cabinet', pos: [0, 0, 0.9], quat: [0, 0, 0, 1] });
    expect(cab).toMatchObject({ type: 'cabinet', fixed: true, pos: [0, 0, 0.9], quat: [0, 0, 0, 1] });
    const stove = toSceneObject({ name: 'stove', category: 'flat_stove', pos: [0, 0, 0.9] });
    expect(stove).toMatchObject({ type: 'knob', fixed: true });
    expect(stove?.type === 'knob' && stove.radius).toBeCloseTo(0.1 / 3, 12);
    expect(toSceneObject({ name: 'table', category: 'kitchen_table', pos: [0, 0, 0] })).toBeUndefined();
    expect(() => toSceneObject({ name: 'x', category: 'rubber_duck', pos: [0, 0, 0] })).toThrow(CategoryError);
  });
});
