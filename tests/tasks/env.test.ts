import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUITES, loadSuite } from '../../sim/tasks/suites/index.ts';
import { TaskEnv, TaskEnvError } from '../../sim/tasks/task-env.ts';
import { placementBodyPose } from '../../sim/tasks/task-scene.ts';

const goalSuite = loadSuite('goal');
const drawerTask = goalSuite.tasks.find((t) => t.name === 'open_the_top_drawer_of_the_cabinet')!;

describe('TaskEnv', () => {
  let env: TaskEnv;
  beforeAll(async () => {
    env = await TaskEnv.create({ task: drawerTask.task, initStates: drawerTask.initStates, robotCommandMode: 'ee_delta', cameras: [] });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('reports the instruction in lower case and the init state count', () => {
    expect(env.instruction).toBe('open the top drawer of the cabinet');
    expect(env.numInitStates).toBe(50);
  });

  it('reset(i) puts the objects at init state i, at rest after 10 settling steps', () => {
    for (const i of [0, 7, 49]) {
      env.reset(i);
      expect(env.initIndex).toBe(i);
      // 10 policy steps of 50 ms
      expect(env.robot.time).toBeCloseTo(0.5, 9);
      const priv = env.privileged();
      for (const p of drawerTask.initStates[i]!.placements) {
        const shape = env.shapes.get(p.name)!;
        const want = placementBodyPose(shape, p).pos;
        const got = priv.objects.find((o) => o.name === p.name)!.pos;
        expect(Math.hypot(got[0] - want[0], got[1] - want[1], got[2] - want[2])).toBeLessThan(0.002);
      }
      expect(priv.drawers).toEqual({ wooden_cabinet_1: expect.closeTo(0, 3) });
      expect(Math.abs(priv.knobs['flat_stove_1']!)).toBeLessThan(1e-3);
      expect(priv.gripperWidth).toBeGreaterThan(0.07);
      expect(env.success()).toBe(false);
    }
  });

  it('replays identically from the same init state', () => {
    const run = (): number[] => {
      env.reset(3);
      const cmd = env.noop();
      if (cmd.type !== 'ee_delta') throw new Error('ee_delta expected');
      for (let k = 0; k < 5; k++) env.apply({ ...cmd, delta: Float64Array.from([0, 0, -0.01, 0, 0, 0]) });
      return [...env.privileged().tcp];
    };
    const a = run();
    const b = run();
    expect(b).toEqual(a);
    env.reset(3);
    // moving down 5 cm in 5 steps lowered the TCP
    expect(a[2]).toBeLessThan(env.privileged().tcp[2] - 0.02);
  });

  it('success() follows the drawer joint', () => {
    env.reset(0);
    const d = env.shapes.get('wooden_cabinet_1')!.drawer!;
    env.robot.sim.setJointPositions([d.joint], [0.9 * d.travel]);
    env.robot.sim.forward();
    expect(env.success()).toBe(true);
    expect(env.evaluate().detail).toEqual([{ atom: '(Open wooden_cabinet_1_top_region)', value: true }]);
  });

  it('rejects an init index out of range', () => {
    expect(() => env.reset(50)).toThrow(TaskEnvError);
    expect(() => env.reset(-1)).toThrow(/0\.\.49/);
  });

  it('takes joint-position commands when created for them', async () => {
    const j = await TaskEnv.create({ task: drawerTask.task, initStates: drawerTask.initStates.slice(0, 2), robotCommandMode: 'joint_position', cameras: [] });
    try {
      j.reset(1);
      const cmd = j.noop();
      expect(cmd.type).toBe('joint_position');
      expect(() => j.apply({ type: 'ee_delta', delta: new Float64Array(6), gripper: new Float64Array([0.08]), held: false, interventions: [] })).toThrow(/joint_position/);
    } finally {
      await j.close();
    }
  });
});

describe('every suite task', () => {
  it('loads its init states and nothing moves more than 3 mm over the 10 settling steps', async () => {
    const worst: string[] = [];
    for (const s of SUITES) {
      for (const t of loadSuite(s).tasks) {
        const env = await TaskEnv.create({ task: t.task, initStates: t.initStates, robotCommandMode: 'ee_delta', cameras: [] });
        try {
          for (const i of [0, 24, 49]) {
            env.reset(i, { settleSteps: 0 });
            const before = env.privileged().objects;
            for (let k = 0; k < 10; k++) env.apply(env.noop());
            const after = env.privileged().objects;
            after.forEach((o, n) => {
              const b = before[n]!.pos;
              const d = Math.hypot(o.pos[0] - b[0], o.pos[1] - b[1], o.pos[2] - b[2]);
              if (!(d < 0.003)) worst.push(`${s}/${t.name}[${i}] ${o.name} moved ${(d * 1000).toFixed(1)} mm`);
            });
            expect(env.success(), `${t.name} is solved at init state ${i}`).toBe(false);
          }
        } finally {
          await env.close();
        }
      }
    }
    expect(worst).toEqual([]);
  }, 120_000);
});
