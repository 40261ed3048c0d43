/**
 * MCAP record/replay in the rosbag2 `ros2` profile: schemas are `ros2msg` text
 * (messageDefinition), messages are CDR, channels carry `offered_qos_profiles`.
 * Bags written here open in Foxglove and `ros2 bag`; bags from `ros2 bag record -s
 * mcap` replay through McapReplayTransport.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { McapIndexedReader, McapStreamReader, McapWriter, type IWritable } from '@mcap/core';
import type { McapTypes } from '@mcap/core';
import { RosError } from './errors.ts';
import { InProcessBus, InProcessTransport, type PublishEvent } from './inprocess.ts';
import { hasMessageDefinition, messageDefinition, serialize } from './messages/index.ts';
import type { MessageTypeName } from './messages/types.ts';
import { qosDepth, type ParameterValue, type QoS, type Transport } from './transport.ts';

const encoder = new TextEncoder();

/**
 * rosbag2's YAML for one offered QoS profile (integer policy values, as Humble
 * writes them; later distros read this form too). Infinite durations are
 * rmw's RMW_DURATION_INFINITE split into sec/nsec.
 */
export function offeredQosProfilesYaml(qos: QoS): string {
  // rmw enums: history KEEP_LAST=1; reliability RELIABLE=1 BEST_EFFORT=2;
  // durability TRANSIENT_LOCAL=1 VOLATILE=2; liveliness AUTOMATIC=1.
  const reliability = qos.kind === 'sensor_data' ? 2 : 1;
  const durability = qos.kind === 'transient_local' ? 1 : 2;
  const inf = '\n    sec: 9223372036\n    nsec: 854775807';
  return (
    `- history: 1\n  depth: ${qosDepth(qos)}\n  reliability: ${reliability}\n  durability: ${durability}\n` +
    `  deadline:${inf}\n  lifespan:${inf}\n  liveliness: 1\n  liveliness_lease_duration:${inf}\n` +
    `  avoid_ros_namespace_conventions: false`
  );
}

/** IWritable over a Node file handle (sequential writes). */
class FileWritable implements IWritable {
  #pos = 0n;
  constructor(private readonly fh: FileHandle) {}
  async write(buffer: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buffer.byteLength) {
      const { bytesWritten } = await this.fh.write(buffer, off, buffer.byteLength - off);
      off += bytesWritten;
    }
    this.#pos += BigInt(buffer.byteLength);
  }
  position(): bigint {
    return this.#pos;
  }
}

export interface McapRecorderOptions {
  /** output .mcap path (overwritten) */
  path: string;
  /** `library` field of the MCAP header */
  library?: string;
}

/**
 * Records messages into an MCAP file. `write()` is synchronous (it queues);
 * McapWriter calls run one after another in call order. Always `close()`.
 */
export class McapRecorder {
  readonly path: string;
  #writer: McapWriter | undefined;
  #fh: FileHandle | undefined;
  #queue: Promise<void> = Promise.resolve();
  #error: unknown;
  readonly #schemas = new Map<string, Promise<number>>();
  readonly #channels = new Map<string, { type: string; id: Promise<number> }>();
  readonly #sequence = new Map<string, number>();
  #count = 0;
  #closed = false;
  readonly #detach: (() => void)[] = [];

  private constructor(path: string) {
    this.path = path;
  }

  static async create(opts: McapRecorderOptions): Promise<McapRecorder> {
    const r = new McapRecorder(opts.path);
    r.#fh = await open(opts.path, 'w');
    r.#writer = new McapWriter({ writable: new FileWritable(r.#fh) });
    await r.#writer.start({ profile: 'ros2', library: opts.library ?? 'armature' });
    return r;
  }

  /** messages recorded so far */
  get messageCount(): number {
    return this.#count;
  }

  #enqueue<T>(fn: (w: McapWriter) => Promise<T>): Promise<T> {
    const w = this.#writer!;
    const p = this.#queue.then(() => fn(w));
    this.#queue = p.then(
      () => undefined,
      (err: unknown) => {
        this.#error ??= err;
      },
    );
    return p;
  }

  #channel(topic: string, type: MessageTypeName, qos: QoS): Promise<number> {
    const existing = this.#channels.get(topic);
    if (existing) {
      if (existing.type !== type) {
        throw new RosError('ros.type_mismatch', `recording topic '${topic}' as '${type}', but it was first recorded as '${existing.type}'`);
      }
      return existing.id;
    }
    let schemaId = this.#schemas.get(type);
    if (!schemaId) {
      const data = encoder.encode(messageDefinition(type));
      schemaId = this.#enqueue((w) => w.registerSchema({ name: type, encoding: 'ros2msg', data }));
      this.#schemas.set(type, schemaId);
    }
    const sid = schemaId;
    const id = this.#enqueue(async (w) =>
      w.registerChannel({
        topic,
        schemaId: await sid,
        messageEncoding: 'cdr',
        metadata: new Map([['offered_qos_profiles', offeredQosProfilesYaml(qos)]]),
      }),
    );
    this.#channels.set(topic, { type, id });
    return id;
  }

  /**
   * Queue one message. `msg` is CDR bytes or a message object (serialized here).
   * @param logTimeNs ROS time of the message, ns (log and publish time)
   */
  write(topic: string, type: MessageTypeName, msg: Uint8Array | object, logTimeNs: bigint, qos: QoS = { kind: 'reliable' }): void {
    if (this.#closed) throw new RosError('ros.closed', `recorder for '${this.path}' is closed`);
    const data = msg instanceof Uint8Array ? msg : serialize(type, msg);
    const channelId = this.#channel(topic, type, qos);
    const sequence = (this.#sequence.get(topic) ?? 0) + 1;
    this.#sequence.set(topic, sequence);
    this.#count++;
    void this.#enqueue(async (w) =>
      w.addMessage({ channelId: await channelId, sequence, logTime: logTimeNs, publishTime: logTimeNs, data }),
    );
  }

  /**
   * Record everything published on `bus` (optionally only some topics / nodes),
   * stamped with the bus clock.
   */
  recordBus(bus: InProcessBus, filter: { topics?: readonly string[]; nodes?: readonly string[] } = {}): void {
    const off = bus.tap((e: PublishEvent) => {
      if (filter.topics && !filter.topics.includes(e.topic)) return;
      if (filter.nodes && !filter.nodes.includes(e.node)) return;
      this.write(e.topic, e.type, e.bytes ?? e.message, e.timeNs, e.qos);
    });
    this.#detach.push(off);
  }

  /** Record chosen topics by subscribing through any transport (stamped with its clock). */
  recordTopics(transport: Transport, topics: readonly { topic: string; type: MessageTypeName; qos?: QoS }[]): void {
    for (const t of topics) {
      const qos = t.qos ?? { kind: 'reliable' };
      const sub = transport.subscribe(t.topic, t.type, qos, (msg) => this.write(t.topic, t.type, msg, transport.clock.nowNs(), qos));
      this.#detach.push(() => sub.unsubscribe());
    }
  }

  /** Wait until every queued write reached the file. */
  async flush(): Promise<void> {
    await this.#queue;
    if (this.#error !== undefined) {
      throw new RosError('ros.mcap', `writing '${this.path}' failed: ${(this.#error as Error).message}`, { cause: this.#error });
    }
  }

  /** Stop recording, write the summary and close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.#detach.splice(0)) d();
    try {
      await this.flush();
      await this.#writer!.end();
    } finally {
      await this.#fh!.close();
    }
  }
}

/** One decoded-channel message from a bag, in log-time order. */
export interface BagMessage {
  readonly topic: string;
  /** schema name, e.g. sensor_msgs/msg/JointState */
  readonly type: string;
  readonly logTimeNs: bigint;
  readonly data: Uint8Array;
  readonly qos: QoS;
}

export interface BagContents {
  readonly profile: string;
  readonly messages: BagMessage[];
  /** topic -> { type, schema encoding, message encoding, metadata } */
  readonly channels: Map<string, { type: string; schemaEncoding: string; messageEncoding: string; metadata: Map<string, string> }>;
}

/** Parse an offered_qos_profiles YAML back into our QoS (first profile). */
export function qosFromOfferedProfiles(yaml: string | undefined): QoS {
  if (!yaml) return { kind: 'reliable' };
  const num = (key: string): number | undefined => {
    const m = new RegExp(`^\\s*-?\\s*${key}:\\s*(\\w+)`, 'm').exec(yaml);
    if (!m) return undefined;
    const v = m[1]!;
    const named: Record<string, number> = { best_effort: 2, reliable: 1, transient_local: 1, volatile: 2 };
    return /^\d+$/.test(v) ? Number(v) : named[v];
  };
  const depth = num('depth');
  if (num('reliability') === 2) return { kind: 'sensor_data' };
  if (num('durability') === 1) return { kind: 'transient_local', ...(depth ? { depth } : {}) };
  return { kind: 'reliable', ...(depth ? { depth } : {}) };
}

function toReadable(fh: FileHandle, size: bigint): McapTypes.IReadable {
  return {
    size: async () => size,
    read: async (offset: bigint, length: bigint) => {
      const buf = new Uint8Array(Number(length));
      let got = 0;
      while (got < buf.byteLength) {
        const { bytesRead } = await fh.read(buf, got, buf.byteLength - got, Number(offset) + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf;
    },
  };
}

/**
 * Read every message of a bag in log-time order (indexed read; unindexed or
 * truncated bags fall back to a streaming read of the whole file).
 */
export async function readBag(path: string, opts: { topics?: readonly string[] } = {}): Promise<BagContents> {
  const channels: BagContents['channels'] = new Map();
  const messages: BagMessage[] = [];
  const byId = new Map<number, { topic: string; type: string; qos: QoS }>();
  const addChannel = (ch: McapTypes.Channel, schema: McapTypes.Schema | undefined): void => {
    const type = schema?.name ?? '';
    channels.set(ch.topic, {
      type,
      schemaEncoding: schema?.encoding ?? '',
      messageEncoding: ch.messageEncoding,
      metadata: ch.metadata,
    });
    byId.set(ch.id, { topic: ch.topic, type, qos: qosFromOfferedProfiles(ch.metadata.get('offered_qos_profiles')) });
  };
  const want = (topic: string): boolean => !opts.topics || opts.topics.includes(topic);

  let profile = '';
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw new RosError('ros.mcap', `cannot open bag '${path}': ${(err as Error).message}`, { cause: err });
  });
  try {
    const size = BigInt((await fh.stat()).size);
    let indexed: McapIndexedReader | undefined;
    try {
      indexed = await McapIndexedReader.Initialize({ readable: toReadable(fh, size) });
    } catch {
      indexed = undefined;
    }
    if (indexed && indexed.chunkIndexes.length > 0) {
      profile = indexed.header.profile;
      for (const ch of indexed.channelsById.values()) addChannel(ch, indexed.schemasById.get(ch.schemaId));
      const topics = opts.topics ? [...opts.topics] : undefined;
      for await (const m of indexed.readMessages(topics ? { topics } : {})) {
        const c = byId.get(m.channelId)!;
        messages.push({ topic: c.topic, type: c.type, logTimeNs: m.logTime, data: m.data, qos: c.qos });
      }
      return { profile, messages, channels };
    }
  } finally {
    await fh.close();
  }

  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(await readFile(path));
  const schemas = new Map<number, McapTypes.Schema>();
  for (let rec = reader.nextRecord(); rec; rec = reader.nextRecord()) {
    if (rec.type === 'Header') profile = rec.profile;
    else if (rec.type === 'Schema') schemas.set(rec.id, rec);
    else if (rec.type === 'Channel') addChannel(rec, schemas.get(rec.schemaId));
    else if (rec.type === 'Message') {
      const c = byId.get(rec.channelId);
      if (c && want(c.topic)) messages.push({ topic: c.topic, type: c.type, logTimeNs: rec.logTime, data: rec.data, qos: c.qos });
    }
  }
  // Stable sort keeps file order for equal log times.
  messages.sort((a, b) => (a.logTimeNs < b.logTimeNs ? -1 : a.logTimeNs > b.logTimeNs ? 1 : 0));
  return { profile, messages, channels };
}

export interface McapReplayOptions {
  /** input bag */
  input: string;
  /** output bag for everything this node publishes (optional) */
  output?: string;
  /** node name */
  name?: string;
  /** parameter overrides (YAML ros__parameters) */
  parameters?: Readonly<Record<string, ParameterValue>>;
  /** replay only these topics */
  topics?: readonly string[];
  /** round-trip node publishes through CDR in-process too */
  serialize?: boolean;
}

export interface ReplayStats {
  /** bag messages delivered */
  messages: number;
  /** bag time covered, s */
  durationS: number;
  /** wall time spent, s */
  wallS: number;
}

/**
 * A Transport that feeds a node from a bag. Its clock is the bag's log time
 * (it starts at the first message); timers fire on bag time between messages,
 * and a tick due at time t runs after every message logged at t.
 * Everything the node publishes is recorded to `output` with the bag time.
 * Bag topics whose type has no definition here are skipped.
 */
export class McapReplayTransport extends InProcessTransport {
  readonly bag: BagContents;
  readonly recorder: McapRecorder | undefined;
  #ran = false;

  private constructor(bus: InProcessBus, name: string, parameters: Readonly<Record<string, ParameterValue>>, bag: BagContents, recorder: McapRecorder | undefined) {
    super(bus, name, parameters);
    this.bag = bag;
    this.recorder = recorder;
  }

  static async open(opts: McapReplayOptions): Promise<McapReplayTransport> {
    const bag = await readBag(opts.input, opts.topics ? { topics: opts.topics } : {});
    for (const [topic, ch] of bag.channels) {
      if (ch.messageEncoding !== 'cdr' && (!opts.topics || opts.topics.includes(topic))) {
        throw new RosError('ros.mcap', `bag '${opts.input}' topic '${topic}' is '${ch.messageEncoding}', not cdr: record it with ros2 bag (ros2 profile)`);
      }
    }
    const first = bag.messages[0]?.logTimeNs ?? 0n;
    const bus = new InProcessBus({ clock: 'manual', serialize: opts.serialize ?? false });
    await bus.advanceTo(first);
    const name = opts.name ?? 'armature';
    const recorder = opts.output ? await McapRecorder.create({ path: opts.output }) : undefined;
    recorder?.recordBus(bus, { nodes: [name] });
    return new McapReplayTransport(bus, name, opts.parameters ?? {}, bag, recorder);
  }

  /**
   * Deliver the bag's messages in log-time order, firing timers on bag time.
   * @param rate 1 = real time, 2 = twice as fast, 'max' (default) = no waiting
   */
  async run(opts: { rate?: number | 'max' } = {}): Promise<ReplayStats> {
    if (this.#ran) throw new RosError('ros.mcap', 'run() was already called: open the bag again to replay it twice');
    this.#ran = true;
    const rate = opts.rate ?? 'max';
    if (rate !== 'max' && !(rate > 0)) throw new RosError('ros.mcap', `replay rate must be > 0 or 'max', got ${rate}`);
    const t0 = performance.now();
    const start = this.bag.messages[0]?.logTimeNs ?? 0n;
    let delivered = 0;
    for (const m of this.bag.messages) {
      if (!hasMessageDefinition(m.type)) continue;
      if (rate !== 'max') {
        const dueMs = Number(m.logTimeNs - start) / 1e6 / rate;
        const waitMs = dueMs - (performance.now() - t0);
        if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
      }
      await this.bus.advanceTo(m.logTimeNs, { fireAtTarget: false });
      this.bus.publish('<bag>', m.topic, m.type as MessageTypeName, m.qos, {}, m.data);
      delivered++;
    }
    const last = this.bag.messages.at(-1)?.logTimeNs ?? start;
    // Ticks due at the last message's time run after it.
    await this.bus.advanceTo(last);
    return { messages: delivered, durationS: Number(last - start) / 1e9, wallS: (performance.now() - t0) / 1000 };
  }

  override async close(): Promise<void> {
    await super.close();
    await this.recorder?.close();
  }
}
