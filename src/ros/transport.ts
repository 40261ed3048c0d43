/**
 * The one interface everything ROS-facing in Armature uses. Three implementations:
 * InProcessTransport (tests, simulator without ROS), McapReplayTransport (offline on
 * a bag) and RclnodejsTransport (a real ROS 2 node). Messages are the plain objects
 * of ./messages/types.ts, keyed by ROS type name.
 */
import { RosError } from './errors.ts';
import type {
  ActionTypeName,
  ActionTypes,
  MessageTypeName,
  MessageTypes,
  ServiceTypeName,
  ServiceTypes,
} from './messages/types.ts';

/**
 * Quality of service, as the three profiles the node needs.
 * - sensor_data: best effort, keep last 5, volatile (cameras, joint states)
 * - reliable: reliable, keep last `depth` (default 10), volatile (commands, diagnostics)
 * - transient_local: reliable, keep last `depth` (default 1), late joiners get the
 *   last `depth` messages (latched state such as e-stop)
 */
export type QoS =
  | { readonly kind: 'sensor_data' }
  | { readonly kind: 'reliable'; readonly depth?: number }
  | { readonly kind: 'transient_local'; readonly depth?: number };

export const QOS = {
  sensorData: { kind: 'sensor_data' } as QoS,
  reliable: (depth = 10): QoS => ({ kind: 'reliable', depth }),
  transientLocal: (depth = 1): QoS => ({ kind: 'transient_local', depth }),
} as const;

/** History depth a QoS keeps. */
export function qosDepth(qos: QoS): number {
  if (qos.kind === 'sensor_data') return 5;
  return qos.depth ?? (qos.kind === 'reliable' ? 10 : 1);
}

export interface Subscription {
  readonly topic: string;
  unsubscribe(): void;
}

export interface Publisher<T> {
  readonly topic: string;
  readonly type: string;
  publish(msg: T): void;
}

export interface ServiceHandle {
  readonly name: string;
  close(): void;
}

export interface TimerHandle {
  /** s */
  readonly periodS: number;
  cancel(): void;
}

/** The node's clock (ROS time: sim time under a manual clock or a bag, else system time). */
export interface RosClock {
  /** s since the epoch of this clock */
  now(): number;
  /** integer ns since the epoch of this clock */
  nowNs(): bigint;
}

export type ParameterValue = boolean | number | string | boolean[] | number[] | string[];

/** Widen literal types: declareParameter('rate', 10) returns number, not 10. */
export type Widen<V extends ParameterValue> = V extends boolean
  ? boolean
  : V extends number
    ? number
    : V extends string
      ? string
      : V extends boolean[]
        ? boolean[]
        : V extends number[]
          ? number[]
          : string[];

export interface ParameterDescriptor {
  description?: string;
  readOnly?: boolean;
  /** declare as a ROS integer (PARAMETER_INTEGER[_ARRAY]) instead of double */
  integer?: boolean;
  /** inclusive numeric range */
  range?: { from: number; to: number; step?: number };
}

export type LifecycleState = 'unconfigured' | 'inactive' | 'active' | 'finalized';
export type LifecycleTransition = 'configure' | 'activate' | 'deactivate' | 'cleanup' | 'shutdown';

/**
 * Transition handlers. Synchronous, because rclnodejs runs them synchronously:
 * return false to refuse (state unchanged); throw for an error (the node goes to
 * 'unconfigured' after `error` runs). Do async work (model loading) before or
 * after the transition, not inside it.
 */
export type LifecycleHandlers = Partial<Record<LifecycleTransition | 'error', () => boolean | void>>;

export interface Lifecycle {
  readonly state: LifecycleState;
  /** run a transition from code (ROS tools can also trigger it on a real node) */
  trigger(transition: LifecycleTransition): LifecycleState;
}

export type MessageCallback<K extends MessageTypeName> = (msg: MessageTypes[K]) => void;

export interface Transport {
  /** node name */
  readonly name: string;
  readonly clock: RosClock;

  subscribe<K extends MessageTypeName>(topic: string, type: K, qos: QoS, cb: MessageCallback<K>): Subscription;
  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos: QoS): Publisher<MessageTypes[K]>;

  createService<K extends ServiceTypeName>(
    name: string,
    type: K,
    handler: (request: ServiceTypes[K]['request']) => ServiceTypes[K]['response'] | Promise<ServiceTypes[K]['response']>,
  ): ServiceHandle;
  call<K extends ServiceTypeName>(
    name: string,
    type: K,
    request: ServiceTypes[K]['request'],
    opts?: { timeoutS?: number },
  ): Promise<ServiceTypes[K]['response']>;

  /** Action server (e.g. the simulator's gripper); the handler resolves with the result. */
  createActionServer<K extends ActionTypeName>(
    name: string,
    type: K,
    handler: (goal: ActionTypes[K]['goal']) => ActionTypes[K]['result'] | Promise<ActionTypes[K]['result']>,
  ): ServiceHandle;
  /** Send a goal and wait for its result. */
  sendGoal<K extends ActionTypeName>(
    name: string,
    type: K,
    goal: ActionTypes[K]['goal'],
    opts?: { timeoutS?: number },
  ): Promise<ActionTypes[K]['result']>;

  /** Periodic callback on the node's clock; async callbacks are awaited by manual clocks. */
  createTimer(periodS: number, cb: () => void | Promise<void>): TimerHandle;

  /** Declare a parameter; returns the override (launch/YAML) if one was given, else the default. */
  declareParameter<V extends ParameterValue>(name: string, defaultValue: V, descriptor?: ParameterDescriptor): Widen<V>;
  getParameter(name: string): ParameterValue;

  /** Register lifecycle handlers (once); the node starts 'unconfigured'. */
  lifecycle(handlers: LifecycleHandlers): Lifecycle;

  close(): Promise<void>;
}

/** Same kind of value (bool / number / string / arrays of those) as `reference`. */
export function sameParameterKind(reference: ParameterValue, value: unknown): value is ParameterValue {
  const kind = (v: unknown): string =>
    Array.isArray(v) ? `${v.length === 0 ? 'any' : typeof v[0]}[]` : typeof v;
  const a = kind(reference);
  const b = kind(value);
  if (a === b) return true;
  return a.endsWith('[]') && b.endsWith('[]') && (a === 'any[]' || b === 'any[]');
}

/** Checks a parameter value against its descriptor; throws a RosError naming the fix. */
export function checkParameter(name: string, value: ParameterValue, descriptor: ParameterDescriptor | undefined): void {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'number') continue;
    if (descriptor?.integer && !Number.isInteger(v)) {
      throw new RosError('ros.parameter', `parameter '${name}' must be an integer, got ${v}: fix the launch/YAML value`);
    }
    const r = descriptor?.range;
    if (r && (v < r.from || v > r.to)) {
      throw new RosError('ros.parameter', `parameter '${name}' = ${v} is outside [${r.from}, ${r.to}]: fix the launch/YAML value`);
    }
  }
}

/**
 * Parameter store shared by the in-process and replay transports: overrides
 * (from YAML/launch) win over defaults, with kind and range checks.
 */
export class ParameterStore {
  readonly #values = new Map<string, ParameterValue>();
  constructor(private readonly overrides: Readonly<Record<string, ParameterValue>> = {}) {}

  declare<V extends ParameterValue>(name: string, defaultValue: V, descriptor?: ParameterDescriptor): Widen<V> {
    if (this.#values.has(name)) {
      throw new RosError('ros.parameter', `parameter '${name}' is declared twice: declare each parameter once`);
    }
    let value: ParameterValue = defaultValue;
    if (Object.prototype.hasOwnProperty.call(this.overrides, name)) {
      const o = this.overrides[name];
      if (!sameParameterKind(defaultValue, o)) {
        throw new RosError(
          'ros.parameter',
          `parameter '${name}' override ${JSON.stringify(o)} is not of the declared kind (default ${JSON.stringify(defaultValue)}): fix the launch/YAML value`,
        );
      }
      value = o as ParameterValue;
    }
    checkParameter(name, value, descriptor);
    this.#values.set(name, value);
    return value as Widen<V>;
  }

  get(name: string): ParameterValue {
    const v = this.#values.get(name);
    if (v === undefined) {
      throw new RosError('ros.parameter', `parameter '${name}' is not declared: call declareParameter('${name}', ...) first`);
    }
    return v;
  }

  /** Names of overrides nobody declared (typos in YAML). */
  undeclaredOverrides(): string[] {
    return Object.keys(this.overrides).filter((k) => !this.#values.has(k));
  }
}

const TRANSITIONS: Record<LifecycleTransition, { from: readonly LifecycleState[]; to: LifecycleState }> = {
  configure: { from: ['unconfigured'], to: 'inactive' },
  activate: { from: ['inactive'], to: 'active' },
  deactivate: { from: ['active'], to: 'inactive' },
  cleanup: { from: ['inactive'], to: 'unconfigured' },
  shutdown: { from: ['unconfigured', 'inactive', 'active'], to: 'finalized' },
};

/** The ROS 2 managed-node state machine (primary states only), for non-ROS transports. */
export class LifecycleMachine implements Lifecycle {
  #state: LifecycleState = 'unconfigured';
  constructor(private readonly handlers: LifecycleHandlers) {}

  get state(): LifecycleState {
    return this.#state;
  }

  trigger(transition: LifecycleTransition): LifecycleState {
    const t = TRANSITIONS[transition];
    if (!t.from.includes(this.#state)) {
      throw new RosError(
        'ros.lifecycle',
        `cannot ${transition} from state '${this.#state}': allowed from ${t.from.join(', ')}`,
      );
    }
    let ok: boolean | void;
    try {
      ok = this.handlers[transition]?.();
    } catch (err) {
      let recovered: boolean | void = true;
      try {
        recovered = this.handlers.error?.();
      } catch {
        recovered = false;
      }
      this.#state = recovered === false ? 'finalized' : 'unconfigured';
      throw new RosError('ros.lifecycle', `${transition} failed: ${(err as Error).message}; node is now '${this.#state}'`, { cause: err });
    }
    if (ok !== false) this.#state = t.to;
    return this.#state;
  }
}

/** Rejects after `timeoutS` with a RosError naming what timed out. */
export function withTimeout<T>(p: Promise<T>, timeoutS: number | undefined, what: string): Promise<T> {
  if (timeoutS === undefined || !Number.isFinite(timeoutS)) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new RosError('ros.timeout', `${what} did not answer within ${timeoutS} s: check that its server is running`)),
      timeoutS * 1000,
    );
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
