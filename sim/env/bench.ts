/**
 * sim.control_steps_per_s.2cam_128 and sim.realtime_factor.2cam_128: one worker
 * running physics + two rendered 128x128 cameras + the joint controller at a
 * 20 Hz policy rate, with no policy (a scripted sweep through the safety layer).
 */
import type { BenchEntry } from '../../src/bench/types.ts';
import { SimRobot } from './sim-robot.ts';
import { scenePreset } from './presets.ts';
import { JointSweepPolicy } from './sweep-policy.ts';
import { runRollout } from './rollout.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';

export async function benchSimControl(steps = 200): Promise<BenchEntry[]> {
  const preset = scenePreset('franka');
  const desc = loadRobot(preset.robot);
  const robot = await SimRobot.create({ scene: preset.scene, robot: desc, commandMode: 'joint_position', cameras: ['agentview', 'eye_in_hand'], imageSize: 128, policyHz: 20 });
  try {
    const loop = new ControlLoop({ policy: new JointSweepPolicy(desc, { rateHz: 20 }), robot: desc, embodiment: desc.id, schedule: { mode: 'replan', actionsPerChunk: 10 } });
    // the sweep reads no cameras, so rendering is forced: this measures physics + 2 cameras + controller
    await runRollout({ robot, loop, instruction: '', steps: 20, renderEveryTick: true }); // warm-up
    const t0 = performance.now();
    const r = await runRollout({ robot, loop, instruction: '', steps, renderEveryTick: true });
    const wall = (performance.now() - t0) / 1000;
    const details = { cameras: 'agentview + eye_in_hand, rgb8 128x128', policy_hz: 20, physics_substeps: 25, steps, note: 'one worker (one Node process + its Chromium page)' };
    return [
      { name: 'sim.control_steps_per_s.2cam_128', value: r.ticks / wall, unit: 'steps/s', ...details },
      { name: 'sim.realtime_factor.2cam_128', value: r.simTimeS / wall, unit: 'x', target: '>= 20 per core', ...details },
    ];
  } finally {
    await robot.close();
  }
}
