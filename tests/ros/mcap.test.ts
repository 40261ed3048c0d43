import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { InProcessBus } from '../../src/ros/inprocess.ts';
import { McapRecorder, McapReplayTransport, offeredQosProfilesYaml, qosFromOfferedProfiles, readBag } from '../../src/ros/mcap.ts';
import { QOS } from '../../src/ros/transport.ts';
import { deserialize, messageDefinition, type Image, type JointState } from '../../src/ros/messages/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'armature-mcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = (ns: bigint) => ({ sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) });
const image = (ns: bigint, v: number): Image => ({
  header: { stamp: stamp(ns), frame_id: 'agentview' },
  height: 2, width: 2, encoding: 'rgb8', is_bigendian: 0, step: 6,
  data: new Uint8Array(12).fill(v),
});
const joints = (ns: bigint, q: number): JointState => ({
  header: { stamp: stamp(ns), frame_id: '' },
  name: ['j1', 'j2'], position: Float64Array.of(q, -q), velocity: new Float64Array(), effort: new Float64Array(),
});

function fileReadable(buf: Uint8Array) {
  return {
    size: async () => BigInt(buf.byteLength),
    read: async (offset: bigint, size: bigint) => buf.subarray(Number(offset), Number(offset + size)),
  };
}

/** Simulated sensors: images at 10 Hz, joints at 50 Hz, one instruction, for 1 s of sim time. */
async function recordSimBag(path: string): Promise<void> {
  const bus = new InProcessBus({ startS: 1000 });
  const sim = bus.node('sim');
  const rec = await McapRecorder.create({ path });
  rec.recordBus(bus);
  const img = sim.createPublisher('/agentview/image', 'sensor_msgs/msg/Image', QOS.sensorData);
  const js = sim.createPublisher('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData);
  const instr = sim.createPublisher('/instruction', 'std_msgs/msg/String', QOS.transientLocal(1));
  instr.publish({ data: 'put the bowl on the plate' });
  let k = 0;
  sim.createTimer(0.1, () => img.publish(image(bus.clock.nowNs(), ++k)));
  let j = 0;
  sim.createTimer(0.02, () => js.publish(joints(bus.clock.nowNs(), ++j * 0.01)));
  await bus.advance(1);
  await rec.close();
  expect(rec.messageCount).toBe(1 + 10 + 50);
}

describe('McapRecorder', () => {
  const path = join(dir, 'sim.mcap');

  it('writes a ros2-profile bag that @mcap/core reads back', async () => {
    await recordSimBag(path);
    const reader = await McapIndexedReader.Initialize({ readable: fileReadable(readFileSync(path)) });
    expect(reader.header.profile).toBe('ros2');
    const channels = [...reader.channelsById.values()];
    expect(channels.map((c) => c.topic).sort()).toEqual(['/agentview/image', '/instruction', '/joint_states']);
    for (const ch of channels) {
      const schema = reader.schemasById.get(ch.schemaId)!;
      expect(ch.messageEncoding).toBe('cdr');
      expect(schema.encoding).toBe('ros2msg');
      expect(new TextDecoder().decode(schema.data)).toBe(messageDefinition(schema.name));
      expect(ch.metadata.get('offered_qos_profiles')).toMatch(/^- history: 1\n  depth: \d+\n  reliability: [12]\n  durability: [12]\n/);
    }
    const byTopic = new Map(channels.map((c) => [c.topic, c]));
    expect(reader.schemasById.get(byTopic.get('/joint_states')!.schemaId)!.name).toBe('sensor_msgs/msg/JointState');
    expect(byTopic.get('/agentview/image')!.metadata.get('offered_qos_profiles')).toContain('reliability: 2');
    expect(byTopic.get('/instruction')!.metadata.get('offered_qos_profiles')).toContain('durability: 1');
    expect(reader.statistics?.messageCount).toBe(61n);

    const msgs = [];
    for await (const m of reader.readMessages()) msgs.push(m);
    expect(msgs).toHaveLength(61);
    // log time = bus ROS time in ns, non-decreasing
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.logTime >= msgs[i - 1]!.logTime).toBe(true);
    expect(msgs[0]!.logTime).toBe(1_000_000_000_000n);
    const imgs = msgs.filter((m) => m.channelId === byTopic.get('/agentview/image')!.id);
    expect(imgs.map((m) => m.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const third = deserialize('sensor_msgs/msg/Image', imgs[2]!.data);
    expect(third.header.stamp).toEqual({ sec: 1000, nanosec: 300_000_000 });
    expect(imgs[2]!.logTime).toBe(1_000_300_000_000n);
    expect(Array.from(third.data)).toEqual(new Array(12).fill(3));
    expect(third.encoding).toBe('rgb8');
    const lastJs = deserialize('sensor_msgs/msg/JointState', msgs.filter((m) => m.channelId === byTopic.get('/joint_states')!.id).at(-1)!.data);
    expect(Array.from(lastJs.position)).toEqual([0.5, -0.5]);
    expect(lastJs.name).toEqual(['j1', 'j2']);
  });

  it('readBag returns messages in log-time order with types and QoS', async () => {
    const bag = await readBag(path);
    expect(bag.profile).toBe('ros2');
    expect(bag.messages).toHaveLength(61);
    expect(bag.channels.get('/instruction')?.type).toBe('std_msgs/msg/String');
    expect(bag.messages.find((m) => m.topic === '/agentview/image')?.qos).toEqual({ kind: 'sensor_data' });
    const only = await readBag(path, { topics: ['/instruction'] });
    expect(only.messages.map((m) => deserialize('std_msgs/msg/String', m.data).data)).toEqual(['put the bowl on the plate']);
  });

  it('QoS YAML round-trips (integer and named forms)', () => {
    expect(qosFromOfferedProfiles(offeredQosProfilesYaml(QOS.sensorData))).toEqual({ kind: 'sensor_data' });
    expect(qosFromOfferedProfiles(offeredQosProfilesYaml(QOS.reliable(7)))).toEqual({ kind: 'reliable', depth: 7 });
    expect(qosFromOfferedProfiles(offeredQosProfilesYaml(QOS.transientLocal()))).toEqual({ kind: 'transient_local', depth: 1 });
    expect(qosFromOfferedProfiles('- history: keep_last\n  depth: 5\n  reliability: best_effort\n  durability: volatile')).toEqual({ kind: 'sensor_data' });
  });

  it('refuses a second type on a recorded topic', async () => {
    const rec = await McapRecorder.create({ path: join(dir, 'bad.mcap') });
    rec.write('/x', 'std_msgs/msg/String', { data: 'a' }, 1n);
    expect(() => rec.write('/x', 'std_msgs/msg/Bool', { data: true }, 2n)).toThrow(/first recorded as 'std_msgs\/msg\/String'/);
    await rec.close();
  });
});

describe('McapReplayTransport', () => {
  const input = join(dir, 'replay-in.mcap');
  const output = join(dir, 'replay-out.mcap');

  it('feeds subscriptions in log-time order on bag time, runs timers, records publishes', async () => {
    await recordSimBag(input);
    const node = await McapReplayTransport.open({ input, output, name: 'armature', parameters: { control_rate_hz: 20 } });
    expect(node.declareParameter('control_rate_hz', 10)).toBe(20);
    const order: string[] = [];
    const times: number[] = [];
    let latestQ = 0;
    let instruction = '';
    node.subscribe('/agentview/image', 'sensor_msgs/msg/Image', QOS.sensorData, (m) => {
      order.push(`img${m.data[0]}`);
      times.push(node.clock.now());
    });
    node.subscribe('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => {
      latestQ = m.position[0]!;
      times.push(node.clock.now());
    });
    node.subscribe('/instruction', 'std_msgs/msg/String', QOS.transientLocal(1), (m) => (instruction = m.data));
    const cmd = node.createPublisher('/joint_command', 'std_msgs/msg/Float64MultiArray', QOS.reliable());
    let ticks = 0;
    node.createTimer(1 / 20, () => {
      ticks++;
      cmd.publish({ layout: { dim: [], data_offset: 0 }, data: Float64Array.of(latestQ) });
    });
    expect(node.clock.nowNs()).toBe(1_000_000_000_000n);
    const stats = await node.run({ rate: 'max' });
    expect(stats.messages).toBe(61);
    expect(stats.durationS).toBeCloseTo(1, 9);
    expect(instruction).toBe('put the bowl on the plate');
    expect(order).toEqual(['img1', 'img2', 'img3', 'img4', 'img5', 'img6', 'img7', 'img8', 'img9', 'img10']);
    for (let i = 1; i < times.length; i++) expect(times[i]! >= times[i - 1]!).toBe(true);
    expect(ticks).toBe(20);
    await node.close();

    const out = await readBag(output);
    expect(out.profile).toBe('ros2');
    expect([...out.channels.keys()]).toEqual(['/joint_command']);
    expect(out.messages).toHaveLength(20);
    expect(out.messages[0]!.logTimeNs).toBe(1_000_050_000_000n);
    // The first tick at t=0.05 s follows joint states at 0.02 and 0.04 s: q = 0.02.
    expect(deserialize('std_msgs/msg/Float64MultiArray', out.messages[0]!.data).data[0]).toBeCloseTo(0.02, 12);
    expect(deserialize('std_msgs/msg/Float64MultiArray', out.messages[19]!.data).data[0]).toBeCloseTo(0.5, 12);
  });

  it('paces at a finite rate (10x real time takes about 0.1 s for 1 s of bag)', async () => {
    const node = await McapReplayTransport.open({ input, topics: ['/joint_states'] });
    const stats = await node.run({ rate: 10 });
    await node.close();
    expect(stats.messages).toBe(50);
    expect(stats.wallS).toBeGreaterThan(0.08);
    expect(stats.wallS).toBeLessThan(1);
    await expect(node.run()).rejects.toThrow(/already called/);
  });

  it('names the bag when it cannot be opened', async () => {
    await expect(McapReplayTransport.open({ input: join(dir, 'missing.mcap') })).rejects.toThrow(/cannot open bag '.*missing\.mcap'/);
  });
});
