/**
 * The simulator's MJCF models and the robot descriptions must agree on joint names and
 * position limits, or the safety layer would guard a different robot than the one simulated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HARDWARE_DIR, loadRobot } from '../../src/embodiment/registry.ts';

describe('MJCF models agree with the descriptions', () => {
  for (const id of ['franka/fr3', 'agibot/dual_arm', 'universal_robots/ur5e']) {
    const file = join(DEFAULT_HARDWARE_DIR, `${id}.mjcf.xml`);
    it.skipIf(!existsSync(file))(`${id}: arm joint names and ranges`, () => {
      const xml = readFileSync(file, 'utf8');
      const ranges = new Map<string, [number, number]>();
      for (const m of xml.matchAll(/<joint\s+name="([^"]+)"[^>]*?range="([-\d.e]+)\s+([-\d.e]+)"/g)) {
        ranges.set(m[1], [Number(m[2]), Number(m[3])]);
      }
      const robot = loadRobot(id);
      for (const j of robot.arms.flatMap((a) => a.joints)) {
        expect(ranges.get(j.name), j.name).toEqual([j.limits.min_position, j.limits.max_position]);
      }
    });
  }
});
