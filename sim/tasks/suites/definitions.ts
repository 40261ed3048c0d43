/**
 * The four task suites in the spirit of LIBERO, as data. `generate.ts` turns them into
 * .bddl files and init-state files; nothing reads this module at run time.
 *
 * Region rectangles are relative to the table centre (world [0.5, 0, 0.4]): x away from
 * the robot, y to its left, m. The Franka's reachable band is about x in [-0.2, 0.22], y in
 * [-0.35, 0.35]; the dual arm's (mounted by sim/tasks/robots.ts) about x in [-0.25, -0.1],
 * y in [-0.4, 0.4], each arm on its own side and up to 0.15 m past the middle.
 */
import type { FormulaDraft, PredicateDraft, TaskDraft, TaskRegion } from '../task.ts';

export type SuiteName = 'spatial' | 'object' | 'goal' | 'long' | 'dual_arm';

export interface TaskDef {
  /** file name without extension, e.g. 'pick_up_the_black_bowl_next_to_the_ramekin_and_place_it_on_the_plate' */
  name: string;
  draft: TaskDraft;
}

const TABLE = 'main_table';
/** half size of object sampling rectangles, m (LIBERO uses 0.01) */
const JITTER = 0.015;

const atom = (predicate: PredicateDraft['predicate'], ...args: string[]): PredicateDraft => ({ type: 'atom', predicate, args });
const not = (arg: FormulaDraft): FormulaDraft => ({ type: 'not', arg });
const and = (...args: FormulaDraft[]): FormulaDraft => ({ type: 'and', args });

interface Spot {
  /** entity name */
  name: string;
  category: string;
  /** region centre relative to the table centre, m; or `on`/`in` another entity (or region key) */
  at: [number, number] | { on: string } | { in: string };
  /** half size of the sampling rectangle, m (default JITTER; fixtures sit at the centre) */
  jitter?: number;
  yaw?: [number, number];
  fixture?: boolean;
}

function rect(x: number, y: number, h: number): [number, number, number, number] {
  const r = (v: number): number => Math.round(v * 1e6) / 1e6;
  return [r(x - h), r(y - h), r(x + h), r(y + h)];
}

const nameOf = (language: string): string => language.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

/** Regions that fixtures bring along (LIBERO names). */
function fixtureRegions(spots: Spot[]): TaskRegion[] {
  const out: TaskRegion[] = [];
  for (const s of spots) {
    if (s.category === 'wooden_cabinet') out.push({ name: 'top_region', target: s.name, ranges: [] }, { name: 'top_side', target: s.name, ranges: [] });
    if (s.category === 'flat_stove') out.push({ name: 'cook_region', target: s.name, ranges: [] });
    if (s.category === 'basket') out.push({ name: 'contain_region', target: s.name, ranges: [] });
  }
  return out;
}

function task(language: string, spots: Spot[], goal: FormulaDraft, interest: string[], extraRegions: TaskRegion[] = [], problem = 'LIBERO_Tabletop_Manipulation'): TaskDef {
  const regions: TaskRegion[] = [];
  const init: PredicateDraft[] = [];
  for (const s of spots) {
    if (Array.isArray(s.at)) {
      const region: TaskRegion = { name: `${s.name}_region`, target: TABLE, ranges: [rect(s.at[0], s.at[1], s.fixture ? 0.005 : s.jitter ?? JITTER)] };
      if (s.yaw) region.yawRotation = s.yaw;
      regions.push(region);
      init.push(atom('on', s.name, `${TABLE}_${region.name}`));
    } else if ('on' in s.at) init.push(atom('on', s.name, s.at.on));
    else init.push(atom('in', s.name, s.at.in));
  }
  regions.push(...extraRegions, ...fixtureRegions(spots));
  return {
    name: nameOf(language),
    draft: {
      problem,
      domain: 'robosuite',
      language,
      regions,
      fixtures: [{ name: TABLE, category: 'table' }, ...spots.filter((s) => s.fixture).map((s) => ({ name: s.name, category: s.category }))],
      objects: spots.filter((s) => !s.fixture).map((s) => ({ name: s.name, category: s.category })),
      objectsOfInterest: interest,
      init,
      goal,
    },
  };
}

// ------------------------------------------------------------------ spatial

const BOWL = 'akita_black_bowl_1';
const BOWL2 = 'akita_black_bowl_2';
const PLATE = 'plate_1';
const COOKIES = 'cookies_1';
const RAMEKIN = 'glazed_rim_porcelain_ramekin_1';

type XY = [number, number];
/** positions (or supports) of bowl 1 (the one to move), bowl 2, plate, cookie box, ramekin */
function spatialTask(where: string, p: { bowl: Spot['at']; bowl2: XY; plate: XY; cookies: XY; ramekin: XY }): TaskDef {
  return task(
    `pick up the black bowl ${where} and place it on the plate`,
    [
      { name: BOWL, category: 'akita_black_bowl', at: p.bowl },
      { name: BOWL2, category: 'akita_black_bowl', at: p.bowl2 },
      { name: PLATE, category: 'plate', at: p.plate },
      { name: COOKIES, category: 'cookies', at: p.cookies },
      { name: RAMEKIN, category: 'glazed_rim_porcelain_ramekin', at: p.ramekin },
    ],
    and(atom('on', BOWL, PLATE)),
    [BOWL, PLATE],
  );
}

// spatial tasks put bowl 1 somewhere and keep its twin where the description cannot mean it
const SPATIAL: TaskDef[] = [
  spatialTask('between the plate and the ramekin', { bowl: [0, 0], plate: [0, 0.22], ramekin: [0, -0.17], bowl2: [0.2, -0.12], cookies: [-0.15, -0.24] }),
  spatialTask('next to the ramekin', { ramekin: [0.15, -0.2], bowl: [0, -0.2], plate: [0, 0.15], bowl2: [0.2, 0.12], cookies: [-0.18, 0.05] }),
  spatialTask('next to the cookie box', { cookies: [0.15, 0.18], bowl: [-0.04, 0.18], plate: [0, -0.12], ramekin: [0.2, -0.04], bowl2: [0.18, -0.26] }),
  spatialTask('on the ramekin', { ramekin: [0.1, -0.15], bowl: { on: RAMEKIN }, plate: [0, 0.18], bowl2: [-0.15, -0.05], cookies: [0.2, 0.12] }),
  spatialTask('on the cookie box', { cookies: [0.1, -0.15], bowl: { on: COOKIES }, plate: [0, 0.18], ramekin: [0.2, 0.08], bowl2: [-0.15, 0] }),
  spatialTask('at the table center', { bowl: [0, 0], plate: [0.05, 0.23], ramekin: [0.22, -0.2], bowl2: [-0.05, -0.23], cookies: [0.2, 0] }),
  spatialTask('next to the plate', { plate: [0, 0.2], bowl: [0.2, 0.2], bowl2: [-0.1, -0.16], ramekin: [0.15, -0.1], cookies: [-0.15, 0.02] }),
  spatialTask('between the cookie box and the ramekin', { cookies: [0.1, 0.25], ramekin: [0.1, -0.12], bowl: [0.1, 0.05], plate: [-0.12, -0.2], bowl2: [-0.12, 0.1] }),
  spatialTask('on the left side of the table', { bowl: [0.05, 0.28], bowl2: [0.1, -0.25], plate: [0, 0], ramekin: [0.2, 0.12], cookies: [-0.12, -0.22] }),
  spatialTask('at the back of the table', { bowl: [0.22, 0], bowl2: [-0.12, 0.1], plate: [0, -0.18], ramekin: [0.05, 0.22], cookies: [-0.12, 0.3] }),
];

// ------------------------------------------------------------------ object

const GROCERIES = [
  'alphabet_soup',
  'cream_cheese',
  'tomato_sauce',
  'ketchup',
  'butter',
  'milk',
  'chocolate_pudding',
  'orange_juice',
  'bbq_sauce',
  'salad_dressing',
] as const;

const SPOKEN: Readonly<Record<string, string>> = {
  alphabet_soup: 'alphabet soup',
  cream_cheese: 'cream cheese',
  tomato_sauce: 'tomato sauce',
  ketchup: 'ketchup',
  butter: 'butter',
  milk: 'milk',
  chocolate_pudding: 'chocolate pudding',
  orange_juice: 'orange juice',
  bbq_sauce: 'bbq sauce',
  salad_dressing: 'salad dressing',
};

/** object sampling slots around the basket, table frame, m */
const SLOTS: XY[] = [[-0.12, 0.04], [0.08, 0.04], [-0.12, 0.24], [0.08, 0.24], [0.2, -0.06]];
const BASKET_AT: XY = [0, -0.22];

function basketScene(items: readonly string[]): Spot[] {
  return [
    { name: 'basket_1', category: 'basket', at: BASKET_AT },
    ...items.map((c, k): Spot => ({ name: `${c}_1`, category: c, at: SLOTS[k]! })),
  ];
}

const OBJECT: TaskDef[] = GROCERIES.map((target, k) => {
  // the target takes slot k % 5 among four distractors
  const others = [1, 2, 3, 4].map((d) => GROCERIES[(k + d) % GROCERIES.length]!);
  const items = [...others];
  items.splice(k % SLOTS.length, 0, target);
  return task(
    `pick up the ${SPOKEN[target]} and place it in the basket`,
    basketScene(items),
    and(atom('in', `${target}_1`, 'basket_1_contain_region')),
    [`${target}_1`, 'basket_1'],
  );
});

// ------------------------------------------------------------------ goal

const CABINET = 'wooden_cabinet_1';
const STOVE = 'flat_stove_1';
const CHEESE = 'cream_cheese_1';
const DRAWER = `${CABINET}_top_region`;
const CAB_TOP = `${CABINET}_top_side`;
const COOK = `${STOVE}_cook_region`;

const KITCHEN: Spot[] = [
  { name: CABINET, category: 'wooden_cabinet', at: [0.2, -0.3], fixture: true },
  { name: STOVE, category: 'flat_stove', at: [0.15, 0.28], fixture: true },
  { name: BOWL, category: 'akita_black_bowl', at: [0.1, 0] },
  { name: PLATE, category: 'plate', at: [-0.12, 0] },
  { name: CHEESE, category: 'cream_cheese', at: [-0.17, 0.18] },
];

const GOAL: TaskDef[] = [
  task('put the bowl on the plate', KITCHEN, and(atom('on', BOWL, PLATE)), [BOWL, PLATE]),
  task('put the bowl on the stove', KITCHEN, and(atom('on', BOWL, COOK)), [BOWL, STOVE]),
  task('open the top drawer of the cabinet', KITCHEN, and(atom('open', DRAWER)), [DRAWER]),
  task('put the bowl on top of the cabinet', KITCHEN, and(atom('on', BOWL, CAB_TOP)), [BOWL, CAB_TOP]),
  task('turn on the stove', KITCHEN, and(atom('turnon', STOVE)), [STOVE]),
  task('put the cream cheese in the bowl', KITCHEN, and(atom('in', CHEESE, BOWL)), [CHEESE, BOWL]),
  task('put the cream cheese on the plate', KITCHEN, and(atom('on', CHEESE, PLATE)), [CHEESE, PLATE]),
  task('open the top drawer and put the bowl inside', KITCHEN, and(atom('open', DRAWER), atom('in', BOWL, DRAWER)), [BOWL, DRAWER]),
  task('put the cream cheese on top of the cabinet', KITCHEN, and(atom('on', CHEESE, CAB_TOP)), [CHEESE, CAB_TOP]),
  task('put the cream cheese on the stove', KITCHEN, and(atom('on', CHEESE, COOK)), [CHEESE, STOVE]),
];

// ------------------------------------------------------------------ long

const inBasket = (...items: string[]): FormulaDraft => and(...items.map((c) => atom('in', `${c}_1`, 'basket_1_contain_region')));

const STOVE_SCENE: Spot[] = [
  { name: STOVE, category: 'flat_stove', at: [0.15, 0.1], fixture: true },
  { name: 'moka_pot_1', category: 'moka_pot', at: [-0.1, -0.15] },
  { name: BOWL, category: 'akita_black_bowl', at: [0.15, -0.18] },
  { name: CHEESE, category: 'cream_cheese', at: [-0.17, 0.22] },
];

const LONG: TaskDef[] = [
  task('put both the alphabet soup and the tomato sauce in the basket', basketScene(['alphabet_soup', 'cream_cheese', 'tomato_sauce', 'ketchup']), inBasket('alphabet_soup', 'tomato_sauce'), ['alphabet_soup_1', 'tomato_sauce_1', 'basket_1']),
  task('put both the cream cheese box and the butter in the basket', basketScene(['milk', 'cream_cheese', 'alphabet_soup', 'butter']), inBasket('cream_cheese', 'butter'), ['cream_cheese_1', 'butter_1', 'basket_1']),
  task('put both the alphabet soup and the cream cheese box in the basket', basketScene(['tomato_sauce', 'alphabet_soup', 'butter', 'cream_cheese']), inBasket('alphabet_soup', 'cream_cheese'), ['alphabet_soup_1', 'cream_cheese_1', 'basket_1']),
  task('put both the ketchup and the milk in the basket', basketScene(['ketchup', 'orange_juice', 'milk', 'bbq_sauce']), inBasket('ketchup', 'milk'), ['ketchup_1', 'milk_1', 'basket_1']),
  task('put both the orange juice and the butter in the basket', basketScene(['chocolate_pudding', 'orange_juice', 'salad_dressing', 'butter']), inBasket('orange_juice', 'butter'), ['orange_juice_1', 'butter_1', 'basket_1']),
  task('turn on the stove and put the moka pot on it', STOVE_SCENE, and(atom('turnon', STOVE), atom('on', 'moka_pot_1', COOK)), [STOVE, 'moka_pot_1']),
  task('open the top drawer and put the black bowl inside', KITCHEN, and(atom('open', DRAWER), atom('in', BOWL, DRAWER)), [BOWL, DRAWER]),
  task('open the top drawer and put the cream cheese inside', KITCHEN, and(atom('open', DRAWER), atom('in', CHEESE, DRAWER)), [CHEESE, DRAWER]),
  task('put the cream cheese in the bowl and put the bowl on the plate', KITCHEN, and(atom('in', CHEESE, BOWL), atom('on', BOWL, PLATE)), [CHEESE, BOWL, PLATE]),
  task('put the black bowl on the stove and put the cream cheese on the plate', KITCHEN, and(atom('on', BOWL, COOK), atom('on', CHEESE, PLATE)), [BOWL, CHEESE, PLATE]),
];

// ------------------------------------------------------------------ dual arm

// Objects sit in the dual arm's band x in [-0.25, -0.1]; its left arm works at y > 0, the
// right at y < 0. Tasks need both arms: a box held at both ends, a hand-over from the left
// gripper to the right one, and one object per arm.
const DUAL = 'Armature_Dual_Arm_Tabletop_Manipulation';
const RED = 'red_cube_1';
const GREEN = 'green_cube_1';
const BAR = 'wooden_bar_1';
const LONG_BOX = 'long_box_1';
const dual = (language: string, spots: Spot[], goal: FormulaDraft, interest: string[]): TaskDef => task(language, spots, goal, interest, [], DUAL);

const DUAL_ARM: TaskDef[] = [
  dual(
    'lift the long box with both hands',
    [{ name: LONG_BOX, category: 'long_box', at: [-0.17, 0], yaw: [-0.1, 0.1] }],
    and(atom('lifted', LONG_BOX), atom('grasped', 'left_gripper', LONG_BOX), atom('grasped', 'right_gripper', LONG_BOX)),
    [LONG_BOX],
  ),
  dual(
    'hand the wooden bar from the left gripper to the right gripper',
    [{ name: BAR, category: 'wooden_bar', at: [-0.17, 0.24], yaw: [-0.15, 0.15] }],
    and(atom('grasped', 'right_gripper', BAR), not(atom('grasped', 'left_gripper', BAR)), atom('lifted', BAR)),
    [BAR],
  ),
  dual(
    'put the red cube in the left bowl and the green cube in the right bowl',
    [
      { name: BOWL, category: 'akita_black_bowl', at: [-0.2, 0.3] },
      { name: BOWL2, category: 'akita_black_bowl', at: [-0.2, -0.3] },
      { name: RED, category: 'red_cube', at: [-0.15, 0.12], yaw: [-0.4, 0.4] },
      { name: GREEN, category: 'green_cube', at: [-0.15, -0.12], yaw: [-0.4, 0.4] },
    ],
    and(atom('in', RED, BOWL), atom('in', GREEN, BOWL2)),
    [RED, GREEN, BOWL, BOWL2],
  ),
  dual(
    'put both cubes on the plate',
    [
      { name: PLATE, category: 'plate', at: [-0.16, 0] },
      { name: RED, category: 'red_cube', at: [-0.16, 0.26], yaw: [-0.4, 0.4] },
      { name: GREEN, category: 'green_cube', at: [-0.16, -0.26], yaw: [-0.4, 0.4] },
    ],
    and(atom('on', RED, PLATE), atom('on', GREEN, PLATE)),
    [RED, GREEN, PLATE],
  ),
  dual(
    'pass the wooden bar to the right hand and put it on the plate',
    [
      { name: BAR, category: 'wooden_bar', at: [-0.17, 0.25], yaw: [-0.15, 0.15] },
      { name: PLATE, category: 'plate', at: [-0.16, -0.27] },
    ],
    and(atom('on', BAR, PLATE)),
    [BAR, PLATE],
  ),
];

export const SUITE_TASKS: Readonly<Record<SuiteName, readonly TaskDef[]>> = {
  spatial: SPATIAL,
  object: OBJECT,
  goal: GOAL,
  long: LONG,
  dual_arm: DUAL_ARM,
};
