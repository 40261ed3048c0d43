import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createSimSession, type SimSession } from '../../src/ros/session.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import type { ActionChunk, InferOptions, Policy } from '../../src/policy/types.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { TickRecord } from '../../src/ros/node.ts';
import type { InProcessBus } from '../../src/ros/inprocess.ts';
import { DiagnosticLevel, type JointTrajectory } from '../../src/ros/messages/index.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'vla-chunk-tiny');
const fr3 = loadRobot('franka/fr3');
const limits = fr3.arms[0]!.joints.map((j) => j.limits);
const DT = 0.05;

/**
 * Wraps a policy: optional delay in bus time (the chunk is computed once up front and
 * replayed, so only bus time decides when it arrives) or wall time, optional NaN
 * chunks from the n-th call on.
 */
class FaultyPolicy implements Policy {
  calls = 0;
  cached: ActionChunk | undefined;
  constructor(
    private readonly inner: Policy,
    private readonly opts: { busDelayS?: number; bus?: () => InProcessBus; wallDelayMs?: number; nanFromCall?: number } = {},
  ) {}
  get metadata() {
    return this.inner.metadata;
  }
  async predictChunk(obs: Observation, o?: InferOptions): Promise<ActionChunk> {
    const call = ++this.calls;
    const bus = this.opts.bus?.();
    if (this.opts.busDelayS && bus) {
      const node = bus.node(`delay${call}`);
      await new Promise<void>((resolve) => {
        const t = node.createTimer(this.opts.busDelayS!, () => {
          t.cancel();
          resolve();
        });
      });
      return { ...this.cached!, stamp: obs.stamp };
    }
    const chunk = await this.inner.predictChunk(obs, o);
    this.cached = chunk;
    if (this.opts.wallDelayMs) await new Promise((r) => setTimeout(r, this.opts.wallDelayMs));
    if (this.opts.nanFromCall !== undefined && call >= this.opts.nanFromCall) {
      return { ...chunk, actions: new Float32Array(chunk.actions.length).fill(Number.NaN) };
    }
    return chunk;
  }
  reset(): void {
    this.inner.reset();
  }
  async dispose(): Promise<void> {}
}

interface Run {
  s: SimSession;
  ticks: TickRecord[];
  published: JointTrajectory[];
  levels: number[];
}

async function session(policy: Policy, parameters: Record<string, boolean | number | string> = {}): Promise<Run> {
  const s = await createSimSession({ scene: 'franka', policy, seed: 1, parameters, log: () => {} });
  const run: Run = { s, ticks: [], published: [], levels: [] };
  s.node.onTick = (r) => run.ticks.push(r);
  const probe = s.bus.node('probe');
  probe.subscribe('/fr3_arm_controller/joint_trajectory', 'trajectory_msgs/msg/JointTrajectory', { kind: 'reliable' }, (m) => run.published.push(m));
  probe.subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', { kind: 'reliable' }, (m) => run.levels.push(m.status[0]!.level));
  return run;
}

/** No published command leaves the joint limits or moves faster than the velocity limit. */
function expectWithinLimits(published: JointTrajectory[]): void {
  let prev: Float64Array | null = null;
  for (const m of published) {
    const q = m.points[0]!.positions;
    q.forEach((v, i) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(limits[i]!.min_position);
      expect(v).toBeLessThanOrEqual(limits[i]!.max_position);
      if (prev) expect(Math.abs(v - prev[i]!)).toBeLessThanOrEqual(limits[i]!.max_velocity * DT + 1e-3);
    });
    prev = q;
  }
}

const positionsOf = (r: TickRecord): number[] => (r.command.type === 'joint_position' ? Array.from(r.command.positions) : []);

let base: Policy;
beforeAll(async () => {
  base = await loadPolicy(MODEL, { seed: 1 });
});
afterAll(async () => {
  await base.dispose();
});

describe('fault injection: node + simulator, in-process', () => {
  it('camera stops for 0.5 s: holds while the frame is stale, keeps publishing, then continues', async () => {
    const r = await session(new FaultyPolicy(base));
    try {
      await r.s.run(20);
      r.s.sim.suppressed.add('/agentview/image');
      let staleDiag = -1;
      await r.s.run(10, (k) => {
        if (k === 8) staleDiag = r.s.node.diagnostics().status[0]!.level;
      });
      r.s.sim.suppressed.delete('/agentview/image');
      await r.s.run(20);
      expect(r.ticks).toHaveLength(50);
      expect(r.published).toHaveLength(50);
      const held = r.ticks.map((t) => t.holdReason !== null && /images\.agentview/.test(t.holdReason));
      // max age 0.2 s: the last frame (t = 1.0 s) is stale at the ticks 1.25 ... 1.5 s; frames return at 1.55 s
      expect(held.filter(Boolean).length).toBe(6);
      expect(held.slice(0, 20).some(Boolean)).toBe(false);
      expect(held.slice(24, 30).every(Boolean)).toBe(true);
      expect(r.ticks.slice(30).every((t) => !t.command.held)).toBe(true);
      expect(staleDiag).toBe(DiagnosticLevel.WARN);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);

  it('model 3x slower than the control period (async): a command every tick, holds only before the first chunk', async () => {
    let bus: InProcessBus | undefined;
    const slow = new FaultyPolicy(base, { busDelayS: 3 * DT, bus: () => bus! });
    const r = await session(slow);
    bus = r.s.bus;
    try {
      // no lockstep: the chunk arrives when bus time has moved 3 periods
      await r.s.run(60, undefined, { lockstep: false });
      expect(r.published).toHaveLength(60);
      const firstMove = r.ticks.findIndex((t) => !t.command.held);
      expect(firstMove).toBeGreaterThanOrEqual(3);
      expect(firstMove).toBeLessThanOrEqual(5);
      expect(r.ticks.slice(firstMove).filter((t) => t.command.held)).toHaveLength(0);
      const stats = r.s.node.controlLoop!.stats();
      expect(stats.inferences).toBeGreaterThanOrEqual(6);
      expect(stats.starvedTicks).toBeLessThanOrEqual(4);
      // first period had holds (WARN), later periods are not errors
      expect(r.levels[0]).toBe(DiagnosticLevel.WARN);
      expect(r.levels.every((l) => l <= DiagnosticLevel.WARN)).toBe(true);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);

  it('model 3x slower in wall time, synchronous: overruns are counted and reported', async () => {
    const slow = new FaultyPolicy(base, { wallDelayMs: 150 });
    const r = await session(slow, { async_inference: false });
    try {
      await r.s.run(21);
      expect(r.published).toHaveLength(21);
      const c = r.s.node.counters;
      // one inference per 8-action chunk: ticks 0, 8, 16
      expect(c.overruns).toBe(3);
      expect(r.levels[0]).toBe(DiagnosticLevel.WARN);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);

  it('NaN actions: the tick holds, the watchdog latches until resume, diagnostics ERROR', async () => {
    const r = await session(new FaultyPolicy(base, { nanFromCall: 4 }), { async_inference: false });
    try {
      await r.s.run(30);
      // call 1 is the warm-up; calls at ticks 0, 8, 16: the chunk for tick 16 is NaN
      const firstHeld = r.ticks.findIndex((t) => t.command.held);
      expect(firstHeld).toBe(16);
      expect(r.ticks.slice(16).every((t) => t.command.held)).toBe(true);
      const heldAt = positionsOf(r.ticks[16]!);
      for (const t of r.ticks.slice(16)) expect(positionsOf(t)).toEqual(heldAt);
      expect(r.s.node.diagnostics().status[0]!.level).toBe(DiagnosticLevel.ERROR);
      expect(r.levels.at(-1)).toBe(DiagnosticLevel.ERROR);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);

  it('joint-state jump: latches a hold, nothing moves toward the bogus state, resume restarts control', async () => {
    const r = await session(new FaultyPolicy(base));
    try {
      await r.s.run(20);
      // a glitching driver: joint 2 jumps 0.5 rad
      const fault = r.s.bus.node('glitch').createPublisher('/franka/joint_states', 'sensor_msgs/msg/JointState', { kind: 'sensor_data' });
      const q = r.s.robot.sim.jointPositions(r.s.robot.jointNames);
      q[1] = q[1]! + 0.5;
      const ns = r.s.bus.clock.nowNs() + 1n;
      await r.s.bus.advanceTo(ns);
      fault.publish({ header: { stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) }, frame_id: '' }, name: [...r.s.robot.jointNames], position: q, velocity: new Float64Array(), effort: new Float64Array() });
      const before = r.ticks.length;
      await r.s.run(10);
      const after = r.ticks.slice(before);
      expect(after.every((t) => t.command.held && /jumped/.test(t.holdReason ?? ''))).toBe(true);
      const heldAt = positionsOf(after[0]!);
      for (const t of after) expect(positionsOf(t)).toEqual(heldAt);
      expect(r.s.node.diagnostics().status[0]!.level).toBe(DiagnosticLevel.ERROR);
      const res = await r.s.bus.node('operator').call('/armature/resume', 'std_srvs/srv/Trigger', {});
      expect(res.success).toBe(true);
      const mark = r.ticks.length;
      await r.s.run(20);
      expect(r.ticks.slice(mark).filter((t) => !t.command.held).length).toBeGreaterThan(10);
      expect(r.s.node.diagnostics().status[0]!.level).toBeLessThan(DiagnosticLevel.ERROR);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);

  it('e-stop during motion (topic and service): the command freezes at once and stays until resume', async () => {
    const r = await session(new FaultyPolicy(base));
    try {
      await r.s.run(20);
      const moving = r.ticks.slice(10, 20).map(positionsOf);
      expect(moving.some((q, k) => k > 0 && q.some((v, i) => v !== moving[k - 1]![i]))).toBe(true);
      r.s.bus.node('operator').createPublisher('/armature/estop', 'std_msgs/msg/Bool', { kind: 'transient_local', depth: 1 }).publish({ data: true });
      const before = r.ticks.length;
      const lastMoving = positionsOf(r.ticks[before - 1]!);
      await r.s.run(10);
      const stopped = r.ticks.slice(before);
      expect(stopped.every((t) => t.command.held && /e-stop/.test(t.holdReason ?? ''))).toBe(true);
      for (const t of stopped) expect(positionsOf(t)).toEqual(lastMoving);
      expect(r.s.node.diagnostics().status[0]!.level).toBe(DiagnosticLevel.ERROR);
      // the simulated arm settles where the last command left it
      const q = r.s.robot.sim.jointPositions(r.s.robot.jointNames);
      q.forEach((v, i) => expect(Math.abs(v - lastMoving[i]!)).toBeLessThan(0.02));
      const op = r.s.bus.node('operator2');
      await op.call('/armature/resume', 'std_srvs/srv/Trigger', {});
      await r.s.run(10);
      expect(r.ticks.slice(-5).every((t) => !t.command.held)).toBe(true);
      // the service latches too
      expect((await op.call('/armature/estop', 'std_srvs/srv/Trigger', {})).success).toBe(true);
      await r.s.run(3);
      expect(r.ticks.slice(-3).every((t) => t.command.held)).toBe(true);
      expectWithinLimits(r.published);
    } finally {
      await r.s.close();
    }
  }, 30_000);
});
