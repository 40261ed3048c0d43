/**
 * The direct (non-ROS) control loop in simulation: observe -> ControlLoop.step
 * -> apply, one policy tick at a time, deterministic for a seed.
 */
import type { SimRobot } from './sim-robot.ts';
import type { ControlLoop, ControlStep } from '../../src/runtime/control-loop.ts';
import type { Observation } from '../../src/observation/types.ts';

export interface RolloutStep {
  tick: number;
  obs: Observation;
  step: ControlStep;
}

export interface RolloutOptions {
  robot: SimRobot;
  loop: ControlLoop;
  instruction: string;
  steps: number;
  /** render cameras on every tick, not only when the policy infers (benchmarks, recording) */
  renderEveryTick?: boolean;
  /** called after each tick's command was applied; return true to stop early */
  onStep?: (s: RolloutStep) => boolean | void | Promise<boolean | void>;
}

export interface RolloutResult {
  ticks: number;
  simTimeS: number;
  wallS: number;
}

export async function runRollout(o: RolloutOptions): Promise<RolloutResult> {
  const t0 = performance.now();
  const start = o.robot.time;
  let tick = 0;
  for (; tick < o.steps; tick++) {
    // cameras are rendered only on ticks where the policy runs
    const obs = await o.robot.observe(o.instruction, { images: o.renderEveryTick || o.loop.needsImages(tick) });
    const step = await o.loop.step(obs, tick);
    o.robot.apply(step.command);
    if (o.onStep && (await o.onStep({ tick, obs, step }))) {
      tick++;
      break;
    }
  }
  return { ticks: tick, simTimeS: o.robot.time - start, wallS: (performance.now() - t0) / 1000 };
}
