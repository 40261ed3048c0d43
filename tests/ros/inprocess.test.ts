import { describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock } from '../../src/ros/inprocess.ts';
import { QOS } from '../../src/ros/transport.ts';
import { RosError } from '../../src/ros/errors.ts';
import type { JointState, StringMsg } from '../../src/ros/messages/index.ts';

const js = (t: number, q: number[]): JointState => ({
  header: { stamp: { sec: Math.floor(t), nanosec: Math.round((t % 1) * 1e9) }, frame_id: '' },
  name: q.map((_, i) => `j${i + 1}`),
  position: Float64Array.from(q),
  velocity: new Float64Array(),
  effort: new Float64Array(),
});

describe('InProcessBus pub/sub', () => {
  it('delivers to every subscriber in order, synchronously', () => {
    const bus = new InProcessBus();
    const sim = bus.node('sim');
    const node = bus.node('armature');
    const seen: string[] = [];
    node.subscribe('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => seen.push(`a:${m.position[0]}`));
    node.subscribe('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => seen.push(`b:${m.position[0]}`));
    const pub = sim.createPublisher('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData);
    pub.publish(js(0, [0.1]));
    pub.publish(js(0, [0.2]));
    expect(seen).toEqual(['a:0.1', 'b:0.1', 'a:0.2', 'b:0.2']);
  });

  it('serialize mode hands each subscriber its own decoded copy', () => {
    const bus = new InProcessBus({ serialize: true });
    const node = bus.node('n');
    const got: JointState[] = [];
    node.subscribe('/js', 'sensor_msgs/msg/JointState', QOS.reliable(), (m) => got.push(m));
    node.subscribe('/js', 'sensor_msgs/msg/JointState', QOS.reliable(), (m) => got.push(m));
    const sent = js(1.25, [0.5, -0.5]);
    node.createPublisher('/js', 'sensor_msgs/msg/JointState', QOS.reliable()).publish(sent);
    expect(got).toHaveLength(2);
    expect(got[0]).not.toBe(sent);
    expect(got[0]).not.toBe(got[1]);
    expect(Array.from(got[0]!.position)).toEqual([0.5, -0.5]);
    expect(got[0]!.header.stamp).toEqual({ sec: 1, nanosec: 250_000_000 });
  });

  it('serialize mode rejects a message that does not match its schema', () => {
    const bus = new InProcessBus({ serialize: true });
    const node = bus.node('n');
    const pub = node.createPublisher('/s', 'std_msgs/msg/String', QOS.reliable());
    expect(() => pub.publish({ data: 42 } as unknown as StringMsg)).toThrow(RosError);
  });

  it('refuses two types on one topic', () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    n.subscribe('/x', 'std_msgs/msg/String', QOS.reliable(), () => {});
    expect(() => n.createPublisher('/x', 'std_msgs/msg/Bool', QOS.reliable()).publish({ data: true })).toThrow(/carries 'std_msgs\/msg\/String'/);
  });

  it('transient_local replays the last `depth` messages to late transient_local subscribers only', () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    const pub = n.createPublisher('/estop', 'std_msgs/msg/Bool', QOS.transientLocal(1));
    pub.publish({ data: false });
    pub.publish({ data: true });
    const latched: boolean[] = [];
    const volatile: boolean[] = [];
    n.subscribe('/estop', 'std_msgs/msg/Bool', QOS.transientLocal(1), (m) => latched.push(m.data));
    n.subscribe('/estop', 'std_msgs/msg/Bool', QOS.reliable(), (m) => volatile.push(m.data));
    expect(latched).toEqual([true]);
    expect(volatile).toEqual([]);
  });

  it('unsubscribe and close stop delivery; a closed node cannot publish', async () => {
    const bus = new InProcessBus();
    const a = bus.node('a');
    const b = bus.node('b');
    let count = 0;
    const sub = b.subscribe('/s', 'std_msgs/msg/String', QOS.reliable(), () => count++);
    const pub = a.createPublisher('/s', 'std_msgs/msg/String', QOS.reliable());
    pub.publish({ data: 'x' });
    sub.unsubscribe();
    pub.publish({ data: 'y' });
    expect(count).toBe(1);
    b.subscribe('/s', 'std_msgs/msg/String', QOS.reliable(), () => count++);
    await b.close();
    pub.publish({ data: 'z' });
    expect(count).toBe(1);
    await a.close();
    expect(() => pub.publish({ data: 'w' })).toThrow(/closed/);
  });

  it('delivers to all subscribers even if one throws, then rethrows', () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    let reached = false;
    n.subscribe('/s', 'std_msgs/msg/String', QOS.reliable(), () => {
      throw new Error('boom');
    });
    n.subscribe('/s', 'std_msgs/msg/String', QOS.reliable(), () => {
      reached = true;
    });
    expect(() => n.createPublisher('/s', 'std_msgs/msg/String', QOS.reliable()).publish({ data: '' })).toThrow('boom');
    expect(reached).toBe(true);
  });

  it('taps see every publish with node name and bus time', async () => {
    const bus = new InProcessBus({ startS: 100 });
    const n = bus.node('armature');
    const events: [string, string, bigint][] = [];
    bus.tap((e) => events.push([e.node, e.topic, e.timeNs]));
    await bus.advance(0.5);
    n.createPublisher('/s', 'std_msgs/msg/String', QOS.reliable()).publish({ data: '' });
    expect(events).toEqual([['armature', '/s', 100_500_000_000n]]);
  });
});

describe('manual clock and timers', () => {
  it('fires timers only on advance, in time order, at exact periods', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    const log: string[] = [];
    n.createTimer(0.1, () => void log.push(`a@${n.clock.now().toFixed(2)}`));
    n.createTimer(0.25, () => void log.push(`b@${n.clock.now().toFixed(2)}`));
    expect(log).toEqual([]);
    await bus.advance(0.5);
    expect(log).toEqual(['a@0.10', 'a@0.20', 'b@0.25', 'a@0.30', 'a@0.40', 'a@0.50', 'b@0.50']);
    expect(n.clock.nowNs()).toBe(500_000_000n);
  });

  it('does not drift over many periods (integer ns)', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    let ticks = 0;
    n.createTimer(1 / 30, () => void ticks++);
    for (let i = 0; i < 300; i++) await bus.advance(1 / 30);
    expect(ticks).toBe(300);
  });

  it('awaits async timer callbacks one at a time', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    const log: string[] = [];
    n.createTimer(0.1, async () => {
      log.push(`start ${n.clock.now().toFixed(1)}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${n.clock.now().toFixed(1)}`);
    });
    await bus.advance(0.2);
    expect(log).toEqual(['start 0.1', 'end 0.1', 'start 0.2', 'end 0.2']);
  });

  it('cancelled timers stop firing; bad periods are refused', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    let ticks = 0;
    const t = n.createTimer(0.1, () => void ticks++);
    await bus.advance(0.25);
    t.cancel();
    await bus.advance(1);
    expect(ticks).toBe(2);
    expect(() => n.createTimer(0, () => {})).toThrow(/positive/);
  });

  it('manual clock never goes backwards', () => {
    const c = new ManualClock(5);
    expect(c.now()).toBe(5);
    expect(() => c.setNs(1n)).toThrow(/cannot go back/);
  });

  it('system clock mode refuses advance()', async () => {
    const bus = new InProcessBus({ clock: 'system' });
    expect(bus.isManual).toBe(false);
    expect(Math.abs(bus.clock.now() - Date.now() / 1000)).toBeLessThan(1);
    await expect(bus.advance(1)).rejects.toThrow(/manual clock/);
  });
});

describe('services and actions', () => {
  it('Trigger e-stop service round-trips through CDR', async () => {
    const bus = new InProcessBus({ serialize: true });
    const node = bus.node('armature');
    const operator = bus.node('operator');
    let held = false;
    node.createService('/armature/estop', 'std_srvs/srv/Trigger', () => {
      held = true;
      return { success: true, message: 'holding position' };
    });
    const res = await operator.call('/armature/estop', 'std_srvs/srv/Trigger', {});
    expect(held).toBe(true);
    expect(res).toEqual({ success: true, message: 'holding position' });
  });

  it('missing service and duplicate server are clear errors', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    await expect(n.call('/nope', 'std_srvs/srv/Trigger', {})).rejects.toThrow(/no service server for '\/nope'/);
    n.createService('/s', 'std_srvs/srv/Trigger', () => ({ success: true, message: '' }));
    expect(() => n.createService('/s', 'std_srvs/srv/Trigger', () => ({ success: true, message: '' }))).toThrow(/already has a server/);
  });

  it('call times out', async () => {
    const bus = new InProcessBus();
    const n = bus.node('n');
    n.createService('/slow', 'std_srvs/srv/Trigger', () => new Promise(() => {}));
    await expect(n.call('/slow', 'std_srvs/srv/Trigger', {}, { timeoutS: 0.02 })).rejects.toThrow(/did not answer within 0.02 s/);
  });

  it('gripper action: goal in, result out (franka_msgs Grasp)', async () => {
    const bus = new InProcessBus({ serialize: true });
    const sim = bus.node('sim');
    const node = bus.node('armature');
    const goals: number[] = [];
    sim.createActionServer('/franka_gripper/grasp', 'franka_msgs/action/Grasp', (g) => {
      goals.push(g.width, g.epsilon.inner, g.force);
      return { success: g.width >= 0, error: '' };
    });
    const r = await node.sendGoal('/franka_gripper/grasp', 'franka_msgs/action/Grasp', { width: 0.02, epsilon: { inner: 0.005, outer: 0.005 }, speed: 0.1, force: 30 });
    expect(r).toEqual({ success: true, error: '' });
    expect(goals).toEqual([0.02, 0.005, 30]);
  });
});

describe('parameters', () => {
  it('overrides win over defaults; kinds and ranges are checked', () => {
    const bus = new InProcessBus();
    const n = bus.node('armature', { parameters: { control_rate_hz: 15, model_dir: 'models/x', camera_topics: ['/a', '/b'], typo_key: 1 } });
    expect(n.declareParameter('control_rate_hz', 10, { range: { from: 1, to: 1000 } })).toBe(15);
    expect(n.declareParameter('model_dir', '')).toBe('models/x');
    expect(n.declareParameter('camera_topics', [] as string[])).toEqual(['/a', '/b']);
    expect(n.declareParameter('max_observation_age_s', 0.2)).toBe(0.2);
    expect(n.getParameter('control_rate_hz')).toBe(15);
    expect(n.undeclaredParameterOverrides()).toEqual(['typo_key']);
    expect(() => n.getParameter('nope')).toThrow(/not declared/);
    expect(() => n.declareParameter('model_dir', '')).toThrow(/declared twice/);

    const bad = bus.node('bad', { parameters: { rate: 'fast', hz: 5000, n: 1.5 } });
    expect(() => bad.declareParameter('rate', 10)).toThrow(/not of the declared kind/);
    expect(() => bad.declareParameter('hz', 10, { range: { from: 1, to: 1000 } })).toThrow(/outside \[1, 1000\]/);
    expect(() => bad.declareParameter('n', 1, { integer: true })).toThrow(/must be an integer/);
  });
});

describe('lifecycle', () => {
  it('follows the ROS 2 managed-node state machine', () => {
    const bus = new InProcessBus();
    const n = bus.node('armature');
    const calls: string[] = [];
    const lc = n.lifecycle({
      configure: () => void calls.push('configure'),
      activate: () => void calls.push('activate'),
      deactivate: () => void calls.push('deactivate'),
      cleanup: () => void calls.push('cleanup'),
      shutdown: () => void calls.push('shutdown'),
    });
    expect(lc.state).toBe('unconfigured');
    expect(() => lc.trigger('activate')).toThrow(/cannot activate from state 'unconfigured'/);
    expect(lc.trigger('configure')).toBe('inactive');
    expect(lc.trigger('activate')).toBe('active');
    expect(lc.trigger('deactivate')).toBe('inactive');
    expect(lc.trigger('cleanup')).toBe('unconfigured');
    expect(lc.trigger('shutdown')).toBe('finalized');
    expect(calls).toEqual(['configure', 'activate', 'deactivate', 'cleanup', 'shutdown']);
    expect(() => n.lifecycle({})).toThrow(/register them once/);
  });

  it('a refusing handler keeps the state; a throwing one goes through error to unconfigured', () => {
    const bus = new InProcessBus();
    let allow = false;
    let errors = 0;
    const lc = bus.node('n').lifecycle({
      configure: () => allow,
      activate: () => {
        throw new Error('model not warm');
      },
      error: () => void errors++,
    });
    expect(lc.trigger('configure')).toBe('unconfigured');
    allow = true;
    expect(lc.trigger('configure')).toBe('inactive');
    expect(() => lc.trigger('activate')).toThrow(/activate failed: model not warm/);
    expect(lc.state).toBe('unconfigured');
    expect(errors).toBe(1);
  });
});
