import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOFF_MIN_WIDTH, recordSuite, type HandoffOutcome } from '../../sim/dataset/record.ts';
import { LeRobotDatasetReader } from '../../sim/dataset/lerobot-reader.ts';
import { hasFfmpeg } from '../../sim/dataset/video.ts';

const ready = hasFfmpeg();
if (!ready) console.warn('skipping demonstration recording test: needs ffmpeg (run scripts/setup.sh)');

describe.skipIf(!ready)('recording expert demonstrations into a LeRobot dataset', () => {
  it('writes successful episodes that read back with state, action, task and both camera videos', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'armature-record-')), 'ds');
    const summary = await recordSuite({ suite: 'object', root, episodes: 1, tasks: [0], policy: { type: 'expert' }, seed: 1000, imageSize: 64, keep: 'success' });
    expect(summary.episodes).toBe(1);
    expect(summary.retried).toBe(0);
    const ds = await LeRobotDatasetReader.open(root);
    expect(ds.info.robot_type).toBe('franka_fr3');
    expect(ds.info.total_episodes).toBe(1);
    expect(ds.info.total_frames).toBe(summary.frames);
    const ep = await ds.readEpisode(0);
    expect(ep.length).toBe(summary.frames);
    expect(ep.values['observation.state']!.length).toBe(ep.length * 8);
    expect(ep.values['action']!.length).toBe(ep.length * 7);
    expect(ep.tasks[0]).toMatch(/alphabet soup.*basket/);
    for (const cam of ['observation.images.agentview', 'observation.images.eye_in_hand']) {
      expect(ep.images[cam]).toHaveLength(ep.length);
      expect(ep.images[cam]![0]!.length).toBe(64 * 64 * 3);
    }
    // the gripper closes during a pick: the recorded gripper action spans open and closed
    const grip = Array.from({ length: ep.length }, (_, k) => ep.values['action']![k * 7 + 6]!);
    expect(Math.max(...grip) - Math.min(...grip)).toBeGreaterThan(0.03);
  }, 120_000);
});

describe('recording demonstrations with missed grasps (--grasp-miss)', () => {
  it('keeps such episodes from the moment the expert noticed its empty hand, and refuses two-arm robots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-miss-'));
    const base = { episodes: 1, tasks: [0], seed: 1000, imageSize: 32, keep: 'success' as const, video: false };
    let steps = 0;
    const summary = await recordSuite({ ...base, suite: 'object', root: join(dir, 'b'), policy: { type: 'expert', noise: 0.002, graspMiss: 1 }, onEpisode: (e) => (steps = e.steps) });
    expect(summary.episodes).toBe(1);
    expect(summary.retried).toBe(1);
    const ep = await (await LeRobotDatasetReader.open(join(dir, 'b'))).readEpisode(0);
    const width = Array.from({ length: ep.length }, (_, k) => ep.values['observation.state']![k * 8 + 7]!);
    const grip = Array.from({ length: ep.length }, (_, k) => ep.values['action']![k * 7 + 6]!);
    // it starts with the hand closed on nothing and the expert opening it; then one grasp, which holds
    expect(width[0]).toBeLessThan(0.004);
    expect(grip[0]).toBeGreaterThan(0.07);
    const closings = width.filter((w, k) => k > 0 && w < 0.075 && width[k - 1]! >= 0.075).length;
    expect(closings).toBe(1);
    expect(Math.min(...width.slice(10))).toBeGreaterThan(0.03); // the can is held (0.064 m)
    expect(summary.frames).toBe(ep.length);
    expect(steps - ep.length).toBeGreaterThan(40); // the approach and the miss itself are not kept
    await expect(recordSuite({ ...base, suite: 'dual_arm', root: join(dir, 'c'), policy: { type: 'expert', graspMiss: 0.5 } })).rejects.toThrow(/only planned by the one-arm expert/);
  }, 120_000);
});

describe('handoff recording (recovery data): the model drives, the expert finishes, only the expert is kept', () => {
  it('records the expert from the step it took over, starting with an open hand', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'armature-handoff-')), 'ds');
    const events: { success: boolean; steps: number; handoff?: HandoffOutcome }[] = [];
    const summary = await recordSuite({
      suite: 'goal',
      root,
      episodes: 1,
      tasks: [0],
      policy: { type: 'handoff', dir: 'models/flow-small', sampler: 'truncated', fromStep: 30, toStep: 30 },
      seed: 3000,
      imageSize: 128,
      keep: 'success',
      video: false,
      onEpisode: (e) => events.push(e),
    });
    expect(summary.episodes).toBe(1);
    const kept = events.find((e) => e.success)!;
    expect(kept.handoff).toBeDefined();
    const at = (kept.handoff as { at: number }).at;
    expect(at).toBeGreaterThanOrEqual(30);
    // only the expert's ticks are in the dataset
    expect(summary.frames).toBe(kept.steps - at);
    const ep = await (await LeRobotDatasetReader.open(root)).readEpisode(0);
    expect(ep.length).toBe(summary.frames);
    expect(ep.values['observation.state']![7]).toBeGreaterThanOrEqual(HANDOFF_MIN_WIDTH);
    expect(ep.tasks[0]).toBe('put the bowl on the plate');
  }, 120_000);

  it('refuses a bad step range and a two-arm suite', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'armature-handoff-')), 'ds');
    const base = { root, episodes: 1, tasks: [0], seed: 3000, imageSize: 64, keep: 'success' as const, video: false };
    await expect(recordSuite({ ...base, suite: 'goal', policy: { type: 'handoff', dir: 'models/flow-small', fromStep: 50, toStep: 10 } })).rejects.toThrow(/0 <= from <= to/);
    await expect(recordSuite({ ...base, root: `${root}2`, suite: 'dual_arm', policy: { type: 'handoff', dir: 'models/flow-small', fromStep: 0, toStep: 10 } })).rejects.toThrow(/one-arm robot/);
  });
});
