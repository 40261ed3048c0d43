/**
 * Physics throughput: raw mj_step rate of the Franka tabletop scene (robot holding its home
 * pose, a box resting on the table), and the rate with the OSC controller in the loop.
 */
import type { BenchEntry } from '../../src/bench/types.ts';
import type { SceneDescription } from '../scene/types.ts';
import { ControlLoop, controlPreset } from './controllers.ts';
import { Simulation } from './simulation.ts';

export const FRANKA_BENCH_SCENE: SceneDescription = {
  table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] },
  robots: [{ kind: 'franka_fr3', pos: [0, 0, 0.4] }],
  objects: [{ type: 'box', name: 'cube', pos: [0.5, 0, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1 }],
};

export async function benchPhysics(opts: { steps?: number } = {}): Promise<BenchEntry[]> {
  const steps = opts.steps ?? 10_000;
  const sim = await Simulation.create({ scene: FRANKA_BENCH_SCENE });
  try {
    sim.step(500); // warm up JIT and settle contacts
    let t0 = performance.now();
    sim.step(steps);
    const rawS = (performance.now() - t0) / 1000;

    const loop = new ControlLoop(sim, { controllers: controlPreset('franka_fr3', 'osc_pose') });
    const policySteps = Math.max(1, Math.round(steps / loop.substeps));
    t0 = performance.now();
    for (let i = 0; i < policySteps; i++) loop.act([0, 0, 0, 0, 0, 0, 0.08]);
    const oscS = (performance.now() - t0) / 1000;
    const details = { nq: sim.nq, nv: sim.nv, timestep_s: sim.timestep, ncon: sim.data.ncon };
    return [
      { name: 'sim.physics_steps_per_s.franka', value: steps / rawS, unit: 'steps/s', steps, realtime_factor: (steps * sim.timestep) / rawS, ...details },
      { name: 'sim.physics_steps_per_s.franka_osc', value: (policySteps * loop.substeps) / oscS, unit: 'steps/s', steps: policySteps * loop.substeps, policy_hz: 1 / (loop.substeps * sim.timestep), ...details },
    ];
  } finally {
    sim.dispose();
  }
}
