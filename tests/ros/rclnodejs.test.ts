import { describe, expect, it } from 'vitest';
import { RosError } from '../../src/ros/errors.ts';
import { QOS } from '../../src/ros/transport.ts';
import { RCLNODEJS_MISSING, RclnodejsTransport, loadRclnodejs, parameterType } from '../../src/ros/rclnodejs-transport.ts';

const rosSourced = Boolean(process.env.AMENT_PREFIX_PATH);

describe('rclnodejs loading', () => {
  it.skipIf(rosSourced)(
    'without a sourced ROS 2, loading fails with the install hint (skipped: ROS 2 is sourced here, rclnodejs may load)',
    async () => {
      const err = await loadRclnodejs().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RosError);
      expect((err as RosError).code).toBe('ros.rclnodejs_missing');
      expect((err as Error).message).toContain(RCLNODEJS_MISSING);
      expect((err as Error).message).toContain('AMENT_PREFIX_PATH');
      await expect(RclnodejsTransport.create({ name: 'armature' })).rejects.toThrow(RCLNODEJS_MISSING);
    },
  );

  it('a failing import becomes the same clear error, keeping the cause', async () => {
    const cause = Object.assign(new Error("Cannot find package 'rclnodejs'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadRclnodejs({ env: { AMENT_PREFIX_PATH: '/opt/ros/jazzy' }, importer: () => Promise.reject(cause) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RosError);
    expect((err as Error).message).toBe(`${RCLNODEJS_MISSING} (Cannot find package 'rclnodejs')`);
    expect((err as Error).cause).toBe(cause);
  });

  it('a module without init()/Node is refused', async () => {
    await expect(loadRclnodejs({ env: { AMENT_PREFIX_PATH: '/x' }, importer: async () => ({ default: {} }) })).rejects.toThrow(/no init\(\)\/Node/);
  });
});

describe('rclnodejs mapping', () => {
  it('maps parameter kinds to rcl_interfaces ParameterType', () => {
    expect(parameterType(true, false)).toBe(1);
    expect(parameterType(3, true)).toBe(2);
    expect(parameterType(0.5, false)).toBe(3);
    expect(parameterType('m', false)).toBe(4);
    expect(parameterType([true], false)).toBe(6);
    expect(parameterType([1], true)).toBe(7);
    expect(parameterType([1.5], false)).toBe(8);
    expect(parameterType(['a'], false)).toBe(9);
  });

  it('drives a fake rclnodejs: QoS, message normalization, timers, parameters, lifecycle', async () => {
    const made: { qos: unknown[]; timers: bigint[]; params: { name: string; type: number; value: unknown }[] } = { qos: [], timers: [], params: [] };
    let deliver: ((m: unknown) => void) | undefined;
    const published: unknown[] = [];
    let lifecycleCb: (() => number) | undefined;
    class QoS {
      static profileSensorData = 'qos_profile_sensor_data';
      constructor(
        readonly history: number,
        readonly depth: number,
        readonly reliability: number,
        readonly durability: number,
      ) {}
    }
    class Node {
      constructor(readonly n: string) {}
      spin(): void {}
      now() {
        return { nanoseconds: 1_500_000_000n };
      }
      createSubscription(_t: string, _topic: string, opts: { qos: unknown }, cb: (m: unknown) => void) {
        made.qos.push(opts.qos);
        deliver = cb;
        return {};
      }
      createPublisher(_t: string, _topic: string, opts: { qos: unknown }) {
        made.qos.push(opts.qos);
        return { publish: (m: unknown) => published.push(m) };
      }
      createTimer(period: bigint) {
        made.timers.push(period);
        return {};
      }
      declareParameter(p: { name: string; type: number; value: unknown }) {
        made.params.push(p);
        // pretend the YAML overrode the integer parameter
        return p.name === 'rate' ? { value: 15n } : p;
      }
      destroy(): void {}
    }
    class LifecycleNode extends Node {
      state = 'unconfigured';
      get currentState() {
        return { asMessage: () => ({ id: 1, label: this.state }) };
      }
      registerOnConfigure(cb: () => number) {
        lifecycleCb = cb;
      }
      registerOnActivate() {}
      registerOnDeactivate() {}
      registerOnCleanup() {}
      registerOnShutdown() {}
      registerOnError() {}
      configure() {
        if (lifecycleCb!() === 97) this.state = 'inactive';
      }
    }
    const fake = {
      init: async () => {},
      Node,
      lifecycle: { LifecycleNode },
      QoS,
      Parameter: class {
        constructor(
          readonly name: string,
          readonly type: number,
          readonly value: unknown,
        ) {}
      },
      ParameterDescriptor: class {},
      FloatingPointRange: class {},
      IntegerRange: class {},
      isShutdown: () => false,
      shutdown: () => {},
    };
    const t = await RclnodejsTransport.create({ name: 'armature', lifecycle: true, load: { env: { AMENT_PREFIX_PATH: '/x' }, importer: async () => ({ default: fake }) } });
    expect(t.clock.now()).toBe(1.5);

    const got: number[][] = [];
    t.subscribe('/joint_states', 'sensor_msgs/msg/JointState', QOS.sensorData, (m) => got.push(Array.from(m.position)));
    deliver!({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' }, name: ['a'], position: [0.25], velocity: [], effort: [] });
    expect(got).toEqual([[0.25]]);

    const pub = t.createPublisher('/estop', 'std_msgs/msg/Bool', QOS.transientLocal(1));
    pub.publish({ data: true });
    expect(published).toEqual([{ data: true }]);
    expect(made.qos[0]).toBe('qos_profile_sensor_data');
    expect(made.qos[1]).toMatchObject({ history: 1, depth: 1, reliability: 1, durability: 1 });

    t.createTimer(1 / 30, () => {});
    expect(made.timers).toEqual([33_333_333n]);

    expect(t.declareParameter('rate', 10, { integer: true })).toBe(15);
    expect(made.params[0]).toMatchObject({ name: 'rate', type: 2, value: 10n });
    expect(t.declareParameter('model_dir', 'm')).toBe('m');

    let configured = false;
    const lc = t.lifecycle({ configure: () => void (configured = true) });
    expect(lc.trigger('configure')).toBe('inactive');
    expect(configured).toBe(true);
    await t.close();
  });
});
