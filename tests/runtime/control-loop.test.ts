import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ControlLoop } from '../../src/runtime/control-loop.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { loadObservationFile } from '../../src/observation/example.ts';
import { NonFiniteActionError } from '../../src/policy/kinds/common.ts';
import type { ActionChunk, Policy, PolicyMetadata } from '../../src/policy/types.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { ActionSpec } from '../../src/policy/manifest.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const robot = loadRobot('franka/fr3');
const HOME = [0, -0.785, 0, -2.356, 0, 1.571, 0.785];

const jointSpec: ActionSpec = {
  space: 'joint_position',
  names: ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'gripper'],
  units: ['rad', 'rad', 'rad', 'rad', 'rad', 'rad', 'rad', 'm'],
  mean: new Array(8).fill(0),
  std: new Array(8).fill(1),
  gripper_dims: [7],
};

/** A policy whose chunk rows come from a function of (obs, row). */
function scripted(row: (obs: Observation, k: number) => number[] | Error, horizon = 4): Policy {
  const metadata: PolicyMetadata = {
    name: 'scripted',
    kind: 'chunk_regression',
    horizon,
    controlRateHz: 20,
    embodiments: { franka: jointSpec },
    cameras: [],
    proprioFields: { franka: ['joint_positions'] },
  };
  return {
    metadata,
    async predictChunk(obs: Observation): Promise<ActionChunk> {
      const actions = new Float32Array(horizon * 8);
      for (let k = 0; k < horizon; k++) {
        const r = row(obs, k);
        if (r instanceof Error) throw r;
        actions.set(r, k * 8);
      }
      return { embodiment: 'franka', horizon, dim: 8, actions, stamp: obs.stamp, stats: { latencyMs: 0 } };
    },
    reset() {},
    async dispose() {},
  };
}

function obsAt(tick: number, q: number[] = HOME): Observation {
  return {
    stamp: tick / 20,
    images: {},
    proprio: { fields: { joint_positions: Float64Array.from(q), gripper: Float64Array.of(0.04) }, stamp: tick / 20 },
    instruction: 'test',
  };
}

function withinLimits(positions: Float64Array): boolean {
  return robot.arms[0]!.joints.every((j, i) => positions[i]! >= j.limits.min_position - 1e-9 && positions[i]! <= j.limits.max_position + 1e-9);
}

describe('control loop: policy -> schedule -> safety', () => {
  it('clamps out-of-range targets into joint limits and reports it', async () => {
    const loop = new ControlLoop({ policy: scripted(() => [9, -9, 9, 9, 9, -9, 9, 0.5]), robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 4 } });
    let q = HOME;
    for (let t = 0; t < 60; t++) {
      const { command } = await loop.step(obsAt(t, q), t);
      expect(command.type).toBe('joint_position');
      if (command.type !== 'joint_position') return;
      expect(withinLimits(command.positions)).toBe(true);
      expect(command.gripper[0]).toBeLessThanOrEqual(0.08);
      q = Array.from(command.positions);
    }
    const report = loop.stats().safety;
    expect(report.counts.position_limit + report.counts.velocity_limit + report.counts.workspace).toBeGreaterThan(0);
    expect(report.counts.gripper_range).toBeGreaterThan(0);
  });

  it('NaN actions from a model never leave: the loop holds and counts it', async () => {
    let poison = false;
    const loop = new ControlLoop({
      policy: scripted((_o, k) => (poison ? [Number.NaN, ...HOME.slice(1), 0.04] : [...HOME.map((v) => v + 0.01 * k), 0.04])),
      robot,
      embodiment: 'franka',
      schedule: { mode: 'replan', actionsPerChunk: 1 },
    });
    const good = await loop.step(obsAt(0), 0);
    poison = true;
    const bad = await loop.step(obsAt(1), 1);
    expect(bad.command.held).toBe(true);
    expect(bad.command.interventions.map((i) => i.kind)).toContain('non_finite');
    if (bad.command.type === 'joint_position' && good.command.type === 'joint_position') {
      expect(bad.command.positions.every(Number.isFinite)).toBe(true);
      expect(Array.from(bad.command.positions)).toEqual(Array.from(good.command.positions));
    }
    expect(loop.stats().safety.counts.non_finite).toBe(1);
  });

  it('a policy error (non-finite output rejected at decode) becomes a hold with the reason', async () => {
    let fail = false;
    const loop = new ControlLoop({
      policy: scripted(() => (fail ? new NonFiniteActionError('m', 3) : [...HOME, 0.04])),
      robot,
      embodiment: 'franka',
      schedule: { mode: 'replan', actionsPerChunk: 1 },
    });
    await loop.step(obsAt(0), 0);
    fail = true;
    const r = await loop.step(obsAt(1), 1);
    expect(r.error).toBeInstanceOf(NonFiniteActionError);
    expect(r.command.held).toBe(true);
    expect(r.command.interventions[0]!.detail).toMatch(/policy failed: .*non-finite/);
    expect(loop.stats().policyErrors).toBe(1);
  });

  it('runs the shipped chunk-regression VLA: one inference per executed chunk, all commands safe', async () => {
    const policy = await loadPolicy(join(MODELS, 'vla-chunk-tiny'));
    try {
      const loop = new ControlLoop({ policy, robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 5 } });
      const obs = loadObservationFile(join(MODELS, 'vla-chunk-tiny', 'example', 'observation.json'));
      for (let t = 0; t < 20; t++) {
        const r = await loop.step({ ...obs, stamp: t / 20 }, t);
        expect(r.error).toBeNull();
        if (r.command.type === 'joint_position') expect(withinLimits(r.command.positions)).toBe(true);
      }
      expect(loop.stats().inferences).toBe(4);
    } finally {
      await policy.dispose();
    }
  });

  it('maps ee_delta_pose actions (diffusion-tiny) to bounded end-effector steps', async () => {
    const policy = await loadPolicy(join(MODELS, 'diffusion-tiny'), { sampler: 'ddim', steps: 5 });
    try {
      const loop = new ControlLoop({ policy, robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 8 } });
      const obs = loadObservationFile(join(MODELS, 'diffusion-tiny', 'example', 'observation.json'));
      const r = await loop.step(obs, 0);
      expect(r.command.type).toBe('ee_delta');
      if (r.command.type !== 'ee_delta') return;
      const step = Math.hypot(r.command.delta[0]!, r.command.delta[1]!, r.command.delta[2]!);
      expect(step).toBeLessThanOrEqual(robot.cartesian_limits.max_translational_velocity * 0.05 + 1e-9);
      expect(r.command.gripper[0]).toBeGreaterThanOrEqual(0);
      expect(r.command.gripper[0]).toBeLessThanOrEqual(0.08);
      // DDIM with 5 steps: 5 denoiser evaluations for the one chunk, none for the ticks that follow
      for (let t = 1; t < 8; t++) await loop.step({ ...obs, stamp: t / 20 }, t);
      expect(loop.stats().modelEvaluations).toBe(5);
      expect(loop.stats().inferences).toBe(1);
    } finally {
      await policy.dispose();
    }
  });

  it('says in advance on which ticks the policy will look at images (sync replan)', async () => {
    const policy = scripted(() => [...HOME, 0.04], 4);
    const withCams = { ...policy, metadata: { ...policy.metadata, cameras: ['agentview'] } };
    const loop = new ControlLoop({ policy: withCams, robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 4 } });
    const predicted: number[] = [];
    const inferred: number[] = [];
    for (let t = 0; t < 12; t++) {
      if (loop.needsImages(t)) predicted.push(t);
      if ((await loop.step(obsAt(t), t)).inferred) inferred.push(t);
    }
    expect(predicted).toEqual([0, 4, 8]);
    expect(inferred).toEqual(predicted);
  });

  it('rejects an observation without measured joints', async () => {
    const loop = new ControlLoop({ policy: scripted(() => [...HOME, 0.04]), robot, embodiment: 'franka', schedule: { mode: 'replan', actionsPerChunk: 1 } });
    const obs = obsAt(0);
    await expect(loop.step({ ...obs, proprio: { fields: {}, stamp: 0 } }, 0)).rejects.toThrow(/proprio 'joint_positions' must hold 7 joint positions/);
  });
});
