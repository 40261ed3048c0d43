/**
 * In-process ROS: several "nodes" (our node, the simulator, a recorder) exchange
 * messages through one InProcessBus without ROS installed.
 *
 * Delivery is synchronous inside publish(), in subscription order, so runs are
 * reproducible. With a manual clock, time moves only in `bus.advance(dtS)` /
 * `bus.advanceTo(ns)`, which fire due timers in time order (ties: creation order)
 * and await async timer callbacks one at a time.
 */
import { RosError } from './errors.ts';
import { deserialize, serialize } from './messages/index.ts';
import type {
  ActionTypeName,
  ActionTypes,
  MessageTypeName,
  MessageTypes,
  ServiceTypeName,
  ServiceTypes,
} from './messages/types.ts';
import {
  LifecycleMachine,
  ParameterStore,
  qosDepth,
  withTimeout,
  type Lifecycle,
  type LifecycleHandlers,
  type MessageCallback,
  type ParameterDescriptor,
  type ParameterValue,
  type Publisher,
  type QoS,
  type RosClock,
  type ServiceHandle,
  type Subscription,
  type TimerHandle,
  type Transport,
  type Widen,
} from './transport.ts';

const NS_PER_S = 1_000_000_000;

/** Seconds -> integer ns (rounded). */
export function secondsToNs(s: number): bigint {
  return BigInt(Math.round(s * NS_PER_S));
}

/** A clock that moves only when told to. */
export class ManualClock implements RosClock {
  #ns: bigint;
  /** @param startS initial time, s */
  constructor(startS = 0) {
    this.#ns = secondsToNs(startS);
  }
  now(): number {
    return Number(this.#ns) / NS_PER_S;
  }
  nowNs(): bigint {
    return this.#ns;
  }
  /** set the time (never backwards) */
  setNs(ns: bigint): void {
    if (ns < this.#ns) {
      throw new RosError('ros.clock', `manual clock cannot go back from ${this.#ns} ns to ${ns} ns: feed messages in log-time order`);
    }
    this.#ns = ns;
  }
}

/** System time (ROS time without use_sim_time). */
export class SystemClock implements RosClock {
  now(): number {
    return Date.now() / 1000;
  }
  nowNs(): bigint {
    // ms precision from Date, sub-ms from the monotonic clock's fraction.
    return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  }
}

/** One publish on the bus, as seen by taps (recorders). */
export interface PublishEvent {
  readonly topic: string;
  readonly type: MessageTypeName;
  readonly qos: QoS;
  readonly message: object;
  /** CDR bytes when the bus serializes (or the message came from a bag) */
  readonly bytes?: Uint8Array;
  /** node that published it */
  readonly node: string;
  /** bus time of the publish, ns */
  readonly timeNs: bigint;
}

interface SubEntry {
  readonly id: number;
  readonly type: string;
  readonly qos: QoS;
  readonly cb: (msg: object) => void;
}

interface TimerEntry {
  readonly id: number;
  readonly periodNs: bigint;
  nextNs: bigint;
  readonly cb: () => void | Promise<void>;
  cancelled: boolean;
}

type Handler = (request: object) => object | Promise<object>;

export interface InProcessBusOptions {
  /** 'manual' (default; deterministic) or 'system' (timers on setInterval) */
  clock?: 'manual' | 'system';
  /** manual clock start, s */
  startS?: number;
  /** round-trip every message, request and response through CDR (catches schema bugs) */
  serialize?: boolean;
}

/** A shared in-memory ROS graph: topics, services, actions, timers, one clock. */
export class InProcessBus {
  readonly clock: RosClock;
  readonly serialize: boolean;
  readonly #manual: ManualClock | undefined;
  readonly #topics = new Map<string, { type: string; subs: SubEntry[]; latched: { qos: QoS; msg: object; bytes?: Uint8Array }[] }>();
  readonly #services = new Map<string, { type: string; handler: Handler }>();
  readonly #actions = new Map<string, { type: string; handler: Handler }>();
  readonly #timers: TimerEntry[] = [];
  readonly #taps: ((e: PublishEvent) => void)[] = [];
  #nextId = 1;

  constructor(opts: InProcessBusOptions = {}) {
    this.serialize = opts.serialize ?? false;
    if ((opts.clock ?? 'manual') === 'manual') {
      this.#manual = new ManualClock(opts.startS ?? 0);
      this.clock = this.#manual;
    } else {
      this.clock = new SystemClock();
    }
  }

  /** True when time advances only through advance()/advanceTo(). */
  get isManual(): boolean {
    return this.#manual !== undefined;
  }

  /** Create a node on this bus. */
  node(name: string, opts: { parameters?: Readonly<Record<string, ParameterValue>> } = {}): InProcessTransport {
    return new InProcessTransport(this, name, opts.parameters);
  }

  /** See every publish (recorders); returns an unsubscribe function. */
  tap(listener: (e: PublishEvent) => void): () => void {
    this.#taps.push(listener);
    return () => {
      const i = this.#taps.indexOf(listener);
      if (i >= 0) this.#taps.splice(i, 1);
    };
  }

  #topic(topic: string, type: string) {
    let t = this.#topics.get(topic);
    if (!t) {
      t = { type, subs: [], latched: [] };
      this.#topics.set(topic, t);
    } else if (t.type !== type) {
      throw new RosError('ros.type_mismatch', `topic '${topic}' carries '${t.type}', not '${type}': use one message type per topic`);
    }
    return t;
  }

  /** @internal */
  addSubscription(topic: string, type: string, qos: QoS, cb: (msg: object) => void): Subscription {
    const t = this.#topic(topic, type);
    const entry: SubEntry = { id: this.#nextId++, type, qos, cb };
    t.subs.push(entry);
    // Late joiners receive latched messages only when both sides are transient_local (ROS semantics).
    if (qos.kind === 'transient_local') {
      for (const l of t.latched) cb(this.#copyFor(type, l.msg, l.bytes));
    }
    return {
      topic,
      unsubscribe: () => {
        const i = t.subs.indexOf(entry);
        if (i >= 0) t.subs.splice(i, 1);
      },
    };
  }

  #copyFor(type: string, msg: object, bytes: Uint8Array | undefined): object {
    if (bytes === undefined) return msg;
    return deserialize(type, bytes) as object;
  }

  /**
   * Publish on the bus. `bytes` (CDR) may be given instead of relying on
   * serialize mode, e.g. for messages read from a bag.
   * @internal
   */
  publish(node: string, topic: string, type: MessageTypeName, qos: QoS, msg: object, bytesIn?: Uint8Array): void {
    const t = this.#topic(topic, type);
    const bytes = bytesIn ?? (this.serialize ? serialize(type, msg) : undefined);
    if (qos.kind === 'transient_local') {
      t.latched.push({ qos, msg, ...(bytes ? { bytes } : {}) });
      while (t.latched.length > qosDepth(qos)) t.latched.shift();
    }
    const event: PublishEvent = { topic, type, qos, message: msg, node, timeNs: this.clock.nowNs(), ...(bytes ? { bytes } : {}) };
    for (const tap of this.#taps) tap(event);
    let firstError: unknown;
    for (const s of [...t.subs]) {
      try {
        s.cb(this.#copyFor(type, msg, bytes));
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** @internal */
  addService(kind: 'service' | 'action', name: string, type: string, handler: Handler): ServiceHandle {
    const map = kind === 'service' ? this.#services : this.#actions;
    if (map.has(name)) {
      throw new RosError('ros.duplicate', `${kind} '${name}' already has a server: create it once`);
    }
    map.set(name, { type, handler });
    return { name, close: () => void map.delete(name) };
  }

  /** @internal */
  async callService(kind: 'service' | 'action', name: string, type: string, request: object): Promise<object> {
    const map = kind === 'service' ? this.#services : this.#actions;
    const s = map.get(name);
    if (!s) {
      throw new RosError('ros.no_service', `no ${kind} server for '${name}': start the node that provides it, or check the name`);
    }
    if (s.type !== type) {
      throw new RosError('ros.type_mismatch', `${kind} '${name}' is '${s.type}', not '${type}'`);
    }
    const [reqType, resType] = kind === 'service' ? [`${type}_Request`, `${type}_Response`] : [`${type}_Goal`, `${type}_Result`];
    const req = this.serialize ? (deserialize(reqType, serialize(reqType, request)) as object) : request;
    const res = await s.handler(req);
    return this.serialize ? (deserialize(resType, serialize(resType, res)) as object) : res;
  }

  /** @internal */
  addTimer(periodS: number, cb: () => void | Promise<void>): TimerHandle {
    if (!(periodS > 0) || !Number.isFinite(periodS)) {
      throw new RosError('ros.timer', `timer period must be a positive number of seconds, got ${periodS}`);
    }
    const periodNs = secondsToNs(periodS);
    const entry: TimerEntry = { id: this.#nextId++, periodNs, nextNs: this.clock.nowNs() + periodNs, cb, cancelled: false };
    if (this.#manual) {
      this.#timers.push(entry);
      return {
        periodS,
        cancel: () => {
          entry.cancelled = true;
          const i = this.#timers.indexOf(entry);
          if (i >= 0) this.#timers.splice(i, 1);
        },
      };
    }
    const handle = setInterval(() => void cb(), periodS * 1000);
    return { periodS, cancel: () => clearInterval(handle) };
  }

  /** Advance the manual clock by `dtS`, firing due timers. */
  advance(dtS: number): Promise<void> {
    return this.advanceTo(this.clock.nowNs() + secondsToNs(dtS));
  }

  /**
   * Advance the manual clock to `targetNs`, firing due timers in time order.
   * With `fireAtTarget: false`, timers due exactly at `targetNs` wait for the next
   * advance (so data stamped t reaches subscribers before a tick at t).
   */
  async advanceTo(targetNs: bigint, opts: { fireAtTarget?: boolean } = {}): Promise<void> {
    const inclusive = opts.fireAtTarget ?? true;
    const clock = this.#manual;
    if (!clock) {
      throw new RosError('ros.clock', 'advance() needs a manual clock: create the bus with { clock: "manual" }');
    }
    for (;;) {
      let next: TimerEntry | undefined;
      for (const t of this.#timers) {
        const due = inclusive ? t.nextNs <= targetNs : t.nextNs < targetNs;
        if (!t.cancelled && due && (next === undefined || t.nextNs < next.nextNs || (t.nextNs === next.nextNs && t.id < next.id))) {
          next = t;
        }
      }
      if (!next) break;
      clock.setNs(next.nextNs);
      next.nextNs += next.periodNs;
      await next.cb();
    }
    clock.setNs(targetNs);
  }

  /** Drop all topics, latched messages, servers and timers (e.g. between episodes). */
  reset(): void {
    for (const t of this.#timers) t.cancelled = true;
    this.#timers.length = 0;
    this.#services.clear();
    this.#actions.clear();
    this.#topics.clear();
  }
}

/** A node on an InProcessBus, implementing Transport. */
export class InProcessTransport implements Transport {
  readonly clock: RosClock;
  readonly #params: ParameterStore;
  readonly #owned: { close(): void }[] = [];
  #lifecycle: LifecycleMachine | undefined;
  #closed = false;

  /**
   * @param bus the shared graph (create one per test / simulation)
   * @param name node name, used in taps and errors
   * @param parameters overrides, as loaded from the node's YAML `ros__parameters`
   */
  constructor(
    readonly bus: InProcessBus,
    readonly name: string,
    parameters: Readonly<Record<string, ParameterValue>> = {},
  ) {
    this.clock = bus.clock;
    this.#params = new ParameterStore(parameters);
  }

  #check(): void {
    if (this.#closed) throw new RosError('ros.closed', `node '${this.name}' is closed: create a new transport`);
  }

  subscribe<K extends MessageTypeName>(topic: string, type: K, qos: QoS, cb: MessageCallback<K>): Subscription {
    this.#check();
    const sub = this.bus.addSubscription(topic, type, qos, cb as (m: object) => void);
    this.#owned.push({ close: () => sub.unsubscribe() });
    return sub;
  }

  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos: QoS): Publisher<MessageTypes[K]> {
    this.#check();
    return {
      topic,
      type,
      publish: (msg: MessageTypes[K]) => {
        this.#check();
        this.bus.publish(this.name, topic, type, qos, msg);
      },
    };
  }

  createService<K extends ServiceTypeName>(
    name: string,
    type: K,
    handler: (request: ServiceTypes[K]['request']) => ServiceTypes[K]['response'] | Promise<ServiceTypes[K]['response']>,
  ): ServiceHandle {
    this.#check();
    const h = this.bus.addService('service', name, type, handler as Handler);
    this.#owned.push(h);
    return h;
  }

  async call<K extends ServiceTypeName>(
    name: string,
    type: K,
    request: ServiceTypes[K]['request'],
    opts: { timeoutS?: number } = {},
  ): Promise<ServiceTypes[K]['response']> {
    this.#check();
    const p = this.bus.callService('service', name, type, request);
    return (await withTimeout(p, opts.timeoutS, `service '${name}'`)) as ServiceTypes[K]['response'];
  }

  createActionServer<K extends ActionTypeName>(
    name: string,
    type: K,
    handler: (goal: ActionTypes[K]['goal']) => ActionTypes[K]['result'] | Promise<ActionTypes[K]['result']>,
  ): ServiceHandle {
    this.#check();
    const h = this.bus.addService('action', name, type, handler as Handler);
    this.#owned.push(h);
    return h;
  }

  async sendGoal<K extends ActionTypeName>(
    name: string,
    type: K,
    goal: ActionTypes[K]['goal'],
    opts: { timeoutS?: number } = {},
  ): Promise<ActionTypes[K]['result']> {
    this.#check();
    const p = this.bus.callService('action', name, type, goal);
    return (await withTimeout(p, opts.timeoutS, `action '${name}'`)) as ActionTypes[K]['result'];
  }

  createTimer(periodS: number, cb: () => void | Promise<void>): TimerHandle {
    this.#check();
    const t = this.bus.addTimer(periodS, cb);
    this.#owned.push({ close: () => t.cancel() });
    return t;
  }

  declareParameter<V extends ParameterValue>(name: string, defaultValue: V, descriptor?: ParameterDescriptor): Widen<V> {
    return this.#params.declare(name, defaultValue, descriptor);
  }

  getParameter(name: string): ParameterValue {
    return this.#params.get(name);
  }

  /** Override keys that no declareParameter() asked for (typos in YAML). */
  undeclaredParameterOverrides(): string[] {
    return this.#params.undeclaredOverrides();
  }

  lifecycle(handlers: LifecycleHandlers): Lifecycle {
    if (this.#lifecycle) {
      throw new RosError('ros.lifecycle', `node '${this.name}' already has lifecycle handlers: register them once`);
    }
    this.#lifecycle = new LifecycleMachine(handlers);
    return this.#lifecycle;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const o of this.#owned.splice(0)) o.close();
    this.#closed = true;
  }
}
