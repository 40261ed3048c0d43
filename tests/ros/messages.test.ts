import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@foxglove/rosmsg';
import { readInterfaceFiles, renderDefinitions } from '../../src/ros/messages/gen-definitions.ts';
import {
  DEFINITION_SEPARATOR,
  deserialize,
  fieldDependencies,
  knownMessageTypes,
  messageDefinition,
  normalizeMessage,
  serialize,
  validateMessage,
  timeFromNanoseconds,
  timeFromSeconds,
  nanosecondsFromTime,
  type MessageTypeName,
  type MessageTypes,
} from '../../src/ros/messages/index.ts';
import { RosError } from '../../src/ros/errors.ts';

/**
 * A tiny, independent CDR (XCDR1, little-endian) encoder: 4-byte encapsulation
 * header 00 01 00 00, then fields with natural alignment counted from the end
 * of the header; strings are uint32 length (incl. NUL) + bytes + NUL; sequences
 * are a uint32 count + elements.
 */
class Cdr {
  readonly b: number[] = [0x00, 0x01, 0x00, 0x00];
  align(n: number): this {
    while ((this.b.length - 4) % n !== 0) this.b.push(0);
    return this;
  }
  u8(v: number): this {
    this.b.push(v & 0xff);
    return this;
  }
  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }
  u32(v: number): this {
    this.align(4);
    const dv = new DataView(new ArrayBuffer(4));
    dv.setUint32(0, v, true);
    this.b.push(...new Uint8Array(dv.buffer));
    return this;
  }
  i32(v: number): this {
    this.align(4);
    const dv = new DataView(new ArrayBuffer(4));
    dv.setInt32(0, v, true);
    this.b.push(...new Uint8Array(dv.buffer));
    return this;
  }
  f64(v: number): this {
    this.align(8);
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, v, true);
    this.b.push(...new Uint8Array(dv.buffer));
    return this;
  }
  str(s: string): this {
    const bytes = new TextEncoder().encode(s);
    this.u32(bytes.length + 1);
    this.b.push(...bytes, 0);
    return this;
  }
  time(sec: number, nanosec: number): this {
    return this.i32(sec).u32(nanosec);
  }
  header(sec: number, nanosec: number, frame: string): this {
    return this.time(sec, nanosec).str(frame);
  }
  f64seq(v: number[]): this {
    this.u32(v.length);
    for (const x of v) this.f64(x);
    return this;
  }
  strseq(v: string[]): this {
    this.u32(v.length);
    for (const x of v) this.str(x);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

const hdr = { stamp: { sec: 12, nanosec: 345_000_000 }, frame_id: 'base' };
const point = { x: 0.5, y: -1.25, z: 2 };
const quat = { x: 0, y: 0, z: 0.7071067811865476, w: 0.7071067811865476 };
const poseStamped = { header: hdr, pose: { position: point, orientation: quat } };
const diagStatus = { level: 1, name: 'armature: latency', message: 'slow', hardware_id: 'cpu', values: [{ key: 'p99_ms', value: '41.5' }] };

interface Case<K extends MessageTypeName> {
  type: K;
  msg: MessageTypes[K];
  expected: (c: Cdr) => Cdr;
}
function c<K extends MessageTypeName>(type: K, msg: MessageTypes[K], expected: (c: Cdr) => Cdr): Case<K> {
  return { type, msg, expected };
}
const encPoint = (e: Cdr) => e.f64(point.x).f64(point.y).f64(point.z);
const encQuat = (e: Cdr) => e.f64(quat.x).f64(quat.y).f64(quat.z).f64(quat.w);
const encPoseStamped = (e: Cdr) => encQuat(encPoint(e.header(12, 345_000_000, 'base')));

const CASES = [
  c('builtin_interfaces/msg/Time', { sec: -2, nanosec: 300_000_000 }, (e) => e.time(-2, 300_000_000)),
  c('builtin_interfaces/msg/Duration', { sec: 1, nanosec: 5 }, (e) => e.i32(1).u32(5)),
  c('std_msgs/msg/Header', hdr, (e) => e.header(12, 345_000_000, 'base')),
  c('std_msgs/msg/String', { data: 'pick up the red block' }, (e) => e.str('pick up the red block')),
  c('std_msgs/msg/Bool', { data: true }, (e) => e.bool(true)),
  c('std_msgs/msg/MultiArrayDimension', { label: 'joints', size: 7, stride: 7 }, (e) => e.str('joints').u32(7).u32(7)),
  c('std_msgs/msg/MultiArrayLayout', { dim: [{ label: 'j', size: 2, stride: 2 }], data_offset: 0 }, (e) => e.u32(1).str('j').u32(2).u32(2).u32(0)),
  c(
    'std_msgs/msg/Float64MultiArray',
    { layout: { dim: [], data_offset: 0 }, data: new Float64Array([0.1, -0.2, 0.3]) },
    (e) => e.u32(0).u32(0).f64seq([0.1, -0.2, 0.3]),
  ),
  c(
    'sensor_msgs/msg/Image',
    { header: hdr, height: 2, width: 3, encoding: 'rgb8', is_bigendian: 0, step: 9, data: Uint8Array.from({ length: 18 }, (_, i) => i * 7) },
    (e) => {
      e.header(12, 345_000_000, 'base').u32(2).u32(3).str('rgb8').u8(0).u32(9).u32(18);
      for (let i = 0; i < 18; i++) e.u8(i * 7);
      return e;
    },
  ),
  c(
    'sensor_msgs/msg/CompressedImage',
    { header: hdr, format: 'jpeg', data: Uint8Array.from([0xff, 0xd8, 0xff, 0xd9, 0x00]) },
    (e) => e.header(12, 345_000_000, 'base').str('jpeg').u32(5).u8(0xff).u8(0xd8).u8(0xff).u8(0xd9).u8(0),
  ),
  c(
    'sensor_msgs/msg/JointState',
    { header: hdr, name: ['fr3_joint1', 'fr3_joint2'], position: new Float64Array([0.1, -0.785]), velocity: new Float64Array([0, 0.5]), effort: new Float64Array() },
    (e) => e.header(12, 345_000_000, 'base').strseq(['fr3_joint1', 'fr3_joint2']).f64seq([0.1, -0.785]).f64seq([0, 0.5]).f64seq([]),
  ),
  c('sensor_msgs/msg/RegionOfInterest', { x_offset: 1, y_offset: 2, height: 3, width: 4, do_rectify: true }, (e) => e.u32(1).u32(2).u32(3).u32(4).bool(true)),
  c(
    'sensor_msgs/msg/CameraInfo',
    {
      header: hdr, height: 480, width: 640, distortion_model: 'plumb_bob',
      d: new Float64Array([0.1, 0, 0, 0, 0]),
      k: new Float64Array([500, 0, 320, 0, 500, 240, 0, 0, 1]),
      r: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
      p: new Float64Array([500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0]),
      binning_x: 0, binning_y: 0,
      roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    },
    (e) => {
      e.header(12, 345_000_000, 'base').u32(480).u32(640).str('plumb_bob').f64seq([0.1, 0, 0, 0, 0]);
      // fixed-size arrays: no length prefix
      for (const v of [500, 0, 320, 0, 500, 240, 0, 0, 1]) e.f64(v);
      for (const v of [1, 0, 0, 0, 1, 0, 0, 0, 1]) e.f64(v);
      for (const v of [500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0]) e.f64(v);
      return e.u32(0).u32(0).u32(0).u32(0).u32(0).u32(0).bool(false);
    },
  ),
  c(
    'trajectory_msgs/msg/JointTrajectoryPoint',
    { positions: new Float64Array([1, 2]), velocities: new Float64Array(), accelerations: new Float64Array(), effort: new Float64Array(), time_from_start: { sec: 0, nanosec: 50_000_000 } },
    (e) => e.f64seq([1, 2]).f64seq([]).f64seq([]).f64seq([]).i32(0).u32(50_000_000),
  ),
  c(
    'trajectory_msgs/msg/JointTrajectory',
    {
      header: hdr, joint_names: ['a', 'b'],
      points: [
        { positions: new Float64Array([0.5, -0.5]), velocities: new Float64Array([0, 0]), accelerations: new Float64Array(), effort: new Float64Array(), time_from_start: { sec: 0, nanosec: 100_000_000 } },
        { positions: new Float64Array([0.6, -0.4]), velocities: new Float64Array(), accelerations: new Float64Array(), effort: new Float64Array(), time_from_start: { sec: 0, nanosec: 200_000_000 } },
      ],
    },
    (e) =>
      e.header(12, 345_000_000, 'base').strseq(['a', 'b']).u32(2)
        .f64seq([0.5, -0.5]).f64seq([0, 0]).f64seq([]).f64seq([]).i32(0).u32(100_000_000)
        .f64seq([0.6, -0.4]).f64seq([]).f64seq([]).f64seq([]).i32(0).u32(200_000_000),
  ),
  c('geometry_msgs/msg/Point', point, encPoint),
  c('geometry_msgs/msg/Quaternion', quat, encQuat),
  c('geometry_msgs/msg/Pose', { position: point, orientation: quat }, (e) => encQuat(encPoint(e))),
  c('geometry_msgs/msg/PoseStamped', poseStamped, encPoseStamped),
  c('nav_msgs/msg/Path', { header: hdr, poses: [poseStamped, poseStamped] }, (e) => encPoseStamped(encPoseStamped(e.header(12, 345_000_000, 'base').u32(2)))),
  c('diagnostic_msgs/msg/KeyValue', { key: 'k', value: 'v' }, (e) => e.str('k').str('v')),
  c('diagnostic_msgs/msg/DiagnosticStatus', diagStatus, (e) => e.u8(1).str('armature: latency').str('slow').str('cpu').u32(1).str('p99_ms').str('41.5')),
  c(
    'diagnostic_msgs/msg/DiagnosticArray',
    { header: hdr, status: [diagStatus] },
    (e) => e.header(12, 345_000_000, 'base').u32(1).u8(1).str('armature: latency').str('slow').str('cpu').u32(1).str('p99_ms').str('41.5'),
  ),
  c('franka_msgs/msg/GraspEpsilon', { inner: 0.005, outer: 0.01 }, (e) => e.f64(0.005).f64(0.01)),
  // Empty structures carry one uint8 (structure_needs_at_least_one_member).
  c('std_srvs/srv/Trigger_Request', {}, (e) => e.u8(0)),
  c('std_srvs/srv/Trigger_Response', { success: true, message: 'holding' }, (e) => e.bool(true).str('holding')),
  c('franka_msgs/action/Move_Goal', { width: 0.08, speed: 0.1 }, (e) => e.f64(0.08).f64(0.1)),
  c('franka_msgs/action/Move_Result', { success: false, error: 'blocked' }, (e) => e.bool(false).str('blocked')),
  c('franka_msgs/action/Move_Feedback', {}, (e) => e.u8(0)),
  c(
    'franka_msgs/action/Grasp_Goal',
    { width: 0.03, epsilon: { inner: 0.005, outer: 0.005 }, speed: 0.1, force: 20 },
    (e) => e.f64(0.03).f64(0.005).f64(0.005).f64(0.1).f64(20),
  ),
  c('franka_msgs/action/Grasp_Result', { success: true, error: '' }, (e) => e.bool(true).str('')),
  c('franka_msgs/action/Grasp_Feedback', {}, (e) => e.u8(0)),
] as Case<MessageTypeName>[];

describe('ROS 2 message definitions', () => {
  it('definitions.ts is generated from the interface files (no drift)', () => {
    const generated = readFileSync(fileURLToPath(new URL('../../src/ros/messages/definitions.ts', import.meta.url)), 'utf8');
    expect(generated).toBe(renderDefinitions(readInterfaceFiles()));
  });

  it('interface files are the official text (spot checks)', () => {
    const files = readInterfaceFiles();
    expect(files.get('sensor_msgs/msg/JointState')).toContain('string[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n');
    expect(files.get('std_msgs/msg/Header')).toContain('builtin_interfaces/Time stamp');
    expect(files.get('std_srvs/srv/Trigger')).toMatch(/^---\nbool success/);
  });

  it('every message type has a reference-bytes case', () => {
    expect(CASES.map((x) => x.type).sort()).toEqual(knownMessageTypes());
  });

  it('appends dependencies in the rosbag2 ros2msg layout', () => {
    const text = messageDefinition('nav_msgs/msg/Path');
    const headers = [...text.matchAll(/\n={80}\nMSG: (\S+)\n/g)].map((m) => m[1]);
    // depth-first, sorted per level, each once (rosbag2 LocalMessageDefinitionSource)
    expect(headers).toEqual([
      'geometry_msgs/PoseStamped',
      'geometry_msgs/Pose',
      'geometry_msgs/Point',
      'geometry_msgs/Quaternion',
      'std_msgs/Header',
      'builtin_interfaces/Time',
    ]);
    expect(DEFINITION_SEPARATOR).toHaveLength(80);
    expect(text.startsWith(readInterfaceFiles().get('nav_msgs/msg/Path')!)).toBe(true);
    // Exactly rosbag2's concatenation: own text + "\n" + separator + "\nMSG: name\n" + text.
    const path = readInterfaceFiles().get('nav_msgs/msg/Path')!;
    const ps = readInterfaceFiles().get('geometry_msgs/msg/PoseStamped')!;
    expect(text.slice(0, path.length + 1 + 81 + 'MSG: geometry_msgs/PoseStamped\n'.length + ps.length)).toBe(
      `${path}\n${'='.repeat(80)}\nMSG: geometry_msgs/PoseStamped\n${ps}`,
    );
    expect(messageDefinition('std_msgs/msg/String')).toBe(readInterfaceFiles().get('std_msgs/msg/String'));
  });

  it('resolves same-package references and leaves primitives/constants out', () => {
    expect(fieldDependencies('byte OK=0\nbyte level\nKeyValue[] values\n# Foo/Bar ignored\n', 'diagnostic_msgs')).toEqual(['diagnostic_msgs/KeyValue']);
    expect(fieldDependencies('float64[9] k\nRegionOfInterest roi\nstd_msgs/Header header\n', 'sensor_msgs')).toEqual(['sensor_msgs/RegionOfInterest', 'std_msgs/Header']);
  });

  it('every definition parses as ROS 2 with @foxglove/rosmsg', () => {
    for (const t of knownMessageTypes()) {
      const defs = parse(messageDefinition(t), { ros2: true });
      expect(defs.length, t).toBeGreaterThan(0);
    }
  });

  it('names the fix for an unknown type', () => {
    expect(() => messageDefinition('foo_msgs/msg/Bar')).toThrow(RosError);
    expect(() => messageDefinition('foo_msgs/msg/Bar')).toThrow(/add its \.msg file/);
    expect(() => serialize('foo_msgs/msg/Bar', {})).toThrow(/no message definition for 'foo_msgs\/msg\/Bar'/);
  });
});

describe('CDR serialization', () => {
  for (const k of CASES) {
    it(`${k.type}: bytes equal the hand-encoded reference and round-trip`, () => {
      const bytes = serialize(k.type, k.msg);
      expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(k.expected(new Cdr()).bytes()).toString('hex'));
      const back = deserialize(k.type, bytes);
      expect(normalizeMessage(k.type, back)).toEqual(normalizeMessage(k.type, k.msg));
    });
  }

  it('returns typed arrays for primitive arrays', () => {
    const js = deserialize(
      'sensor_msgs/msg/JointState',
      serialize('sensor_msgs/msg/JointState', { header: hdr, name: ['a'], position: new Float64Array([1.5]), velocity: new Float64Array(), effort: new Float64Array() }),
    );
    expect(js.position).toBeInstanceOf(Float64Array);
    expect(js.position[0]).toBe(1.5);
    expect(js.header.stamp).toEqual({ sec: 12, nanosec: 345_000_000 });
  });

  it('wraps a bad message in a RosError naming the type', () => {
    expect(() => deserialize('sensor_msgs/msg/Image', Uint8Array.from([0, 1, 0, 0, 5]))).toThrow(/as 'sensor_msgs\/msg\/Image'/);
  });
});

describe('validateMessage', () => {
  it('lists missing fields, wrong kinds and wrong fixed lengths (the CDR writer would write defaults)', () => {
    expect(() => validateMessage('std_msgs/msg/String', { data: 42 })).toThrow(/data must be a string, got number/);
    expect(() => validateMessage('sensor_msgs/msg/JointState', { header: hdr, name: ['a'], position: [0.1] })).toThrow(/velocity is missing; effort is missing/);
    expect(() => validateMessage('sensor_msgs/msg/JointState', { header: { stamp: { sec: 1 }, frame_id: '' }, name: [1], position: [], velocity: [], effort: [] })).toThrow(
      /header\.stamp must be a \{sec, nanosec\} object.*name\[0\] must be a string/,
    );
    const info = normalizeMessage('sensor_msgs/msg/CameraInfo', {});
    expect(() => validateMessage('sensor_msgs/msg/CameraInfo', { ...info, k: new Float64Array(4) })).toThrow(/k must have 9 elements, got 4/);
    expect(() => serialize('std_msgs/msg/Bool', { data: 1 } as never)).toThrow(RosError);
    expect(() => validateMessage('nav_msgs/msg/Path', { header: hdr, poses: [poseStamped] })).not.toThrow();
  });
});

describe('normalizeMessage (rclnodejs boundary)', () => {
  it('turns plain arrays, Buffers and bigints into our shapes and fills defaults', () => {
    const m = normalizeMessage('sensor_msgs/msg/JointState', {
      header: { stamp: { sec: 3n, nanosec: 4 }, frame_id: 'w' },
      name: ['j1'],
      position: [0.25],
    });
    expect(m.position).toBeInstanceOf(Float64Array);
    expect(Array.from(m.position)).toEqual([0.25]);
    expect(m.velocity).toEqual(new Float64Array());
    expect(m.header.stamp).toEqual({ sec: 3, nanosec: 4 });
    const img = normalizeMessage('sensor_msgs/msg/Image', { data: Buffer.from([1, 2, 3]), width: 3 });
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(img.data)).toEqual([1, 2, 3]);
    expect(img.encoding).toBe('');
    const info = normalizeMessage('sensor_msgs/msg/CameraInfo', {});
    expect(info.k).toHaveLength(9);
    expect(info.p).toHaveLength(12);
  });
});

describe('time helpers', () => {
  it('converts seconds and nanoseconds exactly', () => {
    expect(timeFromSeconds(1.5)).toEqual({ sec: 1, nanosec: 500_000_000 });
    expect(timeFromNanoseconds(-1_700_000_000n)).toEqual({ sec: -2, nanosec: 300_000_000 });
    expect(nanosecondsFromTime({ sec: 1_700_000_000, nanosec: 123 })).toBe(1_700_000_000_000_000_123n);
  });
});
