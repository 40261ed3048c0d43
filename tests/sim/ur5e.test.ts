/**
 * The UR5e in the simulator: its MJCF against the description's kinematics, joint and OSC
 * control over the task table's workspace, the gripper, a grasp-and-lift, and the wiring
 * into SimRobot and the `ur5e` scene preset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlLoop, SIM_ARMS, UR5E_ARM_JOINTS, FR3_ARM_JOINTS, controlPreset } from '../../sim/physics/controllers.ts';
import { mat2axisAngle, matMulT3 } from '../../sim/physics/math.ts';
import { Simulation } from '../../sim/physics/simulation.ts';
import { SimRobot } from '../../sim/env/sim-robot.ts';
import { scenePreset } from '../../sim/env/presets.ts';
import { loadSimMapping } from '../../src/ros/sim-node.ts';
import type { BuiltinRobot, SceneDescription } from '../../sim/scene/types.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { chainFromArm, forwardKinematics, jacobian, type Chain } from '../../src/embodiment/kinematics.ts';
import { Rng } from '../../src/util/random.ts';

/** the Franka suites' world: table top at z 0.4 m, robot base at the table's near edge */
const BASE_Z = 0.4;
const scene = (kind: BuiltinRobot): SceneDescription => ({
  table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] },
  robots: [{ kind, pos: [0, 0, BASE_Z] }],
  objects: [{ type: 'box', name: 'cube', pos: [0.5, 0, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1 }],
});
/** TCP pointing down, x forward (the FR3 ready pose's orientation), world */
const DOWN = [1, 0, 0, 0, -1, 0, 0, 0, -1];

/** angle of the rotation between two row-major 3x3 matrices, rad */
function angleBetween(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = mat2axisAngle(matMulT3(a, b));
  return Math.hypot(w[0], w[1], w[2]);
}

/**
 * Closed-loop scripted OSC move: position delta capped at 2 cm and rotation towards DOWN at
 * 0.05 rad per policy step. Returns the largest per-step tracking error: distance between
 * where a step asked the TCP to go (measured + delta) and where it was after the step, m.
 */
function moveTcp(sim: Simulation, loop: ControlLoop, target: readonly number[], width: number, steps: number): number {
  let worst = 0;
  for (let s = 0; s < steps; s++) {
    const p = sim.sitePose('tcp');
    const a = [0, 0, 0, 0, 0, 0, width];
    for (let i = 0; i < 3; i++) a[i] = Math.max(-0.02, Math.min(0.02, target[i] - p.pos[i]));
    const w = mat2axisAngle(matMulT3(DOWN, p.mat));
    const n = Math.hypot(w[0], w[1], w[2]);
    const k = n > 0.05 ? 0.05 / n : 1;
    for (let i = 0; i < 3; i++) a[3 + i] = w[i] * k;
    loop.act(a);
    const q = sim.sitePose('tcp').pos;
    worst = Math.max(worst, Math.hypot(q[0] - p.pos[0] - a[0], q[1] - p.pos[1] - a[1], q[2] - p.pos[2] - a[2]));
  }
  return worst;
}

describe('UR5e MJCF against the description kinematics', () => {
  const cases: { kind: BuiltinRobot; id: string; joints: readonly string[] }[] = [
    { kind: 'ur5e', id: 'universal_robots/ur5e', joints: UR5E_ARM_JOINTS },
    { kind: 'franka_fr3', id: 'franka/fr3', joints: FR3_ARM_JOINTS },
  ];
  for (const { kind, id, joints } of cases) {
    it(`${id}: TCP pose and Jacobian equal MuJoCo's for random configurations`, async () => {
      const sim = await Simulation.create({ scene: scene(kind) });
      try {
        const robot = loadRobot(id);
        const chain: Chain = chainFromArm(robot.arms[0]);
        const rng = new Rng(21);
        const nv = sim.nv;
        const dofs = joints.map((j) => sim.jointDofAdr(j));
        for (let k = 0; k < 100; k++) {
          const q = Float64Array.from(chain.lower, (lo, i) => lo + rng.uniform() * (chain.upper[i] - lo));
          const m = sim.siteKinematicsAt('tcp', joints, q);
          const T = forwardKinematics(chain, q);
          expect(Math.abs(m.pos[0] - T[3])).toBeLessThan(1e-6);
          expect(Math.abs(m.pos[1] - T[7])).toBeLessThan(1e-6);
          expect(Math.abs(m.pos[2] - BASE_Z - T[11])).toBeLessThan(1e-6);
          const R = [T[0], T[1], T[2], T[4], T[5], T[6], T[8], T[9], T[10]];
          expect(angleBetween(m.mat, R)).toBeLessThan(1e-6);
          const J = jacobian(chain, q);
          const n = joints.length;
          for (let r = 0; r < 3; r++) {
            for (let c = 0; c < n; c++) {
              expect(Math.abs(m.jacp[r * nv + dofs[c]] - J[r * n + c])).toBeLessThan(1e-6);
              expect(Math.abs(m.jacr[r * nv + dofs[c]] - J[(r + 3) * n + c])).toBeLessThan(1e-6);
            }
          }
        }
      } finally {
        sim.dispose();
      }
    });
  }
});

describe('UR5e in a task scene', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await Simulation.create({ scene: scene('ur5e'), seed: 4 });
  });
  afterAll(() => sim.dispose());

  it('starts at home with the TCP at the FR3 ready pose, gripper open, and holds it', () => {
    sim.reset();
    const tcp = sim.sitePose('tcp');
    expect(tcp.pos[0]).toBeCloseTo(0.30691, 4);
    expect(tcp.pos[1]).toBeCloseTo(0, 4);
    expect(tcp.pos[2]).toBeCloseTo(0.48689 + BASE_Z, 4);
    expect(angleBetween(tcp.mat, DOWN)).toBeLessThan(1e-3);
    expect(sim.jointPositions(['ur5e_finger_joint1', 'ur5e_finger_joint2'])[0]).toBeCloseTo(0.0425, 6);
    sim.step(500); // 1 s without commands: gravity-compensated servos hold the keyframe
    expect(Math.hypot(sim.sitePose('tcp').pos[0] - tcp.pos[0], sim.sitePose('tcp').pos[2] - tcp.pos[2])).toBeLessThan(1e-4);
  });

  it('uses the description limits as actuator ranges', () => {
    const [lo, hi] = sim.controlRange('shoulder_pan_joint');
    expect(lo).toBeCloseTo(-2 * Math.PI, 9);
    expect(hi).toBeCloseTo(2 * Math.PI, 9);
    expect(sim.controlRange('elbow_joint')[1]).toBeCloseTo(Math.PI, 9);
    expect(sim.controlRange('ur5e_gripper')).toEqual([0, 0.0425]);
    expect(SIM_ARMS.ur5e).toEqual([{ joints: UR5E_ARM_JOINTS, site: 'tcp', gripper: 'ur5e_gripper' }]);
  });

  it('joint_position control reaches commanded joints (error < 0.01 rad) and sizes actions 6 + 1', () => {
    sim.reset();
    const loop = new ControlLoop(sim, { controllers: controlPreset('ur5e', 'joint_position') });
    expect(loop.actionDim).toBe(7);
    const target = [-0.2, -1.7, 1.9, -1.8, -1.4, 0.3];
    for (let s = 0; s < 40; s++) loop.act([...target, 0.05]);
    const q = sim.jointPositions(UR5E_ARM_JOINTS);
    for (let i = 0; i < 6; i++) expect(Math.abs(q[i] - target[i]), UR5E_ARM_JOINTS[i]).toBeLessThan(0.01);
    expect(sim.jointPositions(['ur5e_finger_joint1'])[0]).toBeCloseTo(0.025, 3);
    expect(() => loop.act([0, 0, 0])).toThrow(/take 7/);
  });

  it('OSC reaches pose targets across the table with the gripper down (< 1 cm, < 0.02 rad)', () => {
    const loop = new ControlLoop(sim, { controllers: controlPreset('ur5e', 'osc_pose') });
    expect(loop.actionDim).toBe(7);
    let worstPos = 0;
    let worstTrack = 0;
    for (const x of [0.35, 0.55, 0.75]) {
      for (const y of [-0.3, 0, 0.3]) {
        for (const z of [0.43, 0.6]) {
          sim.reset();
          loop.reset();
          worstTrack = Math.max(worstTrack, moveTcp(sim, loop, [x, y, z], 0.085, 45));
          const p = sim.sitePose('tcp');
          const e = Math.hypot(p.pos[0] - x, p.pos[1] - y, p.pos[2] - z);
          worstPos = Math.max(worstPos, e);
          expect(e, `target (${x}, ${y}, ${z})`).toBeLessThan(0.01);
          expect(angleBetween(p.mat, DOWN), `target (${x}, ${y}, ${z})`).toBeLessThan(0.02);
        }
      }
    }
    // per policy step the TCP lands within 1 cm of where the step asked it to go
    expect(worstTrack).toBeLessThan(0.01);
    expect(worstPos).toBeLessThan(0.01);
  });

  it('opens and closes the gripper (binary LIBERO mode and width mode)', () => {
    sim.reset();
    const libero = new ControlLoop(sim, { controllers: controlPreset('ur5e', 'libero_osc_pose') });
    const width = (): number => sim.jointPositions(['ur5e_finger_joint1', 'ur5e_finger_joint2']).reduce((a, b) => a + b, 0);
    for (let s = 0; s < 10; s++) libero.act([0, 0, 0, 0, 0, 0, 1]);
    expect(width()).toBeLessThan(0.002);
    for (let s = 0; s < 10; s++) libero.act([0, 0, 0, 0, 0, 0, -1]);
    expect(width()).toBeGreaterThan(0.083);
    const osc = new ControlLoop(sim, { controllers: controlPreset('ur5e', 'osc_pose') });
    for (let s = 0; s < 10; s++) osc.act([0, 0, 0, 0, 0, 0, 0.04]);
    expect(width()).toBeCloseTo(0.04, 3);
  });

  it('grasps a 5 cm cube and lifts it 10 cm (OSC pose + gripper)', () => {
    sim.reset();
    const loop = new ControlLoop(sim, { controllers: controlPreset('ur5e', 'osc_pose') });
    const z0 = sim.bodyPose('cube').pos[2];
    moveTcp(sim, loop, [0.5, 0, 0.55], 0.085, 30);
    moveTcp(sim, loop, [0.5, 0, 0.428], 0.085, 20);
    moveTcp(sim, loop, [0.5, 0, 0.428], 0, 10);
    moveTcp(sim, loop, [0.5, 0, 0.58], 0, 30);
    const z1 = sim.bodyPose('cube').pos[2];
    expect(z1 - z0).toBeGreaterThanOrEqual(0.1);
    expect(sim.inContact('cube', 'ur5e_leftfinger')).toBe(true);
    expect(sim.inContact('cube', 'ur5e_rightfinger')).toBe(true);
    expect(sim.inContact('cube', 'table')).toBe(false);
    // fingers stopped on the 5 cm box: 2.5 cm each
    expect(sim.jointPositions(['ur5e_finger_joint1'])[0]).toBeCloseTo(0.025, 2);
  });
});

describe('UR5e as a SimRobot', () => {
  it('the ur5e preset runs end-effector deltas and reports 6 joints, one gripper and the TCP', async () => {
    const preset = scenePreset('ur5e');
    expect(preset.robot).toBe('universal_robots/ur5e');
    // `armature sim --scene ur5e --ros` reads this mapping
    const mapping = loadSimMapping('ur5e');
    expect(mapping.robot).toBe(preset.robot);
    expect(mapping.commands.joint_trajectory).toBe(loadRobot(preset.robot).ros.commands[0]!.topic);
    const robot = await SimRobot.create({ scene: preset.scene, robot: loadRobot(preset.robot), commandMode: 'ee_delta', policyHz: 20 });
    try {
      expect(robot.tcpSites).toEqual(['tcp']);
      const obs0 = await robot.observe('lift', { images: false });
      expect(obs0.proprio.fields['joint_positions']).toHaveLength(6);
      expect(obs0.proprio.fields['gripper']![0]).toBeCloseTo(0.085, 4);
      const p0 = Float64Array.from(obs0.proprio.fields['ee_position']!);
      for (let s = 0; s < 10; s++) {
        robot.apply({ type: 'ee_delta', delta: Float64Array.of(0.01, 0.005, -0.01, 0, 0, 0), gripper: Float64Array.of(0.085), held: false, interventions: [] });
      }
      const p1 = (await robot.observe('lift', { images: false })).proprio.fields['ee_position']!;
      expect(p1[0] - p0[0]).toBeCloseTo(0.1, 2);
      expect(p1[1] - p0[1]).toBeCloseTo(0.05, 2);
      expect(p1[2] - p0[2]).toBeCloseTo(-0.1, 2);
    } finally {
      await robot.close();
    }
  });
});
