import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredicateError, evaluateAtom, evaluateGoal, shapeExtent } from '../../sim/tasks/predicates.ts';
import { loadSuite } from '../../sim/tasks/suites/index.ts';
import { TaskEnv } from '../../sim/tasks/task-env.ts';
import type { Formula, Predicate } from '../../sim/tasks/task.ts';
import { resolveTask } from '../../sim/tasks/task.ts';
import { SimWorldView } from '../../sim/tasks/predicates.ts';

const goal = loadSuite('goal');
const kitchen = goal.tasks.find((t) => t.name === 'open_the_top_drawer_and_put_the_bowl_inside')!;
const objectSuite = loadSuite('object');
const soup = objectSuite.tasks.find((t) => t.name === 'pick_up_the_alphabet_soup_and_place_it_in_the_basket')!;

/** an atom of the kitchen task, resolved against its declarations */
function atom(text: string): Predicate {
  const [predicate, ...args] = text.split(' ');
  const task = resolveTask({ ...kitchen.task, init: [], goal: { type: 'atom', predicate: predicate as Predicate['predicate'], args } });
  return task.goal as Predicate;
}

let env: TaskEnv;
let world: SimWorldView;

/** teleport a free object so its body origin is at `pos`, upright, at rest */
function put(name: string, pos: [number, number, number]): void {
  const sim = env.robot.sim;
  const j = sim.id('joint', `${name}_joint`);
  const adr = (sim.model.jnt_qposadr as Int32Array)[j]!;
  const dof = (sim.model.jnt_dofadr as Int32Array)[j]!;
  (sim.data.qpos as Float64Array).set([...pos, 1, 0, 0, 0], adr);
  (sim.data.qvel as Float64Array).fill(0, dof, dof + 6);
  sim.forward();
}

function setJoint(joint: string, q: number): void {
  env.robot.sim.setJointPositions([joint], [q]);
  env.robot.sim.forward();
}

/** let the physics settle (contacts form, objects come to rest) */
const settle = (n = 100): void => env.robot.sim.step(n);

const truth = (text: string): boolean => evaluateAtom(atom(text), world);

beforeAll(async () => {
  env = await TaskEnv.create({ task: kitchen.task, initStates: kitchen.initStates, robotCommandMode: 'ee_delta', cameras: [] });
  world = new SimWorldView(env.robot.sim, kitchen.task);
});
afterAll(async () => {
  await env?.close();
});

describe('On', () => {
  it('is true only when the bowl rests on the plate', () => {
    env.reset(0);
    expect(truth('on akita_black_bowl_1 plate_1')).toBe(false);
    const plate = env.robot.sim.bodyPose('plate_1').pos;
    // plate top: centre + half height 0.008
    put('akita_black_bowl_1', [plate[0]!, plate[1]!, plate[2]! + 0.009]);
    settle();
    expect(truth('on akita_black_bowl_1 plate_1')).toBe(true);
    // held 10 cm above the plate: not on it
    put('akita_black_bowl_1', [plate[0]!, plate[1]!, plate[2]! + 0.1]);
    expect(truth('on akita_black_bowl_1 plate_1')).toBe(false);
    // on the table beside the plate: not on it
    put('akita_black_bowl_1', [plate[0]! + 0.2, plate[1]!, 0.4]);
    settle();
    expect(truth('on akita_black_bowl_1 plate_1')).toBe(false);
  });

  it('reads table regions relative to the table centre', () => {
    env.reset(0);
    expect(truth('on akita_black_bowl_1 main_table_akita_black_bowl_1_region')).toBe(true);
    put('akita_black_bowl_1', [0.45, 0.05, 0.4]);
    settle();
    expect(truth('on akita_black_bowl_1 main_table_akita_black_bowl_1_region')).toBe(false);
  });

  it('puts things on the stove burner and on top of the cabinet', () => {
    env.reset(0);
    expect(truth('on akita_black_bowl_1 flat_stove_1_cook_region')).toBe(false);
    const burner = env.robot.sim.bodyPose('flat_stove_1_burner').pos;
    put('akita_black_bowl_1', [burner[0]!, burner[1]!, burner[2]! + 0.011]);
    settle();
    expect(truth('on akita_black_bowl_1 flat_stove_1_cook_region')).toBe(true);
    expect(truth('on akita_black_bowl_1 wooden_cabinet_1_top_side')).toBe(false);

    const cab = env.robot.sim.bodyPose('wooden_cabinet_1').pos;
    const half = env.shapes.get('wooden_cabinet_1')!.size;
    put('cream_cheese_1', [cab[0]!, cab[1]!, cab[2]! + 2 * half[2] + 0.016]);
    settle();
    expect(truth('on cream_cheese_1 wooden_cabinet_1_top_side')).toBe(true);
    // the cream cheese is 1 m away from the stove
    expect(truth('on cream_cheese_1 flat_stove_1_cook_region')).toBe(false);
  });
});

describe('In', () => {
  it('is true for the cream cheese lying in the bowl, false beside or above it', () => {
    env.reset(0);
    expect(truth('in cream_cheese_1 akita_black_bowl_1')).toBe(false);
    const bowl = env.robot.sim.bodyPose('akita_black_bowl_1').pos;
    put('cream_cheese_1', [bowl[0]!, bowl[1]!, bowl[2]! + 0.008 + 0.016]);
    settle();
    expect(truth('in cream_cheese_1 akita_black_bowl_1')).toBe(true);
    put('cream_cheese_1', [bowl[0]!, bowl[1]!, bowl[2]! + 0.15]);
    expect(truth('in cream_cheese_1 akita_black_bowl_1')).toBe(false);
    put('cream_cheese_1', [bowl[0]! - 0.1, bowl[1]!, 0.416]);
    settle();
    expect(truth('in cream_cheese_1 akita_black_bowl_1')).toBe(false);
  });

  it('is true for the bowl inside the open drawer and false on the table', () => {
    env.reset(0);
    const shape = env.shapes.get('wooden_cabinet_1')!;
    const d = shape.drawer!;
    expect(truth('in akita_black_bowl_1 wooden_cabinet_1_top_region')).toBe(false);
    setJoint(d.joint, d.travel);
    const drawer = env.robot.sim.bodyPose(d.body).pos;
    // the part of the tray that is out of the carcass, towards the robot (-x)
    const x = drawer[0]! + d.interiorMin[0] + 0.075;
    put('akita_black_bowl_1', [x, drawer[1]!, drawer[2]! + d.interiorMin[2] + 0.002]);
    settle(50);
    expect(truth('in akita_black_bowl_1 wooden_cabinet_1_top_region')).toBe(true);
    expect(truth('open wooden_cabinet_1_top_region')).toBe(true);
  });

  it('is true for a can in the basket, false next to it', async () => {
    const e = await TaskEnv.create({ task: soup.task, initStates: soup.initStates, robotCommandMode: 'ee_delta', cameras: [] });
    try {
      const w = new SimWorldView(e.robot.sim, soup.task);
      const g = soup.task.goal as Formula;
      expect(evaluateGoal(g, w).success).toBe(false);
      const basket = e.robot.sim.bodyPose('basket_1').pos;
      const sim = e.robot.sim;
      const j = sim.id('joint', 'alphabet_soup_1_joint');
      const adr = (sim.model.jnt_qposadr as Int32Array)[j]!;
      (sim.data.qpos as Float64Array).set([basket[0]!, basket[1]!, basket[2]! + 0.006 + 0.046, 1, 0, 0, 0], adr);
      sim.forward();
      sim.step(100);
      const r = evaluateGoal(g, w);
      expect(r.success).toBe(true);
      expect(r.detail).toEqual([{ atom: '(In alphabet_soup_1 basket_1_contain_region)', value: true }]);
      (sim.data.qpos as Float64Array).set([basket[0]!, basket[1]! + 0.2, 0.4456, 1, 0, 0, 0], adr);
      sim.forward();
      expect(evaluateGoal(g, w).success).toBe(false);
    } finally {
      await e.close();
    }
  });
});

describe('articulations', () => {
  it('Open/Close follow the drawer slide as a fraction of its travel', () => {
    env.reset(0);
    const d = env.shapes.get('wooden_cabinet_1')!.drawer!;
    expect(truth('close wooden_cabinet_1_top_region')).toBe(true);
    expect(truth('open wooden_cabinet_1_top_region')).toBe(false);
    setJoint(d.joint, 0.8 * d.travel);
    expect(truth('open wooden_cabinet_1_top_region')).toBe(true);
    expect(truth('open wooden_cabinet_1')).toBe(true);
    expect(truth('close wooden_cabinet_1_top_region')).toBe(false);
    // half-way: neither open nor closed
    setJoint(d.joint, 0.3 * d.travel);
    expect(truth('open wooden_cabinet_1_top_region')).toBe(false);
    expect(truth('close wooden_cabinet_1_top_region')).toBe(false);
  });

  it('Turnon/Turnoff follow the knob angle in either direction', () => {
    env.reset(0);
    const k = env.shapes.get('flat_stove_1')!.knob!;
    expect(truth('turnoff flat_stove_1')).toBe(true);
    expect(truth('turnon flat_stove_1')).toBe(false);
    setJoint(k.joint, 1.0);
    expect(truth('turnon flat_stove_1')).toBe(true);
    expect(truth('turnoff flat_stove_1')).toBe(false);
    setJoint(k.joint, -0.8);
    expect(truth('turnon flat_stove_1')).toBe(true);
    setJoint(k.joint, 0.3);
    expect(truth('turnon flat_stove_1')).toBe(false);
    expect(truth('turnoff flat_stove_1')).toBe(false);
  });

  it('rejects Open on something without a drawer, naming what has one', () => {
    expect(() => truth('open plate_1')).toThrow(PredicateError);
    expect(() => truth('open plate_1')).toThrow(/wooden_cabinet_1/);
    expect(() => truth('turnon wooden_cabinet_1')).toThrow(/flat_stove_1/);
  });
});

describe('evaluateGoal', () => {
  it('combines atoms with And, Or and Not and reports each atom', () => {
    env.reset(0);
    const d = env.shapes.get('wooden_cabinet_1')!.drawer!;
    setJoint(d.joint, d.travel);
    const open = atom('open wooden_cabinet_1_top_region');
    const on = atom('on akita_black_bowl_1 plate_1');
    expect(evaluateGoal({ type: 'and', args: [open, on] }, world)).toEqual({
      success: false,
      detail: [
        { atom: '(Open wooden_cabinet_1_top_region)', value: true },
        { atom: '(On akita_black_bowl_1 plate_1)', value: false },
      ],
    });
    expect(evaluateGoal({ type: 'or', args: [open, on] }, world).success).toBe(true);
    expect(evaluateGoal({ type: 'not', arg: on }, world).success).toBe(true);
    expect(evaluateGoal({ type: 'and', args: [open, { type: 'not', arg: on }] }, world).success).toBe(true);
    expect(evaluateGoal({ type: 'not', arg: { type: 'or', args: [open, on] } }, world).success).toBe(false);
    // the task's own goal: open but the bowl is still on the table
    expect(env.success()).toBe(false);
  });
});

describe('shapeExtent', () => {
  it('gives the bottom of a box lying on its side', () => {
    const shape = env.shapes.get('cream_cheese_1')!;
    // rotated 90 deg about x: local y becomes vertical
    const mat = [1, 0, 0, 0, 0, -1, 0, 1, 0];
    const { centre, halfZ } = shapeExtent(shape, { pos: [0, 0, 1], mat });
    expect(centre).toEqual([0, 0, 1]);
    expect(halfZ).toBeCloseTo(shape.size[1], 12);
  });
});
