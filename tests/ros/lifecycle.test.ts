import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createSimSession } from '../../src/ros/session.ts';
import { ArmatureNode } from '../../src/ros/node.ts';
import { InProcessBus } from '../../src/ros/inprocess.ts';
import { loadPolicy, policyFromPackage } from '../../src/policy/load.ts';
import { loadModelPackage } from '../../src/policy/model-package.ts';
import { DiagnosticLevel, type Path } from '../../src/ros/messages/index.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'vla-chunk-tiny');

describe('ArmatureNode lifecycle and diagnostics', () => {
  it('refuses to configure before the model is loaded', () => {
    const node = new ArmatureNode({ transport: new InProcessBus().node('armature'), log: () => {} });
    expect(() => node.lifecycle.trigger('configure')).toThrow(/prepare\(\)/);
    expect(node.lifecycle.state).toBe('unconfigured');
  });

  it('without joint states: no command is invented, diagnostics say STALE', async () => {
    const bus = new InProcessBus();
    const policy = await loadPolicy(MODEL);
    const node = new ArmatureNode({ transport: bus.node('armature', { parameters: { model_dir: MODEL } }), policy, log: () => {} });
    let commands = 0;
    bus.node('probe').subscribe('/fr3_arm_controller/joint_trajectory', 'trajectory_msgs/msg/JointTrajectory', { kind: 'reliable' }, () => commands++);
    const levels: number[] = [];
    bus.node('probe2').subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', { kind: 'reliable' }, (m) => levels.push(m.status[0]!.level));
    await node.start();
    await bus.advance(2);
    expect(commands).toBe(0);
    expect(node.counters.staleTicks).toBe(40);
    expect(levels).toEqual([DiagnosticLevel.STALE, DiagnosticLevel.STALE]);
    await node.close();
    await policy.dispose();
  });

  it('inactive holds (no new commands), active resumes; planned path published per chunk', async () => {
    const s = await createSimSession({ scene: 'franka', modelDir: MODEL, parameters: { publish_path: true }, log: () => {} });
    let commands = 0;
    const paths: Path[] = [];
    const probe = s.bus.node('probe');
    probe.subscribe('/fr3_arm_controller/joint_trajectory', 'trajectory_msgs/msg/JointTrajectory', { kind: 'reliable' }, () => commands++);
    probe.subscribe('/armature/planned_path', 'nav_msgs/msg/Path', { kind: 'reliable' }, (m) => paths.push(m));
    try {
      await s.run(10);
      expect(commands).toBe(10);
      expect(paths.length).toBeGreaterThanOrEqual(1);
      expect(paths[0]!.poses).toHaveLength(8);
      // TCP in front of the FR3 base, inside its reach
      const p = paths[0]!.poses[0]!.pose.position;
      expect(Math.hypot(p.x, p.y, p.z - 0.333)).toBeLessThan(0.9);
      expect(paths[0]!.header.frame_id).toBe('base');
      expect(s.node.lifecycle.trigger('deactivate')).toBe('inactive');
      expect(commands).toBe(11); // the last command, repeated once as the hold
      await s.run(10);
      expect(commands).toBe(11);
      expect(s.node.diagnostics().status[0]!.level).toBe(DiagnosticLevel.STALE);
      expect(s.sim.stats.heldPeriods).toBeGreaterThanOrEqual(9);
      s.node.lifecycle.trigger('activate');
      await s.run(10);
      expect(commands).toBe(21);
    } finally {
      await s.close();
    }
  }, 30_000);
});

describe('ArmatureNode chunk schedule: parameters over the model package', () => {
  const blended = async () => {
    const pkg = await loadModelPackage(MODEL);
    return policyFromPackage({ ...pkg, manifest: { ...pkg.manifest, execute_length: 4, schedule: { mode: 'blend' as const, blend_steps: 3 } } });
  };
  const configured = async (parameters: Record<string, string | number>) => {
    const policy = await blended();
    const node = new ArmatureNode({ transport: new InProcessBus().node('armature', { parameters: { model_dir: MODEL, ...parameters } }), policy, log: () => {} });
    await node.prepare();
    node.lifecycle.trigger('configure');
    return { node, policy };
  };

  it('runs the package\'s schedule by default, and the parameters override it', async () => {
    for (const [params, mode, ahead] of [
      [{}, 'blend', 4],
      [{ schedule_mode: 'replan' }, 'replan', 4],
      [{ schedule_mode: 'replan', actions_per_chunk: 2 }, 'replan', 2],
    ] as const) {
      const { node, policy } = await configured(params);
      const schedule = node.controlLoop!.executor.schedule;
      expect(schedule.mode).toBe(mode);
      // a chunk observed at tick 0 is due again after the execute length
      schedule.onChunk({ actions: new Float32Array(8 * 8), horizon: 8, dim: 8 } as never, 0);
      expect(schedule.ticksUntilDue(0)).toBe(ahead);
      await node.close();
      await policy.dispose();
    }
  });

  it('refuses blend steps for a schedule that does not blend, naming the parameters', async () => {
    await expect(configured({ schedule_mode: 'replan', blend_steps: 2 })).rejects.toThrow(/schedule parameters \(schedule_mode 'replan'\): blend steps \/ ramp were given, but vla-chunk-tiny runs schedule 'replan'/);
    await expect(configured({ schedule_mode: 'average' })).rejects.toThrow(/schedule_mode 'average'\): schedule mode 'average' is unknown: use one of replan, ensemble, blend/);
  });
});

describe('ArmatureNode sampling parameters', () => {
  const prepared = async (parameters: { noise_scale?: number; eta?: number }) => {
    const node = new ArmatureNode({ transport: new InProcessBus().node('armature', { parameters: { model_dir: MODEL, ...parameters } }), log: () => {} });
    await node.prepare();
    return node;
  };

  it("noise_scale reaches the policy it loads: refused for a chunk-regression model, left to the model when negative", async () => {
    await expect(prepared({ noise_scale: 0.5 })).rejects.toThrow(/noise scale applies to flow policies/);
    const node = await prepared({ noise_scale: -1 });
    expect(node.params.noise_scale).toBe(-1);
    await node.close();
  });

  it('eta reaches the policy it loads: refused for a chunk-regression model, left to the sampler when negative', async () => {
    await expect(prepared({ eta: 1 })).rejects.toThrow(/eta applies to diffusion policies/);
    const node = await prepared({ eta: -1 });
    expect(node.params.eta).toBe(-1);
    await node.close();
  });
});
