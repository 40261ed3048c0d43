import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbodimentError } from '../../src/errors.ts';
import { armOffsets, homePose, jointNames } from '../../src/embodiment/description.ts';
import { DEFAULT_HARDWARE_DIR, clearRobotCache, listRobots, loadRobot, parseRobotText } from '../../src/embodiment/registry.ts';

const fr3Text = readFileSync(join(DEFAULT_HARDWARE_DIR, 'franka/fr3.yaml'), 'utf8');

/** A hardware dir with one edited copy of fr3.yaml as 'test/robot'. */
function hardwareWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'armature-hw-'));
  mkdirSync(join(dir, 'test'));
  writeFileSync(join(dir, 'test/robot.yaml'), text);
  return dir;
}

function errorOf(fn: () => unknown): EmbodimentError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EmbodimentError) return e;
    throw e;
  }
  throw new Error('expected an EmbodimentError');
}

describe('robot registry', () => {
  it('lists the shipped robots', () => {
    expect(listRobots()).toEqual(['agibot/dual_arm', 'franka/fr3', 'franka/panda', 'universal_robots/ur5e']);
  });

  it('loads FR3 with the URDF position limits and datasheet rates', () => {
    const r = loadRobot('franka/fr3');
    expect(r.id).toBe('franka/fr3');
    expect(jointNames(r)).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `fr3_joint${i}`));
    const l = r.arms[0].joints.map((j) => j.limits);
    expect(l.map((x) => x.max_position)).toEqual([2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159]);
    expect(l.map((x) => x.min_position)).toEqual([-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159]);
    expect(l.map((x) => x.max_velocity)).toEqual([2.62, 2.62, 2.62, 2.62, 5.26, 4.18, 5.26]);
    expect(l.map((x) => x.max_effort)).toEqual([87, 87, 87, 87, 12, 12, 12]);
    expect(r.arms[0].gripper.width_range).toEqual([0, 0.08]);
    expect(r.ros.commands[0]).toMatchObject({ kind: 'joint_trajectory', topic: '/fr3_arm_controller/joint_trajectory' });
    expect(r.ros.grippers[0]).toMatchObject({ kind: 'franka_actions', move: { name: '/franka_gripper/move', type: 'franka_msgs/action/Move' } });
    expect(r.cameras.map((c) => c.name)).toEqual(['agentview', 'eye_in_hand']);
    expect(r.cartesian_limits.max_translational_velocity).toBe(3.0);
  });

  it('loads Panda with its own limits', () => {
    const l = loadRobot('franka/panda').arms[0].joints.map((j) => j.limits);
    expect(l[5].min_position).toBe(-0.0175);
    expect(l[5].max_position).toBe(3.7525);
    expect(l.map((x) => x.max_acceleration)).toEqual([15, 7.5, 10, 12.5, 15, 20, 20]);
    expect(l.map((x) => x.max_jerk)).toEqual([7500, 3750, 5000, 6250, 7500, 10000, 10000]);
    expect(loadRobot('franka/panda').cartesian_limits.max_translational_velocity).toBe(2.0);
  });

  it('loads the dual arm: 14 joints, two grippers, Genie Sim topics', () => {
    const r = loadRobot('agibot/dual_arm');
    const names = jointNames(r);
    expect(names).toHaveLength(14);
    expect(names[0]).toBe('idx21_arm_l_joint1');
    expect(names[6]).toBe('idx27_arm_l_joint7');
    expect(names[7]).toBe('idx61_arm_r_joint1');
    expect(names[13]).toBe('idx67_arm_r_joint7');
    expect(armOffsets(r)).toEqual([0, 7, 14]);
    expect(homePose(r)).toHaveLength(14);
    expect(r.ros.commands[0]).toMatchObject({ kind: 'joint_state', topic: '/joint_command', type: 'sensor_msgs/msg/JointState' });
    expect(r.ros.joint_states.topic).toBe('/joint_states');
    expect(r.ros.cameras.head.image.topic).toBe('/genie_sim/head_camera_rgb');
    expect(r.cameras.map((c) => c.name)).toEqual(['head', 'left_wrist', 'right_wrist']);
    expect(r.ros.grippers).toHaveLength(2);
  });

  it('caches descriptions', () => {
    expect(loadRobot('franka/fr3')).toBe(loadRobot('franka/fr3'));
    const a = loadRobot('franka/fr3');
    clearRobotCache();
    expect(loadRobot('franka/fr3')).not.toBe(a);
  });

  it('names the known robots for an unknown id', () => {
    const e = errorOf(() => loadRobot('kuka/iiwa'));
    expect(e.code).toBe('embodiment.invalid');
    expect(e.message).toContain("unknown robot 'kuka/iiwa'");
    expect(e.message).toContain('[agibot/dual_arm, franka/fr3, franka/panda, universal_robots/ur5e]');
  });

  it('rejects ids that are not plain paths', () => {
    expect(errorOf(() => loadRobot('../franka/fr3')).message).toContain('malformed');
    expect(errorOf(() => loadRobot('franka/fr3.yaml')).message).toContain('malformed');
  });

  it('names file and line for YAML syntax errors', () => {
    const dir = hardwareWith(fr3Text.replace('name: Franka Research 3', 'name: [Franka'));
    const e = errorOf(() => loadRobot('test/robot', { hardwareDir: dir }));
    expect(e.message).toContain(join(dir, 'test/robot.yaml'));
    expect(e.message).toMatch(/not valid YAML at line \d+/);
  });

  it('names file and field for a missing limit', () => {
    const text = fr3Text.replace(
      'limits: {min_position: -1.7837, max_position: 1.7837, max_velocity: 2.62,',
      'limits: {min_position: -1.7837, max_position: 1.7837,',
    );
    expect(text).not.toBe(fr3Text);
    const dir = hardwareWith(text);
    const e = errorOf(() => loadRobot('test/robot', { hardwareDir: dir }));
    expect(e.message).toContain(join(dir, 'test/robot.yaml'));
    expect(e.message).toContain('arms[0].joints[1].limits.max_velocity');
  });

  it('names misspelled keys', () => {
    const e = errorOf(() => parseRobotText(fr3Text.replace('max_speed: 0.1', 'max_sped: 0.1'), { id: 'x', source: 'x.yaml' }));
    expect(e.message).toContain('arms[0].gripper');
    expect(e.message).toContain('max_sped');
  });

  it('checks the home pose against the limits', () => {
    const text = fr3Text.replace('home: [0, -0.7853981633974483, 0, -2.356194490192345,', 'home: [0, -0.7853981633974483, 0, 0.5,');
    expect(text).not.toBe(fr3Text);
    const e = errorOf(() => parseRobotText(text, { id: 'x', source: 'x.yaml' }));
    expect(e.message).toBe('x.yaml: arms[0].home[3]: 0.5 rad is outside fr3_joint4 limits [-3.0421, -0.1518]');
  });

  it('checks min < max, axis length, cameras and ROS cross references', () => {
    const cases: [string, string, string][] = [
      ['min_position: -2.7437, max_position: 2.7437', 'min_position: 2.7437, max_position: -2.7437', 'arms[0].joints[0].limits'],
      ["axis: [0, 0, 1]\n        limits: {min_position: -2.7437", "axis: [0, 0, 2]\n        limits: {min_position: -2.7437", 'arms[0].joints[0].axis'],
      ['min: [0.15, -0.6, 0.02]', 'min: [0.15, 0.7, 0.02]', 'workspace'],
      ['mount: wrist, arm: arm', 'mount: wrist, arm: left', 'cameras[1].arm'],
      ['    agentview:\n      image:', '    front:\n      image:', 'ros.cameras.front'],
      ['topic: /fr3_arm_controller/joint_trajectory', 'topic: fr3_arm_controller/joint_trajectory', 'ros.commands[0].topic'],
    ];
    for (const [from, to, field] of cases) {
      const text = fr3Text.replace(from, to);
      expect(text, field).not.toBe(fr3Text);
      expect(errorOf(() => parseRobotText(text, { id: 'x', source: 'x.yaml' })).message, field).toContain(field);
    }
  });
});
