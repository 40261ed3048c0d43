/**
 * sim.control_steps_per_s.2cam_128 and sim.realtime_factor.2cam_128: one worker
 * running physics + two rendered 128x128 cameras + the joint controller at a
 * 20 Hz policy rate, with no policy (a scripted sweep through the safety layer).
 * The plain names measure the default renderer (in-process software
 * rasterizer); the `.chromium` entries the three.js renderer in headless
 * Chromium (left out where no Chromium is installed).
 */
import type { BenchEntry } from '../../src/bench/types.ts';
import { SimRobot } from './sim-robot.ts';
import { scenePreset } from './presets.ts';
import { JointSweepPolicy } from './sweep-policy.ts';
import { runRollout } from './rollout.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { chromiumAvailable, chromiumPath } from '../render/chromium.ts';

async function measure(steps: number, rendererKind: 'software' | 'chromium'): Promise<{ stepsPerS: number; realtime: number }> {
  const preset = scenePreset('franka');
  const desc = loadRobot(preset.robot);
  const robot = await SimRobot.create({ scene: preset.scene, robot: desc, commandMode: 'joint_position', cameras: ['agentview', 'eye_in_hand'], imageSize: 128, policyHz: 20, rendererKind });
  try {
    const loop = new ControlLoop({ policy: new JointSweepPolicy(desc, { rateHz: 20 }), robot: desc, embodiment: desc.id, schedule: { mode: 'replan', actionsPerChunk: 10 } });
    // the sweep reads no cameras, so rendering is forced: this measures physics + 2 cameras + controller
    await runRollout({ robot, loop, instruction: '', steps: 20, renderEveryTick: true }); // warm-up
    const t0 = performance.now();
    const r = await runRollout({ robot, loop, instruction: '', steps, renderEveryTick: true });
    const wall = (performance.now() - t0) / 1000;
    return { stepsPerS: r.ticks / wall, realtime: r.simTimeS / wall };
  } finally {
    await robot.close();
  }
}

export async function benchSimControl(steps = 200): Promise<BenchEntry[]> {
  const details = { cameras: 'agentview + eye_in_hand, rgb8 128x128', policy_hz: 20, physics_substeps: 25, steps };
  const sw = await measure(steps, 'software');
  const swDetails = { ...details, renderer: 'software', note: 'one worker (one Node process, in-process software rasterizer)' };
  const out: BenchEntry[] = [
    { name: 'sim.control_steps_per_s.2cam_128', value: sw.stepsPerS, unit: 'steps/s', ...swDetails },
    { name: 'sim.realtime_factor.2cam_128', value: sw.realtime, unit: 'x', target: '>= 20 per core', ...swDetails },
  ];
  if (!chromiumAvailable()) {
    console.warn(`sim.realtime_factor.2cam_128.chromium skipped: no Chromium at ${chromiumPath()}`);
    return out;
  }
  const gl = await measure(steps, 'chromium');
  const glDetails = { ...details, renderer: 'chromium', note: 'one worker (one Node process + its Chromium page, three.js on SwiftShader)' };
  out.push(
    { name: 'sim.control_steps_per_s.2cam_128.chromium', value: gl.stepsPerS, unit: 'steps/s', ...glDetails },
    { name: 'sim.realtime_factor.2cam_128.chromium', value: gl.realtime, unit: 'x', ...glDetails },
  );
  return out;
}
