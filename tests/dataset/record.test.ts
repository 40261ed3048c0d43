import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordSuite } from '../../sim/dataset/record.ts';
import { LeRobotDatasetReader } from '../../sim/dataset/lerobot-reader.ts';
import { hasFfmpeg } from '../../sim/dataset/video.ts';

const ready = hasFfmpeg();
if (!ready) console.warn('skipping demonstration recording test: needs ffmpeg (run scripts/setup.sh)');

describe.skipIf(!ready)('recording expert demonstrations into a LeRobot dataset', () => {
  it('writes successful episodes that read back with state, action, task and both camera videos', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'armature-record-')), 'ds');
    const summary = await recordSuite({ suite: 'object', root, episodes: 1, tasks: [0], policy: { type: 'expert' }, seed: 1000, imageSize: 64, keep: 'success' });
    expect(summary.episodes).toBe(1);
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
