import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createSimSession } from '../../src/ros/session.ts';
import { syntheticFrame } from '../../src/ros/sim-node.ts';
import { SimRobot } from '../../sim/env/sim-robot.ts';
import { scenePreset } from '../../sim/env/presets.ts';
import { runRollout } from '../../sim/env/rollout.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import type { JointTrajectory } from '../../src/ros/messages/index.ts';


const MODEL = join(import.meta.dirname, '..', '..', 'models', 'vla-chunk-tiny');
const STEPS = 60;

/** The direct (non-ROS) loop: runRollout + ControlLoop, with the same synthetic camera frames the sim node publishes. */
async function directCommands(seed: number, opts: { render?: boolean; steps?: number } = {}): Promise<{ positions: number[][]; gripper: number[][] }> {
  const preset = scenePreset('franka');
  const desc = loadRobot(preset.robot);
  const policy = await loadPolicy(MODEL, { seed });
  const robot = await SimRobot.create({ scene: preset.scene, robot: desc, commandMode: 'joint_position', policyHz: 20, seed, ...(opts.render ? { cameras: policy.metadata.cameras } : {}) });
  if (!opts.render) {
    const observe = robot.observe.bind(robot);
    robot.observe = async (instr: string) => {
      const obs = await observe(instr);
      const images = Object.fromEntries(policy.metadata.cameras.map((c) => [c, syntheticFrame(c, robot.time)]));
      return { ...obs, images };
    };
  }
  const loop = new ControlLoop({ policy, robot: desc, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: policy.metadata.horizon } });
  const positions: number[][] = [];
  const gripper: number[][] = [];
  await runRollout({
    robot, loop, instruction: preset.instruction, steps: opts.steps ?? STEPS,
    onStep: ({ step }) => {
      if (step.command.type !== 'joint_position') throw new Error('joint commands expected');
      positions.push(Array.from(step.command.positions));
      gripper.push(Array.from(step.command.gripper));
    },
  });
  await robot.close();
  await policy.dispose();
  return { positions, gripper };
}

describe('ArmatureNode driving the simulator on the in-process transport', () => {
  it('publishes, tick for tick, the commands of the direct loop (same seed, bundled policy)', async () => {
    const direct = await directCommands(3);
    const s = await createSimSession({ scene: 'franka', modelDir: MODEL, seed: 3, parameters: { async_inference: false, gripper_tolerance_m: 0 }, log: () => {} });
    const published: JointTrajectory[] = [];
    const goals: number[] = [];
    const levels: number[] = [];
    s.bus.node('diag').subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', { kind: 'reliable' }, (m) => levels.push(m.status[0]!.level));
    s.bus.node('probe').subscribe('/fr3_arm_controller/joint_trajectory', 'trajectory_msgs/msg/JointTrajectory', { kind: 'reliable' }, (m) => published.push(m));
    const origGoal = s.node.transport.sendGoal.bind(s.node.transport);
    s.node.transport.sendGoal = ((name: string, type: 'franka_msgs/action/Move', goal: { width: number; speed: number }, o?: { timeoutS?: number }) => {
      goals.push(goal.width);
      return origGoal(name, type, goal, o);
    }) as typeof s.node.transport.sendGoal;
    try {
      await s.run(STEPS);
      expect(published).toHaveLength(STEPS);
      const fr3 = loadRobot('franka/fr3');
      for (let k = 0; k < STEPS; k++) {
        const m = published[k]!;
        expect(m.joint_names).toEqual(fr3.arms[0]!.joints.map((j) => j.name));
        expect(m.points).toHaveLength(1);
        expect(m.points[0]!.time_from_start).toEqual({ sec: 0, nanosec: 50_000_000 });
        expect(Array.from(m.points[0]!.positions)).toEqual(direct.positions[k]);
      }
      // gripper goals only on change, and each equals the direct loop's width at that tick
      const changes = direct.gripper.map((g) => g[0]!).filter((w, k, all) => k === 0 || w !== all[k - 1]);
      expect(goals).toEqual(changes);
      expect(s.sim.stats.steps).toBe(STEPS - 1);
      expect(s.sim.stats.rejected).toBe(0);
      expect(s.node.counters.published).toBe(STEPS);
      expect(s.node.counters.holds).toBe(0);
      // diagnostics at 1 Hz, all OK
      expect(levels).toEqual([0, 0, 0]);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('ArmatureNode with cameras rendered by the simulator', () => {
  it('publishes the direct loop\'s commands with rendered rgb8 frames over sensor_msgs/Image', async () => {
    const steps = 12;
    const direct = await directCommands(5, { render: true, steps });
    const s = await createSimSession({ scene: 'franka', modelDir: MODEL, seed: 5, render: true, parameters: { async_inference: false, gripper_tolerance_m: 0 }, log: () => {} });
    const published: number[][] = [];
    s.bus.node('probe').subscribe('/fr3_arm_controller/joint_trajectory', 'trajectory_msgs/msg/JointTrajectory', { kind: 'reliable' }, (m) => published.push(Array.from(m.points[0]!.positions)));
    let frame: { encoding: string; width: number } | undefined;
    s.bus.node('cam').subscribe('/agentview/image', 'sensor_msgs/msg/Image', { kind: 'sensor_data' }, (m) => (frame = { encoding: m.encoding, width: m.width }));
    try {
      await s.run(steps);
      expect(frame).toEqual({ encoding: 'rgb8', width: 128 });
      expect(published).toEqual(direct.positions);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('ArmatureNode on the dual arm (AgiBot conventions)', () => {
  it('sends JointState commands on /joint_command with arm and gripper joints by name, which the simulator applies', async () => {
    const s = await createSimSession({
      scene: 'dual_arm',
      modelDir: join(import.meta.dirname, '..', '..', 'models', 'uniact-tiny'),
      parameters: { embodiment: 'agibot', camera_topics: ['agentview=/genie_sim/head_camera_rgb'] },
      log: () => {},
    });
    const cmds: { name: string[]; position: Float64Array }[] = [];
    s.bus.node('probe').subscribe('/joint_command', 'sensor_msgs/msg/JointState', { kind: 'reliable' }, (m) => cmds.push(m));
    try {
      await s.run(20);
      expect(cmds).toHaveLength(20);
      const desc = loadRobot('agibot/dual_arm');
      const arm = desc.arms.flatMap((a) => a.joints.map((j) => j.name));
      expect(cmds[0]!.name).toEqual([...arm, 'idx41_gripper_l_outer_joint1', 'idx81_gripper_r_outer_joint1']);
      expect(s.sim.stats.rejected).toBe(0);
      expect(s.sim.stats.commands).toBe(20);
      // the simulated arm follows the last command it applied
      const last = cmds.at(-2)!.position;
      const q = s.robot.sim.jointPositions(arm);
      q.forEach((v, i) => expect(Math.abs(v - last[i]!)).toBeLessThan(0.05));
    } finally {
      await s.close();
    }
  }, 60_000);
});
