/**
 * LIBERO object and fixture categories mapped to Armature's built-in geometry.
 *
 * LIBERO loads scanned or modelled meshes per category (libero/envs/objects); we stand
 * in simple primitives of about the same size so the same BDDL tasks run in our MuJoCo
 * scene builder (sim/scene). Sizes are approximate, chosen to be graspable by a Franka
 * gripper (fingers open to 0.08 m) where the real object is.
 */
import { ArmatureError } from '../../src/errors.ts';
import type { Quat, Rgba, SceneObject, Vec3 } from '../scene/types.ts';

export type GeometryKind = 'bowl' | 'plate' | 'basket' | 'box' | 'cylinder' | 'mug' | 'cabinet' | 'stove' | 'table' | 'bottle';

export interface CategoryGeometry {
  kind: GeometryKind;
  /**
   * half extents of the bounding box along local x, y, z, m; round kinds have
   * x = y = radius; for tables z is half the top's thickness
   */
  size: Vec3;
  rgba: Rgba;
  /** kg; for articulated fixtures the mass of the moving part */
  mass: number;
  /** welded to the world (LIBERO's :fixtures categories) rather than free */
  fixture: boolean;
  /** moving part the task can act on: a drawer (Open/Close), a door (Open/Close), a knob (Turnon/Turnoff) */
  articulation?: 'drawer' | 'door' | 'knob';
  /** what the stand-in loses against LIBERO's model, when it matters for a task */
  approximation?: string;
}

/** An unknown category; the message lists the known ones. */
export class CategoryError extends ArmatureError {
  constructor(message: string) {
    super('task.category', message);
  }
}

const BLACK: Rgba = [0.08, 0.08, 0.08, 1];
const WHITE: Rgba = [0.93, 0.93, 0.9, 1];
const WOOD: Rgba = [0.55, 0.4, 0.26, 1];
const WICKER: Rgba = [0.66, 0.5, 0.3, 1];

const free = (kind: GeometryKind, size: Vec3, rgba: Rgba, mass: number, extra: Partial<CategoryGeometry> = {}): CategoryGeometry => ({
  kind,
  size,
  rgba,
  mass,
  fixture: false,
  ...extra,
});
const fixed = (kind: GeometryKind, size: Vec3, rgba: Rgba, mass: number, extra: Partial<CategoryGeometry> = {}): CategoryGeometry => ({
  kind,
  size,
  rgba,
  mass,
  fixture: true,
  ...extra,
});
const table = (rgba: Rgba): CategoryGeometry => fixed('table', [0.4, 0.6, 0.025], rgba, 0);

const CATEGORIES: Readonly<Record<string, CategoryGeometry>> = {
  // bowls and pans
  akita_black_bowl: free('bowl', [0.065, 0.065, 0.022], BLACK, 0.15),
  white_bowl: free('bowl', [0.07, 0.07, 0.025], WHITE, 0.15),
  glazed_rim_porcelain_ramekin: free('bowl', [0.045, 0.045, 0.02], [0.9, 0.88, 0.8, 1], 0.1),
  chefmate_8_frypan: free('bowl', [0.1, 0.1, 0.018], [0.2, 0.2, 0.22, 1], 0.4, { approximation: 'no handle' }),
  plate: free('plate', [0.1, 0.1, 0.008], WHITE, 0.2),
  // containers
  basket: free('basket', [0.12, 0.09, 0.04], WICKER, 0.3),
  wooden_tray: free('basket', [0.12, 0.09, 0.015], WOOD, 0.3),
  desk_caddy: free('basket', [0.1, 0.07, 0.04], WOOD, 0.3, { approximation: 'one compartment instead of four' }),
  bowl_drainer: fixed('basket', [0.12, 0.1, 0.04], [0.8, 0.8, 0.82, 1], 0.3, { approximation: 'one compartment instead of left/right' }),
  white_storage_box: free('basket', [0.1, 0.08, 0.05], WHITE, 0.3),
  // boxes (HOPE grocery items, books)
  cream_cheese: free('box', [0.035, 0.025, 0.015], [0.85, 0.88, 0.95, 1], 0.1),
  butter: free('box', [0.04, 0.025, 0.015], [0.95, 0.85, 0.3, 1], 0.1),
  cookies: free('box', [0.06, 0.04, 0.02], [0.8, 0.2, 0.15, 1], 0.15),
  chocolate_pudding: free('box', [0.03, 0.025, 0.02], [0.45, 0.25, 0.15, 1], 0.1),
  macaroni_and_cheese: free('box', [0.03, 0.02, 0.045], [0.2, 0.4, 0.85, 1], 0.1),
  popcorn: free('box', [0.035, 0.02, 0.045], [0.9, 0.15, 0.15, 1], 0.1),
  milk: free('box', [0.03, 0.03, 0.07], [0.95, 0.95, 0.95, 1], 0.25),
  orange_juice: free('box', [0.03, 0.03, 0.07], [0.98, 0.6, 0.1, 1], 0.25),
  black_book: free('box', [0.06, 0.08, 0.015], BLACK, 0.2),
  yellow_book: free('box', [0.06, 0.08, 0.015], [0.95, 0.8, 0.2, 1], 0.2),
  // cans
  alphabet_soup: free('cylinder', [0.033, 0.033, 0.045], [0.85, 0.15, 0.1, 1], 0.2),
  tomato_sauce: free('cylinder', [0.033, 0.033, 0.045], [0.8, 0.1, 0.1, 1], 0.2),
  corn: free('cylinder', [0.033, 0.033, 0.04], [0.95, 0.85, 0.2, 1], 0.2),
  peas_and_carrots: free('cylinder', [0.033, 0.033, 0.04], [0.3, 0.6, 0.2, 1], 0.2),
  pineapple: free('cylinder', [0.033, 0.033, 0.04], [0.95, 0.9, 0.4, 1], 0.2),
  peaches: free('cylinder', [0.033, 0.033, 0.04], [0.98, 0.65, 0.4, 1], 0.2),
  cherries: free('cylinder', [0.033, 0.033, 0.04], [0.6, 0.05, 0.15, 1], 0.2),
  mushrooms: free('cylinder', [0.033, 0.033, 0.03], [0.85, 0.8, 0.7, 1], 0.15),
  tuna: free('cylinder', [0.04, 0.04, 0.02], [0.2, 0.35, 0.75, 1], 0.15),
  yogurt: free('cylinder', [0.033, 0.033, 0.035], [0.95, 0.95, 0.98, 1], 0.15),
  moka_pot: free('cylinder', [0.045, 0.045, 0.08], [0.7, 0.7, 0.72, 1], 0.4, { approximation: 'no handle or spout' }),
  // bottles
  ketchup: free('bottle', [0.03, 0.03, 0.08], [0.8, 0.08, 0.05, 1], 0.25),
  bbq_sauce: free('bottle', [0.03, 0.03, 0.08], [0.35, 0.15, 0.08, 1], 0.25),
  salad_dressing: free('bottle', [0.028, 0.028, 0.085], [0.9, 0.9, 0.8, 1], 0.25),
  new_salad_dressing: free('bottle', [0.028, 0.028, 0.085], [0.6, 0.75, 0.3, 1], 0.25),
  mayo: free('bottle', [0.03, 0.03, 0.07], [0.95, 0.95, 0.85, 1], 0.25),
  mustard: free('bottle', [0.028, 0.028, 0.08], [0.95, 0.8, 0.1, 1], 0.25),
  wine_bottle: free('bottle', [0.037, 0.037, 0.13], [0.15, 0.3, 0.15, 1], 0.5),
  // mugs
  porcelain_mug: free('mug', [0.045, 0.045, 0.045], WHITE, 0.2, { approximation: 'no handle' }),
  red_coffee_mug: free('mug', [0.045, 0.045, 0.045], [0.75, 0.1, 0.1, 1], 0.2, { approximation: 'no handle' }),
  white_yellow_mug: free('mug', [0.045, 0.045, 0.045], [0.95, 0.9, 0.55, 1], 0.2, { approximation: 'no handle' }),
  // articulated fixtures
  wooden_cabinet: fixed('cabinet', [0.12, 0.16, 0.14], WOOD, 1, { articulation: 'drawer', approximation: 'one drawer instead of top/middle/bottom' }),
  white_cabinet: fixed('cabinet', [0.12, 0.16, 0.14], WHITE, 1, { articulation: 'drawer', approximation: 'one drawer instead of top/middle/bottom' }),
  short_cabinet: fixed('cabinet', [0.12, 0.16, 0.1], WOOD, 1, { articulation: 'drawer' }),
  slide_cabinet: fixed('cabinet', [0.12, 0.2, 0.14], WHITE, 1, { articulation: 'drawer', approximation: 'drawer instead of a sliding door' }),
  microwave: fixed('cabinet', [0.14, 0.2, 0.12], [0.85, 0.85, 0.85, 1], 1, { articulation: 'door', approximation: 'drawer instead of a hinged door' }),
  short_fridge: fixed('cabinet', [0.2, 0.2, 0.3], WHITE, 2, { articulation: 'door', approximation: 'drawer instead of a hinged door' }),
  flat_stove: fixed('stove', [0.1, 0.1, 0.01], [0.15, 0.15, 0.15, 1], 0.02, { articulation: 'knob' }),
  // static fixtures
  wine_rack: fixed('box', [0.1, 0.15, 0.12], WOOD, 1, { approximation: 'solid block: bottles rest on top, not in slots' }),
  simple_rack: fixed('box', [0.1, 0.15, 0.08], WOOD, 1, { approximation: 'solid block' }),
  wooden_two_layer_shelf: fixed('box', [0.12, 0.2, 0.15], WOOD, 1, { approximation: 'solid block: only top_side is reachable, not the shelf layers' }),
  wooden_shelf: fixed('box', [0.12, 0.2, 0.15], WOOD, 1, { approximation: 'solid block' }),
  // Armature's dual-arm suite (not LIBERO): blocks a parallel gripper holds across x
  red_cube: free('box', [0.02, 0.02, 0.02], [0.85, 0.12, 0.1, 1], 0.05),
  green_cube: free('box', [0.02, 0.02, 0.02], [0.15, 0.7, 0.2, 1], 0.05),
  wooden_bar: free('box', [0.02, 0.09, 0.02], WOOD, 0.1),
  long_box: free('box', [0.03, 0.15, 0.04], [0.25, 0.45, 0.8, 1], 0.4),
  // tables and floor (the scene's support surface, not an object)
  kitchen_table: table([0.75, 0.7, 0.62, 1]),
  living_room_table: table([0.45, 0.32, 0.22, 1]),
  study_table: table([0.6, 0.45, 0.3, 1]),
  main_table: table([0.75, 0.7, 0.62, 1]),
  table: table([0.75, 0.7, 0.62, 1]),
  floor: fixed('table', [1.0, 1.0, 0.0], [0.6, 0.6, 0.6, 1], 0),
};

/** Every category `categoryGeometry` knows, sorted. */
export function knownCategories(): string[] {
  return Object.keys(CATEGORIES).sort();
}

/** Geometry for a LIBERO category (case-insensitive). Throws CategoryError listing the known ones. */
export function categoryGeometry(category: string): CategoryGeometry {
  const key = category.toLowerCase();
  const g = Object.prototype.hasOwnProperty.call(CATEGORIES, key) ? CATEGORIES[key] : undefined;
  if (!g) {
    throw new CategoryError(
      `unknown object category '${category}': add it to sim/tasks/categories.ts or use one of: ${knownCategories().join(', ')}`,
    );
  }
  const [sx, sy, sz] = g.size;
  const [r, gr, b, a] = g.rgba;
  return { ...g, size: [sx, sy, sz], rgba: [r, gr, b, a] };
}

export interface PlaceOptions {
  /** body and geom name, e.g. 'akita_black_bowl_1' */
  name: string;
  category: string;
  /** point on the supporting surface below the object's centre, world, m */
  pos: Vec3;
  quat?: Quat;
}

/**
 * A scene-builder object standing in for a LIBERO object, resting on `pos`.
 * Returns undefined for tables and the floor: those are the scene's support surface
 * (SceneDescription.table / floor), not objects.
 */
export function toSceneObject(opts: PlaceOptions): SceneObject | undefined {
  const g = categoryGeometry(opts.category);
  const [x, y, z] = opts.pos;
  const [rx, ry, rz] = g.size;
  const base = { name: opts.name, quat: opts.quat, rgba: g.rgba, mass: g.mass, fixed: g.fixture };
  // bowl, basket, cabinet and knob have their origin at the bottom; the others at the centre
  const centred: Vec3 = [x, y, z + rz];
  switch (g.kind) {
    case 'table':
      return undefined;
    case 'bowl':
      return { ...base, type: 'bowl', pos: opts.pos, radius: rx, height: 2 * rz };
    case 'plate':
      return { ...base, type: 'plate', pos: centred, radius: rx, halfHeight: rz };
    case 'basket':
      return { ...base, type: 'basket', pos: opts.pos, size: [rx, ry, rz] };
    case 'box':
      return { ...base, type: 'box', pos: centred, size: [rx, ry, rz] };
    case 'cylinder':
    case 'bottle':
    case 'mug':
      return { ...base, type: 'cylinder', pos: centred, radius: rx, halfHeight: rz };
    case 'cabinet':
      return { ...base, type: 'cabinet', pos: opts.pos, size: [rx, ry, rz] };
    case 'stove':
      // the knob's base plate is 3 x radius on each side
      return { ...base, type: 'knob', pos: opts.pos, radius: rx / 3 };
  }
}
