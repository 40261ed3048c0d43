import { describe, expect, it } from 'vitest';
import { mat2axisAngle, matMulT3 } from '../../sim/physics/math.ts';
import { MAX_ROT_STEP, StageRunner, closingYaw, deltaTowards, graspFor, moveTo, nearestYaw, rotationDistance, topDown, type SkillContext, type TcpState } from '../../sim/expert/skills.ts';
import { goalAtoms, ExpertError } from '../../sim/expert/expert.ts';
import { resolveTask, type FormulaDraft } from '../../sim/tasks/task.ts';
import { taskShapes } from '../../sim/tasks/task-scene.ts';

const tcpAt = (pos: number[], yaw: number, width = 0.08): TcpState => ({ pos: Float64Array.from(pos), mat: topDown(yaw), width });

describe('skill geometry', () => {
  it('topDown is a proper rotation pointing the fingers down with the closing axis at the yaw', () => {
    for (const yaw of [-2, -0.3, 0, 0.7, 3]) {
      const m = topDown(yaw);
      // R R^T = I and det = +1
      const rrt = matMulT3(m, m);
      for (let i = 0; i < 9; i++) expect(rrt[i]).toBeCloseTo(i % 4 === 0 ? 1 : 0, 12);
      const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
      expect(det).toBeCloseTo(1, 12);
      expect([m[2], m[5], m[8]]).toEqual([0, 0, -1]);
      expect(Math.cos(closingYaw(m) - yaw)).toBeCloseTo(1, 12);
    }
  });

  it('nearestYaw picks the parallel-gripper equivalent within pi/2 of the reference', () => {
    expect(nearestYaw(3.0, 0)).toBeCloseTo(3.0 - Math.PI, 12);
    expect(nearestYaw(-2.0, 0.5)).toBeCloseTo(-2.0 + Math.PI, 12);
    expect(nearestYaw(0.2, 0.1)).toBe(0.2);
  });

  it('deltaTowards clips translation and rotation per tick and keeps their directions', () => {
    const a = deltaTowards(tcpAt([0.5, 0, 0.6], 0), { pos: [0.5, 0.3, 0.2], mat: topDown(1.0) }, 0.03, 0.015);
    expect(Math.hypot(a[0], a[1], a[2])).toBeCloseTo(0.015, 12);
    expect(a[1] / a[2]).toBeCloseTo(0.3 / -0.4, 9);
    expect(Math.hypot(a[3], a[4], a[5])).toBeCloseTo(MAX_ROT_STEP, 12);
    expect(a[5]).toBeGreaterThan(0); // yaw +1 rad about world z
    expect(a[6]).toBe(0.03);
    // close to the goal the action is the exact error
    const b = deltaTowards(tcpAt([0.5, 0, 0.6], 0), { pos: [0.503, -0.002, 0.6], mat: topDown(0.02) }, 0, 0.015);
    expect(b[0]).toBeCloseTo(0.003, 12);
    expect(b[1]).toBeCloseTo(-0.002, 12);
    expect(b[5]).toBeCloseTo(0.02, 9);
    expect(rotationDistance(topDown(0.02), topDown(0))).toBeCloseTo(0.02, 9);
    expect(Math.hypot(...mat2axisAngle(matMulT3(topDown(0.5), topDown(0.5))))).toBeCloseTo(0, 12);
  });

  it('grasps boxes across their shorter side and bowls by the rim facing the robot', () => {
    const task = resolveTask({
      problem: 't', domain: 'robosuite', language: 'x', regions: [], objectsOfInterest: [], init: [], goal: { type: 'atom', predicate: 'true', args: [] },
      fixtures: [], objects: [{ name: 'cream_cheese_1', category: 'cream_cheese' }, { name: 'akita_black_bowl_1', category: 'akita_black_bowl' }],
    });
    const shapes = taskShapes(task);
    // cream cheese 0.07 x 0.05 x 0.03 yawed by 0.4 rad: close along its local y (0.05 m), i.e. yaw 0.4 + pi/2
    const c = Math.cos(0.4);
    const s = Math.sin(0.4);
    const box = graspFor(shapes.get('cream_cheese_1')!, { pos: [0.5, 0.1, 0.415], mat: [c, -s, 0, s, c, 0, 0, 0, 1] }, 0);
    expect(Math.abs(Math.sin(box.yaw - (0.4 + Math.PI / 2)))).toBeLessThan(1e-9);
    expect(box.pos.slice(0, 2)).toEqual([0.5, 0.1]);
    expect(box.open).toBeCloseTo(0.08, 9);
    // bowl (radius 0.065, height 0.044, wall 0.008) at (0.6, 0): rim point at x = 0.6 - 0.061, z = top - 0.014
    const bowl = graspFor(shapes.get('akita_black_bowl_1')!, { pos: [0.6, 0, 0.4], mat: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 0);
    expect(bowl.pos[0]).toBeCloseTo(0.539, 9);
    expect(bowl.pos[1]).toBeCloseTo(0, 9);
    expect(bowl.pos[2]).toBeCloseTo(0.43, 9);
    expect(Math.abs(Math.sin(bowl.yaw))).toBeLessThan(1e-9); // closing radially (along x)
  });

  it('a stage ends when the pose is reached, and a stage that cannot be reached ends by timeout', () => {
    const world = { bodyPose: () => ({ pos: [0, 0, 0], mat: [1, 0, 0, 0, 1, 0, 0, 0, 1] }), jointPosition: () => 0 };
    const runner = new StageRunner([
      moveTo('go', { pos: [0.5, 0, 0.55], mat: topDown(0) }, { gripper: 0.08 }),
      moveTo('blocked', { pos: [0.5, 0, 0.3], mat: topDown(0) }, { gripper: 0.08, maxTicks: 30 }),
    ]);
    const tcp = tcpAt([0.5, 0, 0.6], 0);
    let ticks = 0;
    // a perfect controller for the first stage; then the TCP is stuck at z = 0.5
    for (; ticks < 40; ticks++) {
      const ctx: SkillContext = { tcp, world };
      const a = runner.step(ctx);
      if (!a) break;
      for (let i = 0; i < 3; i++) tcp.pos[i] += a[i];
      tcp.pos[2] = Math.max(tcp.pos[2], 0.5);
    }
    expect(runner.done).toBe(true);
    expect(runner.timeouts).toEqual([]); // stalled, not timed out: the stall detector ended it
    expect(tcp.pos[2]).toBeCloseTo(0.5, 9);
    expect(ticks).toBeLessThan(20);
    // a goal that keeps running away is neither reached nor stalled: the stage times out
    let x = 0.5;
    const chase = new StageRunner([moveTo('chase', () => ({ pos: [(x += 0.02), 0, 0.6], mat: topDown(0) }), { gripper: 0.08, maxTicks: 9 })]);
    let n = 0;
    for (let a = chase.step({ tcp, world }); a; a = chase.step({ tcp, world })) {
      for (let i = 0; i < 3; i++) tcp.pos[i] += a[i];
      n++;
    }
    expect(n).toBe(9);
    expect(chase.timeouts).toEqual(['chase']);
  });
});

describe('goal planning order', () => {
  const draft = (goal: FormulaDraft) =>
    resolveTask({
      problem: 't', domain: 'robosuite', language: 'x', objectsOfInterest: [], init: [], goal,
      fixtures: [{ name: 'wooden_cabinet_1', category: 'wooden_cabinet' }],
      regions: [{ name: 'top_region', target: 'wooden_cabinet_1', ranges: [] }],
      objects: [{ name: 'cream_cheese_1', category: 'cream_cheese' }, { name: 'akita_black_bowl_1', category: 'akita_black_bowl' }, { name: 'plate_1', category: 'plate' }],
    });
  const atom = (predicate: 'in' | 'on' | 'open' | 'close', ...args: string[]): FormulaDraft => ({ type: 'atom', predicate, args });

  it('opens first, moves a container before filling it, closes last', () => {
    const t = draft({ type: 'and', args: [atom('close', 'wooden_cabinet_1_top_region'), atom('in', 'cream_cheese_1', 'akita_black_bowl_1'), atom('on', 'akita_black_bowl_1', 'plate_1'), atom('open', 'wooden_cabinet_1_top_region')] });
    expect(goalAtoms(t.goal).map((a) => `${a.predicate} ${a.args[0]}`)).toEqual(['open wooden_cabinet_1_top_region', 'on akita_black_bowl_1', 'in cream_cheese_1', 'close wooden_cabinet_1_top_region']);
  });

  it('refuses negated goals with a message saying what to write instead', () => {
    const t = draft({ type: 'not', arg: atom('open', 'wooden_cabinet_1_top_region') });
    expect(() => goalAtoms(t.goal)).toThrow(ExpertError);
    expect(() => goalAtoms(t.goal)).toThrow(/Close/);
  });
});
