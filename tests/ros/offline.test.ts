import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { createSimSession } from '../../src/ros/session.ts';
import { runOffline } from '../../src/ros/offline.ts';
import { deserialize, type DiagnosticArray, type JointTrajectory } from '../../src/ros/messages/index.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'vla-chunk-tiny');
const dir = mkdtempSync(join(tmpdir(), 'armature-offline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string) {
  const buf = readFileSync(path);
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(buf.byteLength), read: async (o: bigint, n: bigint) => buf.subarray(Number(o), Number(o + n)) },
  });
  const topicOf = new Map([...reader.channelsById.values()].map((c) => [c.id, c.topic]));
  const byTopic = new Map<string, { logTime: bigint; data: Uint8Array }[]>();
  for await (const m of reader.readMessages()) {
    const t = topicOf.get(m.channelId)!;
    if (!byTopic.has(t)) byTopic.set(t, []);
    byTopic.get(t)!.push({ logTime: m.logTime, data: m.data });
  }
  return { reader, byTopic };
}

describe('MCAP round trip: record the simulator, replay through the node', () => {
  it('writes one command per control tick, equal to what the live node sent', async () => {
    const input = join(dir, 'sim.mcap');
    const output = join(dir, 'node.mcap');
    const TICKS = 40;
    const s = await createSimSession({ scene: 'franka', modelDir: MODEL, seed: 2, recordBag: input, parameters: { async_inference: false, gripper_topic: '/armature/gripper_command' }, log: () => {} });
    await s.run(TICKS);
    await s.close();

    const live = await readAll(input);
    expect(live.reader.header.profile).toBe('ros2');
    const liveCmds = live.byTopic.get('/fr3_arm_controller/joint_trajectory')!;
    expect(liveCmds).toHaveLength(TICKS);
    for (const topic of ['/franka/joint_states', '/agentview/image', '/eye_in_hand/image', '/instruction']) expect(live.byTopic.get(topic)?.length).toBeGreaterThan(0);

    const r = await runOffline({ input, output, modelDir: MODEL, parameters: { seed: 2 }, log: () => {} });
    expect(r.durationS).toBeCloseTo(TICKS * 0.05, 6);

    const out = await readAll(output);
    expect(out.reader.header.profile).toBe('ros2');
    const cmds = out.byTopic.get('/fr3_arm_controller/joint_trajectory')!;
    // one command per control tick of the bag's 2 s
    expect(cmds).toHaveLength(TICKS);
    expect(r.counters.ticks).toBe(TICKS);
    for (let k = 0; k < TICKS; k++) {
      expect(cmds[k]!.logTime - cmds[0]!.logTime).toBe(BigInt(k) * 50_000_000n);
      const a = deserialize('trajectory_msgs/msg/JointTrajectory', cmds[k]!.data) as JointTrajectory;
      const b = deserialize('trajectory_msgs/msg/JointTrajectory', liveCmds[k]!.data) as JointTrajectory;
      expect(Array.from(a.points[0]!.positions)).toEqual(Array.from(b.points[0]!.positions));
    }
    expect(out.byTopic.get('/armature/gripper_command')).toHaveLength(TICKS);
    const diags = out.byTopic.get('/diagnostics')!;
    expect(diags).toHaveLength(2);
    const d = deserialize('diagnostic_msgs/msg/DiagnosticArray', diags[0]!.data) as DiagnosticArray;
    expect(d.status[0]!.values.find((v) => v.key === 'ticks')!.value).toBe('20');
    // only the node's own publications are in the output bag
    expect([...out.byTopic.keys()].sort()).toEqual(['/armature/gripper_command', '/diagnostics', '/fr3_arm_controller/joint_trajectory']);
  }, 60_000);
});
