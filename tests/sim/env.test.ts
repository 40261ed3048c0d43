import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SimRobot } from '../../sim/env/sim-robot.ts';
import { scenePreset } from '../../sim/env/presets.ts';
import { JointSweepPolicy } from '../../sim/env/sweep-policy.ts';
import { runRollout } from '../../sim/env/rollout.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { chromiumAvailable } from '../../sim/render/chromium.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn('skipping rendered sim-in-the-loop tests: /usr/bin/chromium not installed (run scripts/setup.sh)');

async function sweepRun(scene: string, steps: number): Promise<{ traj: number[][]; robot: SimRobot }> {
  const preset = scenePreset(scene);
  const desc = loadRobot(preset.robot);
  const robot = await SimRobot.create({ scene: preset.scene, robot: desc, commandMode: 'joint_position', policyHz: 20, seed: 1 });
  const loop = new ControlLoop({ policy: new JointSweepPolicy(desc, { rateHz: 20 }), robot: desc, embodiment: desc.id, schedule: { mode: 'replan', actionsPerChunk: 5 } });
  const traj: number[][] = [];
  await runRollout({ robot, loop, instruction: '', steps, onStep: () => void traj.push(Array.from(robot.sim.jointPositions(robot.jointNames))) });
  return { traj, robot };
}

describe('simulated robot through the runtime control loop', () => {
  it('is deterministic for a seed (bitwise identical joint trajectories)', async () => {
    const a = await sweepRun('franka', 40);
    const b = await sweepRun('franka', 40);
    expect(a.traj).toEqual(b.traj);
    await a.robot.close();
    await b.robot.close();
  });

  it('moves both arms of the dual arm and keeps every joint inside its limits', async () => {
    const { traj, robot } = await sweepRun('dual_arm', 60);
    const desc = robot.robot;
    const first = traj[0]!;
    const last = traj[traj.length - 1]!;
    const moved = (from: number, to: number) => Math.max(...last.slice(from, to).map((v, i) => Math.abs(v - first[from + i]!)));
    expect(moved(0, 7)).toBeGreaterThan(0.05); // left arm
    expect(moved(7, 14)).toBeGreaterThan(0.05); // right arm
    const limits = desc.arms.flatMap((a) => a.joints.map((j) => j.limits));
    for (const q of traj) q.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(limits[i]!.min_position - 0.02));
    await robot.close();
  });

  it.skipIf(!hasChromium)('feeds rendered rgb8 camera frames to a policy and applies its safe commands', async () => {
    const preset = scenePreset('franka');
    const desc = loadRobot(preset.robot);
    const policy = await loadPolicy(join(ROOT, 'models', 'vla-chunk-tiny'));
    const robot = await SimRobot.create({ scene: preset.scene, robot: desc, commandMode: 'joint_position', cameras: policy.metadata.cameras, policyHz: 20 });
    try {
      const obs = await robot.observe('pick up the red cube');
      for (const cam of ['agentview', 'eye_in_hand']) {
        const f = obs.images[cam]!;
        expect(f.type).toBe('raw');
        if (f.type !== 'raw') return;
        expect([f.encoding, f.width, f.height]).toEqual(['rgb8', 128, 128]);
        // a real scene, not a blank frame
        let lit = 0;
        for (let i = 0; i < f.data.length; i += 3) if (f.data[i]! + f.data[i + 1]! + f.data[i + 2]! > 30) lit++;
        expect(lit).toBeGreaterThan(128 * 128 * 0.2);
      }
      const loop = new ControlLoop({ policy, robot: desc, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 8 } });
      const r = await runRollout({ robot, loop, instruction: 'pick up the red cube', steps: 16 });
      expect(r.ticks).toBe(16);
      expect(loop.stats().inferences).toBe(2);
      expect(loop.stats().policyErrors).toBe(0);
      expect(r.simTimeS).toBeCloseTo(0.8, 6);
    } finally {
      await robot.close();
      await policy.dispose();
    }
  });

  it('armature sim --scene franka --steps 200 --json prints the final joint state', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'armature.mjs'), 'sim', '--scene', 'franka', '--steps', '200', '--json'], { cwd: ROOT });
    const out = JSON.parse(stdout) as { ticks: number; sim_time_s: number; joint_positions: Record<string, number> };
    expect(out.ticks).toBe(200);
    expect(out.sim_time_s).toBeCloseTo(10, 6);
    expect(Object.keys(out.joint_positions)).toEqual(['fr3_joint1', 'fr3_joint2', 'fr3_joint3', 'fr3_joint4', 'fr3_joint5', 'fr3_joint6', 'fr3_joint7']);
    expect(Object.values(out.joint_positions).every(Number.isFinite)).toBe(true);
  });
});
