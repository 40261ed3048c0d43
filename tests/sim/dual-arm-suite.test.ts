import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBddl } from '../../sim/tasks/bddl/format.ts';
import { parseBddl } from '../../sim/tasks/bddl/parser.ts';
import { BddlError } from '../../sim/tasks/bddl/error.ts';
import { generateSuites } from '../../sim/tasks/suites/generate.ts';
import { ALL_SUITES, MAX_STEPS, SUITES, SUITES_DIR, loadSuite } from '../../sim/tasks/suites/index.ts';
import { evaluateAtom, PredicateError, type WorldView } from '../../sim/tasks/predicates.ts';
import { TaskEnv } from '../../sim/tasks/task-env.ts';
import { buildTaskScene, tableFootprints, taskShapes, TABLE_TOP_Z } from '../../sim/tasks/task-scene.ts';
import { taskRobot, TaskRobotError } from '../../sim/tasks/robots.ts';
import { gripperRef, unevaluatedPredicates, type Formula, type Predicate } from '../../sim/tasks/task.ts';
import { runExpertEpisode } from '../../sim/expert/episode.ts';
import { BimanualExpertPolicy } from '../../sim/expert/bimanual.ts';
import { ExpertError } from '../../sim/expert/expert.ts';
import { expertForTask } from '../../sim/expert/for-task.ts';
import { stateNames } from '../../sim/dataset/record.ts';

const suite = loadSuite('dual_arm');
const byName = (n: string) => suite.tasks.find((t) => t.name === n)!;
const LIFT = byName('lift_the_long_box_with_both_hands');
const HANDOVER = byName('hand_the_wooden_bar_from_the_left_gripper_to_the_right_gripper');

/** the atom of a goal with this predicate and first argument */
function atomOf(goal: Formula, predicate: string, arg0: string): Predicate {
  const found: Predicate[] = [];
  const walk = (f: Formula): void => {
    if (f.type === 'atom') found.push(f);
    else if (f.type === 'not') walk(f.arg);
    else f.args.forEach(walk);
  };
  walk(goal);
  const p = found.find((a) => a.predicate === predicate && a.args[0] === arg0);
  if (!p) throw new Error(`no (${predicate} ${arg0} ...) in the goal`);
  return p;
}

describe('dual-arm suite files', () => {
  it('declares its robot, cameras and max steps, and has five tasks of 50 init states', () => {
    expect(ALL_SUITES).toEqual([...SUITES, 'dual_arm']);
    expect(suite.robot).toBe('agibot/dual_arm');
    expect(suite.cameras).toEqual(['head', 'left_wrist', 'right_wrist']);
    expect(suite.maxSteps).toBe(MAX_STEPS.dual_arm);
    expect(suite.tasks.length).toBeGreaterThanOrEqual(5);
    for (const t of suite.tasks) {
      expect(t.initStates).toHaveLength(50);
      expect(unevaluatedPredicates(t.task.goal)).toEqual([]);
      expect(t.task.language.split(' ').length).toBeGreaterThan(4);
      const names = [...taskShapes(t.task).keys()].sort();
      for (const st of t.initStates) expect(st.placements.map((p) => p.name).sort()).toEqual(names);
      // sampled layouts keep table-standing footprints apart
      for (const st of t.initStates.slice(0, 10)) {
        const fp = tableFootprints(t.task, st);
        for (let i = 0; i < fp.length; i++) for (let j = i + 1; j < fp.length; j++) {
          if (fp[i]!.name !== fp[j]!.name) expect(Math.hypot(fp[i]!.x - fp[j]!.x, fp[i]!.y - fp[j]!.y)).toBeGreaterThanOrEqual(fp[i]!.r + fp[j]!.r);
        }
      }
    }
    // the four LIBERO-style suites keep the Franka
    expect(loadSuite('goal').robot).toBe('franka/fr3');
    expect(loadSuite('goal').cameras).toEqual(['agentview', 'eye_in_hand']);
  });

  it('BDDL files round-trip and the generator writes the shipped files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-dual-'));
    try {
      generateSuites(dir);
      const shipped = join(SUITES_DIR, 'dual_arm');
      for (const f of readdirSync(shipped).filter((x) => x.endsWith('.bddl') || x === 'index.json')) {
        expect(readFileSync(join(dir, 'dual_arm', f), 'utf8')).toBe(readFileSync(join(shipped, f), 'utf8'));
        if (f.endsWith('.bddl')) {
          const text = readFileSync(join(shipped, f), 'utf8');
          expect(formatBddl(parseBddl(text, f))).toBe(text);
        }
      }
      for (const f of readdirSync(join(shipped, 'init'))) expect(readFileSync(join(dir, 'dual_arm', 'init', f), 'utf8')).toBe(readFileSync(join(shipped, 'init', f), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads gripper tokens without declarations and rejects them as region targets', () => {
    expect(gripperRef('left_gripper')).toEqual({ kind: 'gripper', name: 'left_gripper', arm: 'left' });
    expect(gripperRef('gripper')).toEqual({ kind: 'gripper', name: 'gripper', arm: null });
    expect(gripperRef('left_grip')).toBeUndefined();
    const g = atomOf(LIFT.task.goal, 'grasped', 'left_gripper');
    expect(g.refs[0]).toEqual({ kind: 'gripper', name: 'left_gripper', arm: 'left' });
    const bad = readFileSync(LIFT.file, 'utf8').replace('(:target main_table)', '(:target left_gripper)');
    expect(() => parseBddl(bad, 'bad.bddl', { strictRegionTargets: true })).toThrow(BddlError);
  });

  it('places the dual arm in task scenes below the table plane, and names unknown robots', () => {
    const tr = taskRobot('agibot/dual_arm');
    expect(tr.embodiment).toBe('agibot');
    expect(tr.arms).toEqual(['left', 'right']);
    const scene = buildTaskScene(LIFT.task, LIFT.initStates[0]!, tr);
    expect(scene.robots).toEqual([{ kind: 'agibot_dual_arm', pos: [-0.03, 0, TABLE_TOP_Z - 0.75] }]);
    expect(buildTaskScene(LIFT.task, LIFT.initStates[0]!).robots).toEqual([{ kind: 'franka_fr3', pos: [0, 0, 0.4] }]);
    expect(() => taskRobot('franka/panda_nonexistent')).toThrow(TaskRobotError);
  });

  it('names state dims per arm for two arms and LIBERO-style for one', () => {
    expect(stateNames(taskRobot('agibot/dual_arm').description)).toEqual([
      ...[1, 2, 3, 4, 5, 6, 7].map((k) => `left_joint${k}`),
      ...[1, 2, 3, 4, 5, 6, 7].map((k) => `right_joint${k}`),
      'left_gripper_width',
      'right_gripper_width',
    ]);
    expect(stateNames(taskRobot('franka/fr3').description)).toEqual(['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7', 'gripper_width']);
  });
});

describe('Grasped and Lifted on a fake world', () => {
  const shape = taskShapes(LIFT.task).get('long_box_1')!;
  const world = (z: number, touching: Set<string>, grippers?: Map<string, string[]>): WorldView => ({
    shapes: new Map([[shape.name, shape]]),
    regions: [],
    tableCentre: [0.5, 0, TABLE_TOP_Z],
    bodyPose: () => ({ pos: [0.33, 0, z], mat: [1, 0, 0, 0, 1, 0, 0, 0, 1] }),
    inContact: (a, b) => touching.has(`${a}|${b}`),
    jointPosition: () => 0,
    grippers,
  });
  const fingers = new Map([['left', ['l1', 'l2']], ['right', ['r1', 'r2']]]);
  const grasped = (arm: string) => atomOf(LIFT.task.goal, 'grasped', `${arm}_gripper`);
  const lifted = atomOf(LIFT.task.goal, 'lifted', 'long_box_1');

  it('Grasped needs every finger of that gripper on the object', () => {
    const both = new Set(['l1|long_box_1', 'l2|long_box_1']);
    expect(evaluateAtom(grasped('left'), world(0.44, both, fingers))).toBe(true);
    expect(evaluateAtom(grasped('right'), world(0.44, both, fingers))).toBe(false);
    expect(evaluateAtom(grasped('left'), world(0.44, new Set(['l1|long_box_1']), fingers))).toBe(false);
    expect(() => evaluateAtom(grasped('left'), world(0.44, both))).toThrow(PredicateError);
    expect(() => evaluateAtom(grasped('left'), world(0.44, both, new Map([['arm', ['f']]])))).toThrow(/no arm 'left'.*arm_gripper/);
  });

  it('Lifted needs the bottom 5 cm above the table and no table contact', () => {
    const bottomAt = (b: number) => b + shape.size[2];
    expect(evaluateAtom(lifted, world(bottomAt(TABLE_TOP_Z + 0.049), new Set(), fingers))).toBe(false);
    expect(evaluateAtom(lifted, world(bottomAt(TABLE_TOP_Z + 0.051), new Set(), fingers))).toBe(true);
    expect(evaluateAtom(lifted, world(bottomAt(TABLE_TOP_Z + 0.08), new Set(['long_box_1|table']), fingers))).toBe(false);
    expect(evaluateAtom(lifted, world(bottomAt(TABLE_TOP_Z + 0.051), new Set(), fingers), { liftHeight: 0.06 })).toBe(false);
  });
});

describe('dual-arm TaskEnv', () => {
  let env: TaskEnv;
  beforeAll(async () => {
    env = await TaskEnv.create({ task: LIFT.task, name: LIFT.name, initStates: LIFT.initStates, robot: suite.robot, robotCommandMode: 'ee_delta', cameras: [] });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  it('resets to an init state, observes both arms and is not solved at the start', async () => {
    env.reset(3);
    const obs = await env.observe();
    const f = obs.proprio.fields;
    expect(f['joint_positions']).toHaveLength(14);
    expect(f['gripper']).toHaveLength(2);
    expect(f['ee_position']).toHaveLength(6);
    expect(f['ee_quaternion']).toHaveLength(8);
    expect(Array.from(f['gripper']!).every((w) => Math.abs(w - 0.08) < 0.005)).toBe(true);
    const p = env.privileged();
    expect(p.tcps).toHaveLength(2);
    // left arm on the +y side, right on -y, both above the table
    expect(p.tcps[0]![1]).toBeGreaterThan(0.15);
    expect(p.tcps[1]![1]).toBeLessThan(-0.15);
    for (const t of p.tcps) expect(t[2]).toBeGreaterThan(TABLE_TOP_Z + 0.05);
    const box = p.objects.find((o) => o.name === 'long_box_1')!;
    const placed = LIFT.initStates[3]!.placements.find((q) => q.name === 'long_box_1')!;
    expect(Math.hypot(box.pos[0] - placed.pos[0], box.pos[1] - placed.pos[1])).toBeLessThan(0.003);
    expect(env.success()).toBe(false);
    expect(env.evaluate().detail.map((d) => d.value)).toEqual([false, false, false]);
  });

  it('applies per-arm end-effector deltas: the left TCP moves, the right holds', () => {
    env.reset(0);
    const noop = env.noop();
    expect(noop.type === 'ee_delta' && noop.delta.length).toBe(12);
    const before = env.privileged().tcps;
    for (let k = 0; k < 10; k++) {
      const delta = new Float64Array(12);
      delta[0] = 0.005; // left +x, 5 mm per tick
      env.apply({ type: 'ee_delta', delta, gripper: Float64Array.of(0.08, 0.08), held: false, interventions: [] });
    }
    const after = env.privileged().tcps;
    expect(after[0]![0] - before[0]![0]).toBeGreaterThan(0.04);
    expect(after[0]![0] - before[0]![0]).toBeLessThan(0.06);
    expect(Math.hypot(after[1]![0] - before[1]![0], after[1]![1] - before[1]![1], after[1]![2] - before[1]![2])).toBeLessThan(0.003);
  });

  it('the bimanual expert lifts the long box with both grippers', async () => {
    const r = await runExpertEpisode({ env, init: 7, maxSteps: suite.maxSteps });
    expect(r.success).toBe(true);
    expect(r.steps).toBeLessThan(150);
    const detail = env.evaluate().detail;
    expect(detail.find((d) => d.atom === '(Grasped left_gripper long_box_1)')?.value).toBe(true);
    expect(detail.find((d) => d.atom === '(Grasped right_gripper long_box_1)')?.value).toBe(true);
  }, 60_000);
});

describe('bimanual expert', () => {
  it('hands the bar over: the right gripper holds it up, the left has let go', async () => {
    const env = await TaskEnv.create({ task: HANDOVER.task, initStates: HANDOVER.initStates, robot: suite.robot, robotCommandMode: 'ee_delta', cameras: [] });
    try {
      const r = await runExpertEpisode({ env, init: 11, maxSteps: suite.maxSteps, noise: { actionStd: 0.002, graspStd: 0.002 } });
      expect(r.success).toBe(true);
      const status = r.status;
      expect('arms' in status && status.events).toEqual(expect.arrayContaining(['left:pick wooden_bar_1', 'left:to hand-over', 'right:take wooden_bar_1']));
      const values = Object.fromEntries(env.evaluate().detail.map((d) => [d.atom, d.value]));
      expect(values).toEqual({ '(Grasped right_gripper wooden_bar_1)': true, '(Grasped left_gripper wooden_bar_1)': false, '(Lifted wooden_bar_1)': true });
    } finally {
      await env.close();
    }
  }, 60_000);

  it('has a 14-D action space with gripper dims 6 and 13, and refuses goals it cannot plan', () => {
    const w: WorldView = { shapes: taskShapes(LIFT.task), regions: [], tableCentre: [0.5, 0, 0.4], bodyPose: () => ({ pos: [0, 0, 0], mat: [1, 0, 0, 0, 1, 0, 0, 0, 1] }), inContact: () => false, jointPosition: () => 0 };
    const e = expertForTask({ world: w, goal: LIFT.task.goal, robot: { arms: ['left', 'right'], embodiment: 'agibot' } });
    expect(e).toBeInstanceOf(BimanualExpertPolicy);
    const spec = e.metadata.embodiments['agibot']!;
    expect(spec.names).toHaveLength(14);
    expect(spec.names[0]).toBe('left_dx');
    expect(spec.names[13]).toBe('right_gripper');
    expect(spec.gripper_dims).toEqual([6, 13]);
    const kitchen = loadSuite('goal').tasks.find((t) => t.name === 'open_the_top_drawer_of_the_cabinet')!;
    expect(() => new BimanualExpertPolicy({ world: { ...w, shapes: taskShapes(kitchen.task) }, goal: kitchen.task.goal })).toThrow(ExpertError);
    expect(expertForTask({ world: w, goal: { type: 'and', args: [] }, robot: { arms: ['arm'], embodiment: 'franka' } }).metadata.embodiments['franka']!.names).toHaveLength(7);
  });
});
