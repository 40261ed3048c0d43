/**
 * A policy without a model: a slow sinusoidal sweep of every joint around the
 * robot's home pose, used by `armature sim` when no --model is given. It goes
 * through the same scheduling and safety path as a learned policy.
 */
import type { ActionChunk, Policy, PolicyMetadata } from '../../src/policy/types.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import { homePose, jointNames } from '../../src/embodiment/description.ts';

export class JointSweepPolicy implements Policy {
  readonly metadata: PolicyMetadata;
  private readonly home: Float64Array;
  private readonly dim: number;

  constructor(
    robot: RobotDescription,
    private readonly opts: { rateHz: number; amplitude?: number; periodS?: number; horizon?: number } = { rateHz: 20 },
  ) {
    const names = jointNames(robot);
    const grippers = robot.arms.map((a) => `${a.name}_gripper`);
    this.home = homePose(robot);
    this.dim = names.length + grippers.length;
    // per arm: joints then its gripper, in the order ActionMapper expects (gripper dims listed)
    const actionNames: string[] = [];
    const gripperDims: number[] = [];
    robot.arms.forEach((a, i) => {
      for (const j of a.joints) actionNames.push(j.name);
    });
    robot.arms.forEach((_, i) => {
      gripperDims.push(actionNames.length);
      actionNames.push(grippers[i]!);
    });
    this.metadata = {
      name: 'joint-sweep',
      kind: 'chunk_regression',
      horizon: opts.horizon ?? 10,
      controlRateHz: opts.rateHz,
      embodiments: {
        [robot.id]: {
          space: 'joint_position',
          names: actionNames,
          units: actionNames.map((_, i) => (gripperDims.includes(i) ? 'm' : 'rad')),
          mean: new Array(this.dim).fill(0),
          std: new Array(this.dim).fill(1),
          gripper_dims: gripperDims,
        },
      },
      cameras: [],
      proprioFields: { [robot.id]: ['joint_positions'] },
    };
    this.gripperWidths = robot.arms.map((a) => a.gripper.home_width);
  }

  private readonly gripperWidths: number[];

  async predictChunk(obs: Observation): Promise<ActionChunk> {
    const H = this.metadata.horizon;
    const n = this.home.length;
    const amp = this.opts.amplitude ?? 0.25;
    const w = (2 * Math.PI) / (this.opts.periodS ?? 4);
    const actions = new Float32Array(H * this.dim);
    for (let k = 0; k < H; k++) {
      const t = obs.stamp + k / this.opts.rateHz;
      for (let j = 0; j < n; j++) actions[k * this.dim + j] = this.home[j]! + amp * Math.sin(w * t + j);
      this.gripperWidths.forEach((g, i) => (actions[k * this.dim + n + i] = g));
    }
    return { embodiment: Object.keys(this.metadata.embodiments)[0]!, horizon: H, dim: this.dim, actions, stamp: obs.stamp, stats: { latencyMs: 0 } };
  }

  reset(): void {}

  async dispose(): Promise<void> {}
}
