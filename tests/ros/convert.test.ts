import { describe, expect, it } from 'vitest';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { CommandDecoder, CommandEncoder, JointStateAssembler, compressedToFrame, imageToFrame, nsToStamp, secondsToStamp, stampToSeconds } from '../../src/ros/convert.ts';
import { RosError } from '../../src/ros/errors.ts';
import type { RobotCommand } from '../../src/runtime/control-loop.ts';
import type { JointState } from '../../src/ros/messages/index.ts';

const fr3 = loadRobot('franka/fr3');
const dual = loadRobot('agibot/dual_arm');
const armNames = fr3.arms[0]!.joints.map((j) => j.name);
const js = (t: number, names: string[], pos: number[], vel: number[] = []): JointState => ({
  header: { stamp: secondsToStamp(t), frame_id: '' },
  name: names,
  position: Float64Array.from(pos),
  velocity: Float64Array.from(vel),
  effort: new Float64Array(),
});
const cmd = (q: number[], g: number[]): RobotCommand => ({ type: 'joint_position', positions: Float64Array.from(q), gripper: Float64Array.from(g), held: false, interventions: [] });

describe('stamps', () => {
  it('convert exactly between ns, ROS time and seconds', () => {
    expect(nsToStamp(1_700_000_000_123_456_789n)).toEqual({ sec: 1_700_000_000, nanosec: 123_456_789 });
    expect(secondsToStamp(12.25)).toEqual({ sec: 12, nanosec: 250_000_000 });
    expect(stampToSeconds({ sec: 3, nanosec: 500_000_000 })).toBe(3.5);
  });
});

describe('images', () => {
  it('Image -> raw CameraFrame with the header stamp; unsupported encodings and short data fail', () => {
    const msg = { header: { stamp: { sec: 2, nanosec: 5e8 }, frame_id: 'cam' }, height: 2, width: 3, encoding: 'bgr8', is_bigendian: 0, step: 9, data: new Uint8Array(18).fill(7) };
    const f = imageToFrame(msg);
    expect([f.encoding, f.width, f.height, f.step, f.stamp, f.data.length]).toEqual(['bgr8', 3, 2, 9, 2.5, 18]);
    expect(() => imageToFrame({ ...msg, encoding: 'bayer_rggb8' })).toThrow(RosError);
    expect(() => imageToFrame({ ...msg, data: new Uint8Array(10) })).toThrow(/truncated/);
  });
  it('CompressedImage formats: plain and image_transport style', () => {
    const base = { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' }, data: new Uint8Array([1, 2]) };
    expect(compressedToFrame({ ...base, format: 'rgb8; jpeg compressed bgr8' })).toMatchObject({ type: 'compressed', format: 'jpeg', stamp: 1 });
    expect(compressedToFrame({ ...base, format: 'png' })).toMatchObject({ format: 'png' });
    expect(() => compressedToFrame({ ...base, format: 'tiff' })).toThrow(/not supported/);
  });
});

describe('JointStateAssembler', () => {
  it('orders joints by name, takes gripper width from the fingers, merges separate messages, drops older stamps', () => {
    const a = new JointStateAssembler(fr3);
    const shuffled = [...armNames].reverse();
    // hand on its own topic first: no sample yet (arm unknown)
    expect(a.update(js(0.9, ['fr3_finger_joint1', 'fr3_finger_joint2'], [0.01, 0.015]))).toBeNull();
    const s = a.update(js(1, shuffled, shuffled.map((_, i) => 6 - i), shuffled.map(() => 0.5)))!;
    expect(Array.from(s.fields['joint_positions']!)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(s.fields['joint_velocities']!)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(s.fields['gripper']![0]).toBeCloseTo(0.025, 12);
    expect(s.stamp).toBe(1);
    expect(a.update(js(0.5, armNames, [9, 9, 9, 9, 9, 9, 9]))).toBeNull();
    // missing arm joint: no sample
    const b = new JointStateAssembler(fr3);
    expect(b.update(js(1, armNames.slice(0, 6), [0, 0, 0, 0, 0, 0]))).toBeNull();
    // never seen fingers: home width
    expect(b.update(js(2, armNames, [0, 0, 0, 0, 0, 0, 0]))!.fields['gripper']![0]).toBe(0.08);
  });
});

describe('CommandEncoder / CommandDecoder', () => {
  const q = [0.1, -0.7, 0.2, -2.3, 0.05, 1.6, 0.8];

  it('JointTrajectory: hardware joint names, one point one control period ahead; gripper Move goals only on change', () => {
    const e = new CommandEncoder({ robot: fr3, periodS: 0.05 });
    const m = e.encode(cmd(q, [0.08]), { sec: 1, nanosec: 0 });
    expect(m.topic).toBe('/fr3_arm_controller/joint_trajectory');
    if (m.type !== 'trajectory_msgs/msg/JointTrajectory') throw new Error('type');
    expect(m.msg.joint_names).toEqual(armNames);
    expect(Array.from(m.msg.points[0]!.positions)).toEqual(q);
    expect(m.msg.points[0]!.time_from_start).toEqual({ sec: 0, nanosec: 50_000_000 });
    expect(e.gripperGoals(cmd(q, [0.08]))).toEqual([{ action: '/franka_gripper/move', arm: 'arm', goal: { width: 0.08, speed: 0.1 } }]);
    expect(e.gripperGoals(cmd(q, [0.079]))).toEqual([]);
    expect(e.gripperGoals(cmd(q, [0.05]))[0]!.goal.width).toBe(0.05);
    expect(new CommandDecoder(fr3).fromTrajectory(m.msg, new Float64Array(7))).toEqual(Float64Array.from(q));
  });

  it('Float64MultiArray for the forward position controller; a gripper topic replaces the goals', () => {
    const e = new CommandEncoder({ robot: fr3, periodS: 0.05, kind: 'forward_position', gripperTopic: '/grip' });
    const m = e.encode(cmd(q, [0.04]), { sec: 0, nanosec: 0 });
    expect(m.topic).toBe('/forward_position_controller/commands');
    if (m.type !== 'std_msgs/msg/Float64MultiArray') throw new Error('type');
    expect(m.msg.layout.dim).toEqual([{ label: 'joints', size: 7, stride: 7 }]);
    expect(Array.from(new CommandDecoder(fr3).fromMultiArray(m.msg))).toEqual(q);
    expect(e.gripperGoals(cmd(q, [0.04]))).toEqual([]);
    expect(Array.from(e.gripperTopicCommand(cmd(q, [0.04]))!.msg.data)).toEqual([0.04]);
    expect(() => new CommandDecoder(fr3).fromMultiArray({ ...m.msg, data: new Float64Array(3) })).toThrow(/expects 7/);
  });

  it('AgiBot JointState on /joint_command carries both arms and the gripper joints by name', () => {
    const e = new CommandEncoder({ robot: dual, periodS: 0.05 });
    const q14 = Array.from({ length: 14 }, (_, i) => i / 10);
    const m = e.encode(cmd(q14, [0.02, 0.06]), { sec: 0, nanosec: 0 });
    expect(m.topic).toBe('/joint_command');
    if (m.type !== 'sensor_msgs/msg/JointState') throw new Error('type');
    expect(m.msg.name.slice(-2)).toEqual(['idx41_gripper_l_outer_joint1', 'idx81_gripper_r_outer_joint1']);
    expect(Array.from(m.msg.position.slice(-2))).toEqual([0.02, 0.06]);
    const back = new CommandDecoder(dual).fromJointState(m.msg, new Float64Array(14), 2);
    expect(Array.from(back.positions)).toEqual(q14);
    expect(Array.from(back.gripper)).toEqual([0.02, 0.06]);
    expect(() => new CommandEncoder({ robot: dual, periodS: 0.05, kind: 'joint_trajectory' })).toThrow(/no 'joint_trajectory' command interface/);
  });
});
