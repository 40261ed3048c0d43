/**
 * ROS 2 message definitions and CDR (de)serialization.
 *
 * Definitions are the official `.msg` text (./interfaces/, embedded in
 * definitions.ts); `messageDefinition` appends dependencies in the rosbag2/MCAP
 * `ros2msg` layout, which is also what the CDR codec is built from, so bags we
 * write decode with the same schema Foxglove and `ros2 bag` use.
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { RosError } from '../errors.ts';
import { INTERFACE_TEXT } from './definitions.ts';
import type { MessageTypeName, MessageTypes } from './types.ts';

export * from './types.ts';

/** The rosbag2 `ros2msg` separator line: exactly 80 '='. */
export const DEFINITION_SEPARATOR = '='.repeat(80);

/**
 * Own text of one message type (no dependencies). Service and action parts are
 * addressed as `pkg/srv/Name_Request`, `pkg/action/Name_Goal` etc., as in ROS 2.
 */
function ownText(type: string): string | undefined {
  const direct = INTERFACE_TEXT[type];
  if (direct !== undefined && type.includes('/msg/')) return direct;
  const m = /^([^/]+)\/(srv|action)\/([^/]+)_(Request|Response|Goal|Result|Feedback)$/.exec(type);
  if (!m) return undefined;
  const [, pkg, kind, name, part] = m;
  const text = INTERFACE_TEXT[`${pkg}/${kind}/${name}`];
  if (text === undefined) return undefined;
  // Sections are separated by lines that are exactly '---'.
  const sections = text.split(/^---[ \t]*$/m).map((s) => s.replace(/^\n/, ''));
  const index = kind === 'srv'
    ? { Request: 0, Response: 1 }[part as 'Request' | 'Response']
    : { Goal: 0, Result: 1, Feedback: 2 }[part as 'Goal' | 'Result' | 'Feedback'];
  if (index === undefined) return undefined;
  return sections[index] ?? '';
}

// rosbag2's LocalMessageDefinitionSource field-type pattern, ported verbatim so our
// dependency lists (and hence schema bytes) match what `ros2 bag record` writes.
const MSG_FIELD_TYPE = /(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+/g;
const ROSBAG2_PRIMITIVES = new Set([
  'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8',
  'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'string',
]);

/**
 * Complex field types of a .msg text, as rosbag2 names them: as written
 * (`std_msgs/Header`), or `pkg/Type` for same-package references; sorted, unique.
 */
export function fieldDependencies(text: string, ownPackage: string): string[] {
  const deps = new Set<string>();
  for (const m of text.matchAll(MSG_FIELD_TYPE)) {
    const type = m[1]!;
    if (ROSBAG2_PRIMITIVES.has(type)) continue;
    deps.add(type.includes('/') ? type : `${ownPackage}/${type}`);
  }
  // std::set<std::string> order: byte-wise ascending.
  return [...deps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `pkg/Type` or `pkg/msg/Type` -> `pkg/msg/Type`. */
function qualify(name: string): string {
  const parts = name.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : name;
}

/** True if Armature carries a definition for this type. */
export function hasMessageDefinition(type: string): boolean {
  return ownText(type) !== undefined;
}

/** All message types with definitions (including service/action parts we use). */
export function knownMessageTypes(): MessageTypeName[] {
  const names: string[] = [];
  for (const key of Object.keys(INTERFACE_TEXT)) {
    if (key.includes('/msg/')) names.push(key);
    else if (key.includes('/srv/')) names.push(`${key}_Request`, `${key}_Response`);
    else if (key.includes('/action/')) names.push(`${key}_Goal`, `${key}_Result`, `${key}_Feedback`);
  }
  return names.sort() as MessageTypeName[];
}

const definitionCache = new Map<string, string>();

/**
 * The complete `ros2msg` definition of `type`, byte-for-byte as rosbag2 writes it
 * into a bag's schema: the type's own .msg text, then each dependency not yet
 * written (depth-first, each level in sorted order) as
 * `\n` + 80 '=' + `\nMSG: pkg/Type\n` + its text. Dependencies are named as the
 * field references them (`std_msgs/Header`), which is also what
 * @foxglove/rosmsg needs to resolve them.
 */
export function messageDefinition(type: string): string {
  const cached = definitionCache.get(type);
  if (cached !== undefined) return cached;
  const root = ownText(type);
  if (root === undefined) {
    throw new RosError(
      'ros.unknown_type',
      `no message definition for '${type}': use one of ${knownMessageTypes().join(', ')}, or add its .msg file under src/ros/messages/interfaces/ and regenerate definitions.ts`,
    );
  }
  const seen = new Set<string>();
  const appendRecursive = (text: string, pkg: string): string => {
    let result = text;
    for (const dep of fieldDependencies(text, pkg)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      const depText = ownText(qualify(dep));
      if (depText === undefined) {
        throw new RosError('ros.unknown_type', `message '${type}' depends on '${dep}', which has no definition: add its .msg file under src/ros/messages/interfaces/`);
      }
      result += `\n${DEFINITION_SEPARATOR}\nMSG: ${dep}\n`;
      result += appendRecursive(depText, dep.split('/')[0]!);
    }
    return result;
  };
  const text = appendRecursive(root, type.split('/')[0]!);
  definitionCache.set(type, text);
  return text;
}

type Definitions = ReturnType<typeof parse>;
type Field = Definitions[number]['definitions'][number];

interface Codec {
  defs: Definitions;
  writer: MessageWriter;
  reader: MessageReader;
}
const codecs = new Map<string, Codec>();

function codec(type: string): Codec {
  let c = codecs.get(type);
  if (!c) {
    const defs = parse(messageDefinition(type), { ros2: true });
    c = { defs, writer: new MessageWriter(defs), reader: new MessageReader(defs) };
    codecs.set(type, c);
  }
  return c;
}

type NumericArrayCtor =
  | Float64ArrayConstructor | Float32ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;
const TYPED_ARRAYS: Record<string, NumericArrayCtor> = {
  float64: Float64Array, float32: Float32Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
};

function normalizeScalar(f: Field, v: unknown): unknown {
  switch (f.type) {
    case 'bool':
      return Boolean(v);
    case 'string':
      return typeof v === 'string' ? v : '';
    case 'time':
    case 'duration': {
      const t = (v ?? {}) as { sec?: unknown; nanosec?: unknown; nsec?: unknown };
      return { sec: Number(t.sec ?? 0), nanosec: Number(t.nanosec ?? t.nsec ?? 0) };
    }
    case 'int64':
    case 'uint64':
      return typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? Math.trunc(v) : 0);
    default:
      return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
  }
}

function normalizeFields(defs: Definitions, fields: readonly Field[], obj: unknown): Record<string, unknown> {
  const src = (obj ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.isConstant === true) continue;
    const v = src[f.name];
    if (f.isComplex === true) {
      const nested = defs.find((d) => d.name === f.type)?.definitions ?? [];
      if (f.isArray === true) {
        const arr = Array.isArray(v) ? v : [];
        out[f.name] = arr.map((e: unknown) => normalizeFields(defs, nested, e));
      } else {
        out[f.name] = normalizeFields(defs, nested, v);
      }
    } else if (f.isArray === true) {
      const ctor = TYPED_ARRAYS[f.type];
      const list = v === undefined || v === null ? [] : (v as ArrayLike<unknown>);
      if (ctor) {
        const len = f.arrayLength ?? list.length;
        const arr = new ctor(len);
        for (let i = 0; i < Math.min(len, list.length); i++) arr[i] = Number(list[i]);
        out[f.name] = arr;
      } else if (f.type === 'int64' || f.type === 'uint64') {
        const arr = f.type === 'int64' ? new BigInt64Array(list.length) : new BigUint64Array(list.length);
        for (let i = 0; i < list.length; i++) arr[i] = BigInt(list[i] as number | bigint);
        out[f.name] = arr;
      } else {
        out[f.name] = Array.from(list, (e) => normalizeScalar(f, e));
      }
    } else {
      out[f.name] = normalizeScalar(f, v);
    }
  }
  return out;
}

/**
 * Bring a message from another client library (rclnodejs plain objects: Buffers,
 * plain arrays, bigint integers, missing fields) into the shapes of ./types.ts:
 * typed arrays for numeric arrays, {sec, nanosec} times, defaults for missing
 * fields. Always returns a fresh object.
 */
export function normalizeMessage<K extends MessageTypeName>(type: K, msg: unknown): MessageTypes[K];
export function normalizeMessage(type: string, msg: unknown): unknown;
export function normalizeMessage(type: string, msg: unknown): unknown {
  const { defs } = codec(type);
  const root = defs.find((d) => d.name === undefined) ?? defs[0]!;
  return normalizeFields(defs, root.definitions, msg);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v;
}

function scalarProblem(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'a boolean';
    case 'string':
      return typeof v === 'string' ? undefined : 'a string';
    case 'time':
    case 'duration': {
      const t = v as { sec?: unknown; nanosec?: unknown } | null;
      return t !== null && typeof t === 'object' && typeof t.sec === 'number' && typeof t.nanosec === 'number'
        ? undefined
        : 'a {sec, nanosec} object';
    }
    case 'int64':
    case 'uint64':
      return typeof v === 'bigint' || typeof v === 'number' ? undefined : 'a bigint';
    default:
      return typeof v === 'number' ? undefined : 'a number';
  }
}

function validateFields(defs: Definitions, fields: readonly Field[], obj: unknown, path: string, problems: string[]): void {
  if (obj === null || typeof obj !== 'object') {
    problems.push(`${path || 'message'} must be an object, got ${describe(obj)}`);
    return;
  }
  const src = obj as Record<string, unknown>;
  for (const f of fields) {
    if (f.isConstant === true) continue;
    const p = path ? `${path}.${f.name}` : f.name;
    const v = src[f.name];
    if (v === undefined) {
      problems.push(`${p} is missing`);
      continue;
    }
    if (f.isArray === true) {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
        problems.push(`${p} must be an array, got ${describe(v)}`);
        continue;
      }
      const list = v as ArrayLike<unknown>;
      if (f.arrayLength !== undefined && list.length !== f.arrayLength) {
        problems.push(`${p} must have ${f.arrayLength} elements, got ${list.length}`);
      }
      if (ArrayBuffer.isView(v)) continue; // typed arrays hold numbers by construction
      for (let i = 0; i < list.length; i++) {
        if (f.isComplex === true) {
          validateFields(defs, defs.find((d) => d.name === f.type)?.definitions ?? [], list[i], `${p}[${i}]`, problems);
        } else {
          const why = scalarProblem(f.type, list[i]);
          if (why) problems.push(`${p}[${i}] must be ${why}, got ${describe(list[i])}`);
        }
        if (problems.length > 8) return;
      }
    } else if (f.isComplex === true) {
      validateFields(defs, defs.find((d) => d.name === f.type)?.definitions ?? [], v, p, problems);
    } else {
      const why = scalarProblem(f.type, v);
      if (why) problems.push(`${p} must be ${why}, got ${describe(v)}`);
    }
  }
}

/**
 * Check a message object against its definition (every field present, of the
 * right kind, fixed-size arrays of the right length). Throws a RosError listing
 * the problems. The CDR writer alone would silently write defaults.
 */
export function validateMessage(type: string, msg: unknown): void {
  const { defs } = codec(type);
  const root = defs.find((d) => d.name === undefined) ?? defs[0]!;
  const problems: string[] = [];
  validateFields(defs, root.definitions, msg, '', problems);
  if (problems.length > 0) {
    throw new RosError('ros.invalid_message', `invalid '${type}' message: ${problems.slice(0, 8).join('; ')}; see messageDefinition('${type}')`);
  }
}

/** CDR-encode a message (4-byte encapsulation header, little-endian); validates it first. */
export function serialize<K extends MessageTypeName>(type: K, msg: MessageTypes[K]): Uint8Array;
export function serialize(type: string, msg: object): Uint8Array;
export function serialize(type: string, msg: object): Uint8Array {
  validateMessage(type, msg);
  try {
    return codec(type).writer.writeMessage(msg);
  } catch (err) {
    if (err instanceof RosError) throw err;
    throw new RosError('ros.serialize', `cannot CDR-encode a '${type}' message: ${(err as Error).message}; check its fields against messageDefinition('${type}')`, { cause: err });
  }
}

/** Decode CDR bytes into a message. Primitive arrays come back as typed arrays. */
export function deserialize<K extends MessageTypeName>(type: K, bytes: Uint8Array): MessageTypes[K];
export function deserialize(type: string, bytes: Uint8Array): unknown;
export function deserialize(type: string, bytes: Uint8Array): unknown {
  try {
    return codec(type).reader.readMessage(bytes);
  } catch (err) {
    if (err instanceof RosError) throw err;
    throw new RosError('ros.deserialize', `cannot decode ${bytes.byteLength} CDR bytes as '${type}': ${(err as Error).message}; the bag or publisher may use a different message version`, { cause: err });
  }
}

/** ROS time from seconds (rounds to the nearest ns). */
export function timeFromSeconds(seconds: number): { sec: number; nanosec: number } {
  const totalNs = BigInt(Math.round(seconds * 1e9));
  return timeFromNanoseconds(totalNs);
}

/** ROS time from integer nanoseconds. */
export function timeFromNanoseconds(ns: bigint): { sec: number; nanosec: number } {
  let sec = ns / 1_000_000_000n;
  let nanosec = ns % 1_000_000_000n;
  if (nanosec < 0n) {
    nanosec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nanosec: Number(nanosec) };
}

/** Seconds from a ROS time/duration. */
export function secondsFromTime(t: { sec: number; nanosec: number }): number {
  return t.sec + t.nanosec * 1e-9;
}

/** Integer nanoseconds from a ROS time/duration. */
export function nanosecondsFromTime(t: { sec: number; nanosec: number }): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);
}
