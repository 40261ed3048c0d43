/**
 * The real ROS 2 transport over rclnodejs (optional dependency, loaded lazily).
 *
 * On a ROS 2 machine (Humble/Jazzy):
 *   source /opt/ros/jazzy/setup.bash && npm install rclnodejs@2.2.0
 * (rclnodejs generates its message bindings and types/interfaces.d.ts from the
 * sourced distribution at install time). Type names are plain strings here; they
 * are cast to rclnodejs's TypeClass at this boundary, and incoming messages are
 * mapped into ./messages/types.ts shapes with normalizeMessage.
 */
import type * as Rcl from 'rclnodejs';
import { RosError } from './errors.ts';
import { normalizeMessage } from './messages/index.ts';
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
  checkParameter,
  type Lifecycle,
  type LifecycleHandlers,
  type LifecycleState,
  type LifecycleTransition,
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

type RclModule = typeof Rcl;
type RclNode = Rcl.Node;
// Type-class parameter types, taken from rclnodejs's own signatures so this file
// type-checks whether or not interfaces.d.ts was generated.
type MsgTypeClass = Parameters<RclNode['createPublisher']>[0];
type SrvTypeClass = Parameters<RclNode['createClient']>[0];
type ActionTypeClass = ConstructorParameters<RclModule['ActionClient']>[1];
type RclQoSArgs = ConstructorParameters<RclModule['QoS']>;
type RclParameterType = ConstructorParameters<RclModule['Parameter']>[1];

export const RCLNODEJS_MISSING =
  'rclnodejs is not installed: source a ROS 2 distribution (Humble/Jazzy) and run `npm install rclnodejs`';

export interface LoadRclnodejsOptions {
  /** how to import the module (tests inject failures) */
  importer?: () => Promise<unknown>;
  /** environment to check for a sourced ROS 2 (default process.env) */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Import rclnodejs, or throw a RosError ('ros.rclnodejs_missing') that says how to
 * get it. Without a sourced ROS 2 (AMENT_PREFIX_PATH unset) the import is not
 * attempted: rclnodejs would try to rebuild its native addon instead.
 */
export async function loadRclnodejs(opts: LoadRclnodejsOptions = {}): Promise<RclModule> {
  const env = opts.env ?? process.env;
  if (!env.AMENT_PREFIX_PATH) {
    throw new RosError('ros.rclnodejs_missing', `${RCLNODEJS_MISSING} (no ROS 2 environment: AMENT_PREFIX_PATH is not set; e.g. \`source /opt/ros/jazzy/setup.bash\`)`);
  }
  let mod: unknown;
  try {
    mod = await (opts.importer ?? (() => import('rclnodejs')))();
  } catch (err) {
    throw new RosError('ros.rclnodejs_missing', `${RCLNODEJS_MISSING} (${(err as Error).message})`, { cause: err });
  }
  // The ESM build exports the API as `default`.
  const m = mod as { default?: RclModule } & Partial<RclModule>;
  const api = (m.default ?? m) as RclModule;
  if (typeof api.init !== 'function' || typeof api.Node !== 'function') {
    throw new RosError('ros.rclnodejs_missing', `${RCLNODEJS_MISSING} (the module that loaded has no init()/Node: wrong package or version; Armature needs rclnodejs 2.2)`);
  }
  return api;
}

export interface RclnodejsTransportOptions {
  /** node name */
  name: string;
  namespace?: string;
  /** create a managed (lifecycle) node with ROS lifecycle services */
  lifecycle?: boolean;
  /** passed to loadRclnodejs */
  load?: LoadRclnodejsOptions;
}

const NS = 1_000_000_000;

/** A ROS 2 node implementing Transport. Create with `await RclnodejsTransport.create(...)`. */
export class RclnodejsTransport implements Transport {
  readonly clock: RosClock;
  readonly #clients = new Map<string, { destroy?: () => void }>();
  #lifecycle: Lifecycle | undefined;
  #closed = false;

  private constructor(
    private readonly rcl: RclModule,
    readonly node: RclNode,
    readonly name: string,
    private readonly isLifecycle: boolean,
  ) {
    this.clock = {
      now: () => Number(node.now().nanoseconds) / NS,
      nowNs: () => node.now().nanoseconds,
    };
  }

  static async create(opts: RclnodejsTransportOptions): Promise<RclnodejsTransport> {
    const rcl = await loadRclnodejs(opts.load);
    await rcl.init();
    const ns = opts.namespace ?? '';
    const node: RclNode = opts.lifecycle
      ? new rcl.lifecycle.LifecycleNode(opts.name, ns)
      : new rcl.Node(opts.name, ns);
    node.spin();
    return new RclnodejsTransport(rcl, node, opts.name, opts.lifecycle ?? false);
  }

  #qos(qos: QoS): Rcl.QoS | string {
    if (qos.kind === 'sensor_data') return this.rcl.QoS.profileSensorData;
    // rmw enums: KEEP_LAST=1, RELIABLE=1, TRANSIENT_LOCAL=1, VOLATILE=2
    const depth = qos.depth ?? (qos.kind === 'reliable' ? 10 : 1);
    const durability = qos.kind === 'transient_local' ? 1 : 2;
    return new this.rcl.QoS(
      1 as NonNullable<RclQoSArgs[0]>,
      depth,
      1 as NonNullable<RclQoSArgs[2]>,
      durability as NonNullable<RclQoSArgs[3]>,
    );
  }

  subscribe<K extends MessageTypeName>(topic: string, type: K, qos: QoS, cb: MessageCallback<K>): Subscription {
    const sub = this.node.createSubscription(
      type as MsgTypeClass,
      topic,
      { qos: this.#qos(qos), enableTypedArray: true },
      (msg: unknown) => cb(normalizeMessage(type, msg)),
    );
    return { topic, unsubscribe: () => this.node.destroySubscription(sub) };
  }

  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos: QoS): Publisher<MessageTypes[K]> {
    const pub = this.node.createPublisher(type as MsgTypeClass, topic, { qos: this.#qos(qos) });
    type PublishArg = Parameters<typeof pub.publish>[0];
    // Our shapes are the ROS field layout; rclnodejs accepts typed arrays for numeric arrays.
    return { topic, type, publish: (msg: MessageTypes[K]) => pub.publish(msg as unknown as PublishArg) };
  }

  createService<K extends ServiceTypeName>(
    name: string,
    type: K,
    handler: (request: ServiceTypes[K]['request']) => ServiceTypes[K]['response'] | Promise<ServiceTypes[K]['response']>,
  ): ServiceHandle {
    const srv = this.node.createService(type as SrvTypeClass, name, (request: unknown, response: Rcl.ServiceResponse<SrvTypeClass>) => {
      const req = normalizeMessage(`${type}_Request`, request) as ServiceTypes[K]['request'];
      void Promise.resolve()
        .then(() => handler(req))
        .then((res) => response.send(res as unknown as Parameters<typeof response.send>[0]));
    });
    return { name, close: () => this.node.destroyService(srv as unknown as Parameters<RclNode["destroyService"]>[0]) };
  }

  async call<K extends ServiceTypeName>(
    name: string,
    type: K,
    request: ServiceTypes[K]['request'],
    opts: { timeoutS?: number } = {},
  ): Promise<ServiceTypes[K]['response']> {
    const key = `srv:${name}`;
    let client = this.#clients.get(key) as Rcl.Client<SrvTypeClass> | undefined;
    if (!client) {
      client = this.node.createClient(type as SrvTypeClass, name);
      this.#clients.set(key, client as unknown as { destroy?: () => void });
    }
    const timeoutMs = opts.timeoutS !== undefined ? opts.timeoutS * 1000 : undefined;
    if (!(await client.waitForService(timeoutMs ?? 5000))) {
      throw new RosError('ros.no_service', `service '${name}' is not available: start the node that provides it, or check the name`);
    }
    const res = await client.sendRequestAsync(
      request as unknown as Parameters<typeof client.sendRequestAsync>[0],
      timeoutMs !== undefined ? { timeout: timeoutMs } : {},
    );
    return normalizeMessage(`${type}_Response`, res) as ServiceTypes[K]['response'];
  }

  createActionServer<K extends ActionTypeName>(
    name: string,
    type: K,
    handler: (goal: ActionTypes[K]['goal']) => ActionTypes[K]['result'] | Promise<ActionTypes[K]['result']>,
  ): ServiceHandle {
    const server = new this.rcl.ActionServer(this.node, type as ActionTypeClass, name, async (goalHandle) => {
      const goal = normalizeMessage(`${type}_Goal`, goalHandle.request) as ActionTypes[K]['goal'];
      const result = await handler(goal);
      goalHandle.succeed();
      return result as unknown as Awaited<ReturnType<Rcl.ExecuteCallback<ActionTypeClass>>>;
    });
    return { name, close: () => server.destroy() };
  }

  async sendGoal<K extends ActionTypeName>(
    name: string,
    type: K,
    goal: ActionTypes[K]['goal'],
    opts: { timeoutS?: number } = {},
  ): Promise<ActionTypes[K]['result']> {
    const key = `action:${name}`;
    let client = this.#clients.get(key) as Rcl.ActionClient<ActionTypeClass> | undefined;
    if (!client) {
      client = new this.rcl.ActionClient(this.node, type as ActionTypeClass, name);
      this.#clients.set(key, client);
    }
    const timeoutMs = opts.timeoutS !== undefined ? opts.timeoutS * 1000 : 5000;
    if (!(await client.waitForServer(timeoutMs))) {
      throw new RosError('ros.no_service', `action server '${name}' is not available: start the controller that provides it, or check the name`);
    }
    const handle = await client.sendGoal(goal as unknown as Parameters<typeof client.sendGoal>[0]);
    if (!handle.isAccepted()) {
      throw new RosError('ros.goal_rejected', `action '${name}' rejected the goal ${JSON.stringify(goal)}`);
    }
    const result = await handle.getResult();
    return normalizeMessage(`${type}_Result`, result) as ActionTypes[K]['result'];
  }

  createTimer(periodS: number, cb: () => void | Promise<void>): TimerHandle {
    if (!(periodS > 0) || !Number.isFinite(periodS)) {
      throw new RosError('ros.timer', `timer period must be a positive number of seconds, got ${periodS}`);
    }
    const timer = this.node.createTimer(BigInt(Math.round(periodS * NS)), () => void cb());
    return { periodS, cancel: () => this.node.destroyTimer(timer) };
  }

  declareParameter<V extends ParameterValue>(name: string, defaultValue: V, descriptor: ParameterDescriptor = {}): Widen<V> {
    const integer = descriptor.integer ?? false;
    // rcl_interfaces ParameterType values (a const enum in the typings).
    const kind = parameterType(defaultValue, integer) as RclParameterType;
    const toRcl = (v: ParameterValue): unknown =>
      integer ? (Array.isArray(v) ? (v as number[]).map((x) => BigInt(x)) : BigInt(v as number)) : v;
    const param = new this.rcl.Parameter(name, kind, toRcl(defaultValue));
    let range: Rcl.Range | undefined;
    if (descriptor.range) {
      const r = descriptor.range;
      range = integer
        ? new this.rcl.IntegerRange(BigInt(r.from), BigInt(r.to), BigInt(r.step ?? 1))
        : new this.rcl.FloatingPointRange(r.from, r.to, r.step ?? 0);
    }
    const desc = new this.rcl.ParameterDescriptor(name, kind, descriptor.description ?? '', descriptor.readOnly ?? false, range);
    const declared = this.node.declareParameter(param, desc);
    const value = fromRclValue(declared.value) as Widen<V>;
    checkParameter(name, value, descriptor);
    return value;
  }

  getParameter(name: string): ParameterValue {
    if (!this.node.hasParameter(name)) {
      throw new RosError('ros.parameter', `parameter '${name}' is not declared: call declareParameter('${name}', ...) first`);
    }
    return fromRclValue(this.node.getParameter(name).value);
  }

  lifecycle(handlers: LifecycleHandlers): Lifecycle {
    if (this.#lifecycle) {
      throw new RosError('ros.lifecycle', `node '${this.name}' already has lifecycle handlers: register them once`);
    }
    if (!this.isLifecycle) {
      // Plain node: same state machine, driven from code (the node may expose it as services).
      this.#lifecycle = new LifecycleMachine(handlers);
      return this.#lifecycle;
    }
    const node = this.node as Rcl.lifecycle.LifecycleNode;
    type Code = ReturnType<Rcl.lifecycle.TransitionCallback>;
    // lifecycle_msgs Transition TRANSITION_CALLBACK_{SUCCESS,FAILURE,ERROR}
    const wrap = (h: (() => boolean | void) | undefined) => (): Code => {
      try {
        return (h?.() === false ? 98 : 97) as Code;
      } catch {
        return 99 as Code;
      }
    };
    node.registerOnConfigure(wrap(handlers.configure));
    node.registerOnActivate(wrap(handlers.activate));
    node.registerOnDeactivate(wrap(handlers.deactivate));
    node.registerOnCleanup(wrap(handlers.cleanup));
    node.registerOnShutdown(wrap(handlers.shutdown));
    node.registerOnError(wrap(handlers.error));
    const label = (): LifecycleState => {
      const l = node.currentState.asMessage().label;
      return (['unconfigured', 'inactive', 'active', 'finalized'].includes(l) ? l : 'unconfigured') as LifecycleState;
    };
    const run: Record<LifecycleTransition, () => unknown> = {
      configure: () => node.configure(),
      activate: () => node.activate(),
      deactivate: () => node.deactivate(),
      cleanup: () => node.cleanup(),
      shutdown: () => node.shutdown(),
    };
    this.#lifecycle = {
      get state() {
        return label();
      },
      trigger: (t: LifecycleTransition) => {
        try {
          run[t]();
        } catch (err) {
          throw new RosError('ros.lifecycle', `cannot ${t} from state '${label()}': ${(err as Error).message}`, { cause: err });
        }
        return label();
      },
    };
    return this.#lifecycle;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#clients.values()) c.destroy?.();
    this.#clients.clear();
    this.node.destroy();
    if (!this.rcl.isShutdown()) this.rcl.shutdown();
  }
}

/** rcl_interfaces/msg/ParameterType value for a JS value. */
export function parameterType(v: ParameterValue, integer: boolean): number {
  if (Array.isArray(v)) {
    const first: unknown = v[0];
    if (typeof first === 'boolean') return 6;
    if (typeof first === 'string') return 9;
    return integer ? 7 : 8;
  }
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'string') return 4;
  return integer ? 2 : 3;
}

function fromRclValue(v: unknown): ParameterValue {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    return Array.from(v as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? Number(x) : x)) as ParameterValue;
  }
  return v as ParameterValue;
}
