import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchPhysics } from '../../sim/physics/bench.ts';
import { Simulation } from '../../sim/physics/simulation.ts';
import { buildScene, lookAtXyaxes } from '../../sim/scene/build.ts';
import { SceneError } from '../../sim/scene/mjcf.ts';
import type { SceneDescription } from '../../sim/scene/types.ts';

const kitchen: SceneDescription = {
  table: { pos: [0.5, 0, 0.4], halfSize: [0.45, 0.7] },
  robots: [{ kind: 'franka_fr3', pos: [0, 0, 0.4] }],
  objects: [
    { type: 'box', name: 'cube', pos: [0.45, 0.2, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1, friction: 1.2 },
    { type: 'cylinder', name: 'can', pos: [0.55, 0.2, 0.45], radius: 0.03, halfHeight: 0.05 },
    { type: 'plate', name: 'plate', pos: [0.45, -0.2, 0.41], radius: 0.08 },
    { type: 'bowl', name: 'bowl', pos: [0.6, -0.05, 0.401], radius: 0.07, height: 0.05, mass: 0.2 },
    { type: 'basket', name: 'basket', pos: [0.7, 0.3, 0.401], size: [0.08, 0.1, 0.05] },
    { type: 'cabinet', name: 'cabinet', pos: [0.8, -0.35, 0.4], size: [0.15, 0.15, 0.1], quat: [1, 0, 0, 0] },
    { type: 'knob', name: 'stove', pos: [0.35, -0.45, 0.4] },
  ],
};

describe('scene composition', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await Simulation.create({ scene: kitchen });
  });
  afterAll(() => sim.dispose());

  it('builds one MJCF with robot, objects, cameras, lights and a full home keyframe', () => {
    const xml = buildScene(kitchen);
    expect(xml).toContain('<camera name="agentview"');
    expect(xml).toContain('name="eye_in_hand"');
    expect(xml).toMatch(/<light name="light0"/);
    // 9 robot qpos + 5 free objects x 7 + drawer + knob
    expect(sim.nq).toBe(9 + 5 * 7 + 2);
    expect(sim.names('camera')).toEqual(expect.arrayContaining(['agentview', 'eye_in_hand']));
    expect(Array.from(sim.bodyPose('can').pos)).toEqual([0.55, 0.2, 0.45]);
  });

  it('objects settle on the table without exploding', () => {
    sim.reset();
    sim.step(1000);
    expect(sim.bodyPose('cube').pos[2]).toBeCloseTo(0.425, 2);
    expect(sim.bodyPose('can').pos[2]).toBeCloseTo(0.45, 2);
    expect(sim.bodyPose('bowl').pos[2]).toBeCloseTo(0.4, 2);
    expect(sim.inContact('plate', 'table')).toBe(true);
    expect(sim.inContact('basket', 'table')).toBe(true);
    expect(Math.abs(sim.jointPositions(['fr3_joint2'])[0] + 0.785)).toBeLessThan(0.01);
  });

  it('the drawer slides along its joint and the knob turns', () => {
    sim.reset();
    sim.setJointPositions(['cabinet_drawer_joint', 'stove_joint'], [0.1, 1.0]);
    sim.forward();
    const front = sim.bodyPose('cabinet_drawer').pos;
    expect(front[0]).toBeCloseTo(0.8 - 0.1, 6); // slides out along local -x
    sim.step(200);
    expect(sim.jointPositions(['cabinet_drawer_joint'])[0]).toBeCloseTo(0.1, 2); // no spring: stays open
    expect(sim.jointPositions(['stove_joint'])[0]).toBeCloseTo(1.0, 2);
  });

  it('agentview looks at the table from the front', () => {
    const xy = lookAtXyaxes([1.3, 0, 1.15], [0.4, 0, 0.4]);
    expect(xy[1]).toBeCloseTo(1, 9); // facing -x, the image's right is +y
    const forward = [-(xy[1] * xy[5] - xy[2] * xy[4]), -(xy[2] * xy[3] - xy[0] * xy[5]), -(xy[0] * xy[4] - xy[1] * xy[3])];
    const d = [0.4 - 1.3, 0, 0.4 - 1.15];
    const n = Math.hypot(...d);
    for (let i = 0; i < 3; i++) expect(forward[i]).toBeCloseTo(d[i] / n, 9);
  });

  it('rejects bad descriptions with named errors', () => {
    expect(() => buildScene({ objects: [{ type: 'box', name: 'a', pos: [0, 0, 0], size: [1, 1, 1] }, { type: 'box', name: 'a', pos: [0, 0, 0], size: [1, 1, 1] }] })).toThrow(/'a' is used twice/);
    expect(() => buildScene({ objects: [{ type: 'box', name: 'a', pos: [0, 0, 0], quat: [0, 0, 0, 0], size: [1, 1, 1] }] })).toThrow(SceneError);
    expect(() => buildScene({ robots: [{ kind: 'mjcf', path: '/nonexistent/robot.xml' }] })).toThrow(/does not exist/);
  });
});

describe('physics bench', () => {
  it('reports Franka steps/s', async () => {
    const entries = await benchPhysics({ steps: 2000 });
    const raw = entries.find((e) => e.name === 'sim.physics_steps_per_s.franka');
    expect(raw?.unit).toBe('steps/s');
    expect(raw?.value).toBeGreaterThan(500);
    expect(entries.find((e) => e.name === 'sim.physics_steps_per_s.franka_osc')?.value).toBeGreaterThan(100);
  });
});
