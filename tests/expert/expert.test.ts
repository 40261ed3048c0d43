/**
 * The scripted expert on small tasks of our own, driven through the real stack:
 * TaskEnv observation -> ControlLoop (replan, 1 action per chunk) -> safety -> SimRobot.
 * Success is read from physics state (predicates and raw joint / body positions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { TaskEnv } from '../../sim/tasks/task-env.ts';
import { SimWorldView } from '../../sim/tasks/predicates.ts';
import { resolveTask, type BddlTask, type FormulaDraft, type PredicateDraft, type TaskRegion } from '../../sim/tasks/task.ts';
import { sampleInitLayout, taskShapes } from '../../sim/tasks/task-scene.ts';
import { ExpertError, ExpertPolicy, type ExpertStatus } from '../../sim/expert/expert.ts';
import type { BimanualStatus } from '../../sim/expert/bimanual.ts';
import { runExpertEpisode } from '../../sim/expert/episode.ts';

/** the single-arm expert's status (these tests run the FR3) */
function singleArm(s: ExpertStatus | BimanualStatus): ExpertStatus {
  if (!('plan' in s)) throw new Error('expected the single-arm expert');
  return s;
}

interface Spot {
  name: string;
  category: string;
  /** region centre relative to the table centre, m */
  at: [number, number];
  fixture?: boolean;
}

const TABLE = 'main_table';
const atom = (predicate: PredicateDraft['predicate'], ...args: string[]): PredicateDraft => ({ type: 'atom', predicate, args });

function ownTask(language: string, spots: Spot[], goal: FormulaDraft): BddlTask {
  const regions: TaskRegion[] = [];
  const init: PredicateDraft[] = [];
  for (const s of spots) {
    const h = s.fixture ? 0.005 : 0.02;
    regions.push({ name: `${s.name}_region`, target: TABLE, ranges: [[s.at[0] - h, s.at[1] - h, s.at[0] + h, s.at[1] + h]] });
    init.push(atom('on', s.name, `${TABLE}_${s.name}_region`));
    if (s.category === 'wooden_cabinet') regions.push({ name: 'top_region', target: s.name, ranges: [] }, { name: 'top_side', target: s.name, ranges: [] });
    if (s.category === 'flat_stove') regions.push({ name: 'cook_region', target: s.name, ranges: [] });
    if (s.category === 'basket') regions.push({ name: 'contain_region', target: s.name, ranges: [] });
  }
  return resolveTask({
    problem: 'expert_test',
    domain: 'robosuite',
    language,
    regions,
    fixtures: [{ name: TABLE, category: 'table' }, ...spots.filter((s) => s.fixture).map((s) => ({ name: s.name, category: s.category }))],
    objects: spots.filter((s) => !s.fixture).map((s) => ({ name: s.name, category: s.category })),
    objectsOfInterest: [],
    init,
    goal,
  });
}

const envs: TaskEnv[] = [];
async function envFor(task: BddlTask, states = 2, seed = 7): Promise<TaskEnv> {
  const rng = new Rng(seed);
  const env = await TaskEnv.create({ task, initStates: Array.from({ length: states }, () => sampleInitLayout(task, rng)), robotCommandMode: 'ee_delta', cameras: [] });
  envs.push(env);
  return env;
}
afterAll(async () => {
  for (const e of envs) await e.close();
});

const BOWL: Spot = { name: 'akita_black_bowl_1', category: 'akita_black_bowl', at: [0.05, 0.12] };
const PLATE: Spot = { name: 'plate_1', category: 'plate', at: [-0.1, -0.12] };
// y = -0.3: at some other positions the scene builder's drawer jams in its carcass (zero clearance; reported)
const CABINET: Spot = { name: 'wooden_cabinet_1', category: 'wooden_cabinet', at: [0.2, -0.3], fixture: true };
const STOVE: Spot = { name: 'flat_stove_1', category: 'flat_stove', at: [0.15, 0.25], fixture: true };

describe('scripted expert through ControlLoop -> safety -> SimRobot', () => {
  it('picks a bowl by the rim and places it on the plate', async () => {
    const env = await envFor(ownTask('put the bowl on the plate', [BOWL, PLATE], atom('on', BOWL.name, PLATE.name)));
    for (const init of [0, 1]) {
      const r = await runExpertEpisode({ env, init, maxSteps: 220, stopOnSuccess: false });
      expect(singleArm(r.status).phase).toBe(singleArm(r.status).plan.length); // let go and backed off
      expect(r.success).toBe(true);
      expect(r.interventions).toBe(0); // every action was inside the safety limits as sent
      const sim = env.robot.sim;
      const bowl = sim.bodyPose(BOWL.name).pos;
      const plate = sim.bodyPose(PLATE.name).pos;
      expect(Math.hypot(bowl[0] - plate[0], bowl[1] - plate[1])).toBeLessThan(0.05); // centred on the 0.1 m plate
      expect(bowl[2] - (plate[2] + 0.008)).toBeGreaterThan(-0.003); // resting on its top, not through it
      expect(bowl[2] - (plate[2] + 0.008)).toBeLessThan(0.01);
      expect(sim.inContact(BOWL.name, PLATE.name)).toBe(true);
    }
  });

  it('misses a grasp on purpose when asked (graspMiss), notices the empty hand and grasps again', async () => {
    const task = ownTask('put the cream cheese in the basket', [{ name: 'cream_cheese_1', category: 'cream_cheese', at: [-0.05, 0.15] }, { name: 'basket_1', category: 'basket', at: [0.05, -0.2] }], atom('in', 'cream_cheese_1', 'basket_1_contain_region'));
    const env = await envFor(task);
    // the width the fingers reach each time they close, and the TCP height above the box's top then
    const closes: { width: number; aboveTop: number }[] = [];
    let closing = false;
    const onTick = (_tick: number, s: ExpertStatus | BimanualStatus): void => {
      const stage = singleArm(s).stage;
      if (stage === 'lift' && closing) {
        const p = env.privileged();
        const box = p.objects.find((o) => o.name === 'cream_cheese_1')!;
        closes.push({ width: p.gripperWidth, aboveTop: p.tcp[2] - (box.pos[2] + box.shape.size[2]) });
      }
      closing = stage === 'grasp';
    };
    const missed = await runExpertEpisode({ env, init: 0, maxSteps: 400, stopOnSuccess: false, noise: { graspMiss: 1 }, onTick });
    expect(missed.success).toBe(true);
    expect(singleArm(missed.status).retries).toBe(1); // only a pick's first attempt misses
    expect(singleArm(missed.status).graspMiss).toBe('noticed');
    expect(closes).toHaveLength(2);
    expect(closes[0]!.width).toBeLessThan(0.004); // closed on nothing ...
    expect(closes[0]!.aboveTop).toBeGreaterThan(0.02); // ... above the box
    expect(closes[1]!.width).toBeGreaterThan(0.01); // the second grasp holds it
    const clean = await runExpertEpisode({ env, init: 0, maxSteps: 400, stopOnSuccess: false });
    expect(singleArm(clean.status).retries).toBe(0);
    expect(singleArm(clean.status).graspMiss).toBe('none');
    expect(missed.steps - clean.steps).toBeGreaterThan(20); // the miss and the retry cost time
  });

  it('puts a box in a basket', async () => {
    const task = ownTask('put the cream cheese in the basket', [{ name: 'cream_cheese_1', category: 'cream_cheese', at: [-0.05, 0.15] }, { name: 'basket_1', category: 'basket', at: [0.05, -0.2] }], atom('in', 'cream_cheese_1', 'basket_1_contain_region'));
    const env = await envFor(task);
    const r = await runExpertEpisode({ env, init: 0, maxSteps: 280, stopOnSuccess: false });
    expect(r.success).toBe(true);
    const sim = env.robot.sim;
    const box = sim.bodyPose('cream_cheese_1').pos;
    const basket = sim.bodyPose('basket_1').pos;
    expect(Math.abs(box[0] - basket[0])).toBeLessThan(0.12 - 0.035);
    expect(Math.abs(box[1] - basket[1])).toBeLessThan(0.09 - 0.025);
    expect(box[2] - 0.015 - basket[2]).toBeLessThan(0.03); // on the basket floor, below its 0.08 m rim
  });

  it('opens a drawer by pulling its handle past half of the travel', async () => {
    const env = await envFor(ownTask('open the top drawer', [CABINET, BOWL], atom('open', `${CABINET.name}_top_region`)));
    const r = await runExpertEpisode({ env, init: 0, maxSteps: 300 });
    expect(r.success).toBe(true);
    const travel = taskShapes(env.task).get(CABINET.name)!.drawer!.travel;
    expect(env.robot.sim.jointPositions([`${CABINET.name}_drawer_joint`])[0]).toBeGreaterThan(0.5 * travel);
    expect(r.steps).toBeLessThan(100);
  });

  it('turns a stove knob on', async () => {
    const env = await envFor(ownTask('turn on the stove', [STOVE, PLATE], atom('turnon', STOVE.name)));
    const r = await runExpertEpisode({ env, init: 0, maxSteps: 300 });
    expect(r.success).toBe(true);
    expect(Math.abs(env.robot.sim.jointPositions([`${STOVE.name}_joint`])[0])).toBeGreaterThanOrEqual(0.5);
  });

  it('does a two-step task: open the drawer, then put the bowl inside', async () => {
    const task = ownTask('open the top drawer and put the bowl inside', [CABINET, BOWL, PLATE], { type: 'and', args: [atom('in', BOWL.name, `${CABINET.name}_top_region`), atom('open', `${CABINET.name}_top_region`)] });
    const env = await envFor(task);
    const r = await runExpertEpisode({ env, init: 0, maxSteps: 520, stopOnSuccess: false });
    expect(r.success).toBe(true);
    // the plan put the drawer first although the goal lists it second
    expect(singleArm(r.status).plan).toEqual([`open ${CABINET.name}`, `pick ${BOWL.name}`, `place ${BOWL.name}`]);
    const sim = env.robot.sim;
    const drawer = sim.bodyPose(`${CABINET.name}_drawer`).pos;
    const bowl = sim.bodyPose(BOWL.name).pos;
    expect(Math.abs(bowl[1] - drawer[1])).toBeLessThan(0.1);
    expect(bowl[2]).toBeLessThan(drawer[2]); // down in the tray, below the drawer's mid height
  });

  it('taking over mid-task (skipSatisfied), plans only what is still false and finishes', async () => {
    const task = ownTask('open the top drawer and put the bowl inside', [CABINET, BOWL, PLATE], { type: 'and', args: [atom('in', BOWL.name, `${CABINET.name}_top_region`), atom('open', `${CABINET.name}_top_region`)] });
    const env = await envFor(task);
    env.reset(0);
    const world = new SimWorldView(env.robot.sim, env.task);
    const robot = loadRobot('franka/fr3');
    const drive = async (expert: ExpertPolicy, until: () => boolean, maxTicks: number): Promise<number> => {
      const loop = new ControlLoop({ policy: expert, robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 1 } });
      let t = 0;
      for (; t < maxTicks && !until(); t++) env.apply((await loop.step(await env.observe(), t)).command);
      return t;
    };
    // a first expert opens the drawer and is stopped when it lets go of the handle
    const travel = taskShapes(env.task).get(CABINET.name)!.drawer!.travel;
    const first = new ExpertPolicy({ world, goal: env.task.goal });
    expect(await drive(first, () => first.status().phase >= 1, 300)).toBeLessThan(300);
    expect(env.robot.sim.jointPositions([`${CABINET.name}_drawer_joint`])[0]).toBeGreaterThan(0.5 * travel);
    // a plain expert would open it again; one that skips satisfied atoms goes straight to the bowl
    const plain = new ExpertPolicy({ world, goal: env.task.goal });
    await plain.predictChunk(await env.observe());
    expect(singleArm(plain.status()).plan[0]).toBe(`open ${CABINET.name}`);
    const takeover = new ExpertPolicy({ world, goal: env.task.goal, skipSatisfied: true });
    await drive(takeover, () => env.success(), 400);
    expect(singleArm(takeover.status()).plan).toEqual([`pick ${BOWL.name}`, `place ${BOWL.name}`]);
    expect(env.success()).toBe(true);
  });
});

describe('expert noise and interface', () => {
  const task = ownTask('put the bowl on the plate', [BOWL, PLATE], atom('on', BOWL.name, PLATE.name));

  async function actions(env: TaskEnv, seed: number, ticks: number): Promise<number[][]> {
    env.reset(0);
    const expert = new ExpertPolicy({ world: new SimWorldView(env.robot.sim, env.task), goal: env.task.goal, noise: { actionStd: 0.002, graspStd: 0.005, graspYawStd: 0.05 }, seed });
    const loop = new ControlLoop({ policy: expert, robot: loadRobot('franka/fr3'), embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 1 } });
    const out: number[][] = [];
    for (let t = 0; t < ticks; t++) {
      const step = await loop.step(await env.observe(), t);
      out.push(Array.from(step.action!));
      env.apply(step.command);
    }
    return out;
  }

  it('is deterministic for a seed, differs across seeds, and still solves the task with noise', async () => {
    const env = await envFor(task, 1);
    const a = await actions(env, 1, 25);
    const b = await actions(env, 1, 25);
    const c = await actions(env, 2, 25);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    for (const seed of [3, 4]) {
      const r = await runExpertEpisode({ env, init: 0, maxSteps: 220, noise: { actionStd: 0.002, graspStd: 0.005, graspYawStd: 0.05 }, seed });
      expect(r.success).toBe(true);
    }
  });

  it('declares a 7-D ee-delta action space and rejects goals it cannot plan', async () => {
    const env = await envFor(task, 1);
    const world = new SimWorldView(env.robot.sim, env.task);
    const expert = new ExpertPolicy({ world, goal: env.task.goal });
    const spec = expert.metadata.embodiments['franka']!;
    expect(spec.space).toBe('ee_delta_pose');
    expect(spec.names).toEqual(['dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'gripper']);
    expect(spec.gripper_dims).toEqual([6]);
    expect(expert.metadata.horizon).toBe(1);
    const chunk = await expert.predictChunk(await env.observe());
    expect(chunk.actions.length).toBe(7);
    expect(Math.hypot(chunk.actions[0]!, chunk.actions[1]!, chunk.actions[2]!)).toBeLessThanOrEqual(0.015 + 1e-6);
    const openPlate = ownTask('open the plate', [BOWL, PLATE], atom('open', PLATE.name)).goal;
    expect(() => new ExpertPolicy({ world, goal: openPlate })).toThrow(ExpertError);
    expect(() => new ExpertPolicy({ world, goal: openPlate })).toThrow(/no drawer/);
    const movePlateOntoBowl = ownTask('x', [BOWL, PLATE], atom('on', 'main_table', BOWL.name)).goal;
    expect(() => new ExpertPolicy({ world, goal: movePlateOntoBowl })).toThrow(/not an object or fixture/);
  });
});
