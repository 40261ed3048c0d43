/**
 * One ONNX graph of a model package: an onnxruntime-node session whose inputs and
 * outputs are checked against the manifest at load time, with input tensors
 * allocated once and reused every run. The session is onnxruntime's native one,
 * called synchronously (ort-session.ts), unless that cannot be used: then the
 * public API, with the reason in `fallbackReason`.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ManifestError } from '../errors.ts';
import type { GraphSpec, TensorSpec } from './manifest.ts';
import { NativeSession, type IoMetadata, type NativeSessionOptions } from './ort-session.ts';

export type TensorData = Float32Array | BigInt64Array | Uint8Array;

/** onnxruntime element type names used by the manifest dtypes */
const ORT_TYPE: Record<TensorSpec['dtype'], ort.Tensor.Type> = { float32: 'float32', int64: 'int64', bool: 'bool', uint8: 'uint8' };

/** Which onnxruntime API runs a graph: the native session called synchronously, or the public promise API. */
export type SessionKind = 'native' | 'public';

export interface GraphOptions {
  /** intra-op threads; default 1 (policies are small, and workers run in parallel) */
  intraOpThreads?: number;
  /** default 'native' (falls back to 'public', with a reason, where the native binding cannot be used) */
  session?: SessionKind;
}

type Outputs = Record<string, ort.OnnxValue>;

/** Concrete shape of a tensor spec with every symbolic dim bound to `batch`. */
export function concreteShape(spec: TensorSpec, batch = 1): number[] {
  return spec.shape.map((d) => (typeof d === 'number' ? d : batch));
}

function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function allocate(spec: TensorSpec, batch: number): TensorData {
  const n = shapeSize(concreteShape(spec, batch));
  if (spec.dtype === 'float32') return new Float32Array(n);
  if (spec.dtype === 'int64') return new BigInt64Array(n);
  return new Uint8Array(n);
}

function describeDims(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** The public API's metadata in the native session's form, so one check serves both. */
function publicMetadata(list: readonly ort.InferenceSession.ValueMetadata[]): IoMetadata[] {
  return list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false, type: 'non-tensor', shape: [] }));
}

/** Compare one declared tensor against the graph's metadata; returns a problem or null. */
function checkTensor(spec: TensorSpec, meta: IoMetadata | undefined): string | null {
  if (!meta) return `'${spec.name}' is missing from the graph`;
  if (!meta.isTensor) return `'${spec.name}' is not a tensor in the graph`;
  if (meta.type !== ORT_TYPE[spec.dtype]) return `'${spec.name}' is ${meta.type} in the graph, manifest says ${spec.dtype}`;
  const g = meta.shape;
  if (g.length !== spec.shape.length) {
    return `'${spec.name}' has rank ${g.length} ${describeDims(g)} in the graph, manifest says ${describeDims(spec.shape)}`;
  }
  for (let i = 0; i < g.length; i++) {
    const gd = g[i];
    const md = spec.shape[i];
    // a fixed dim must match exactly; a symbolic manifest dim must be symbolic in the graph too
    if (typeof md === 'number' && typeof gd === 'number' && gd !== md) {
      return `'${spec.name}' dim ${i} is ${gd} in the graph, manifest says ${md}`;
    }
    if (typeof md === 'number' && typeof gd !== 'number') {
      return `'${spec.name}' dim ${i} is symbolic ('${gd}') in the graph, manifest fixes it to ${md}`;
    }
    if (typeof md === 'string' && typeof gd === 'number' && gd !== 1) {
      return `'${spec.name}' dim ${i} is fixed to ${gd} in the graph, manifest says symbolic '${md}'`;
    }
  }
  return null;
}

/** The data of output `name` in `result`, or a ManifestError naming the graph. */
function pick(graph: string, result: Outputs, name: string): Float32Array {
  const tensor = result[name] as ort.Tensor | undefined;
  if (!tensor) throw new ManifestError(`graph '${graph}' returned no output '${name}'`);
  return tensor.data as Float32Array;
}

export class OnnxGraph {
  /** reusable input buffers, by input name (batch 1); fill them, then run() */
  readonly inputs: Record<string, TensorData>;
  private readonly feeds: Record<string, ort.Tensor>;
  /** the tensors over our own `inputs` buffers (feeds may point at borrowed bytes instead) */
  private readonly ownFeeds: Record<string, ort.Tensor>;
  /** borrowed byte arrays currently fed, by input name */
  private readonly borrowed = new Map<string, Uint8Array>();
  private readonly uint8Names: ReadonlySet<string>;
  /** graph runs so far, bare ones excepted (benchmarks replay the same calls as a baseline) */
  calls = 0;
  private released = false;

  private constructor(
    readonly name: string,
    readonly spec: GraphSpec,
    /** the native session every run uses; null on the public fallback */
    readonly native: NativeSession | null,
    /** the public-API session: the run path on the fallback, else loaded only for the benchmark's baseline */
    private publicSession: ort.InferenceSession | null,
    /** why the native session is not used (null when it is, or when 'public' was asked for) */
    readonly fallbackReason: string | null,
    private readonly file: string,
    private readonly sessionOptions: NativeSessionOptions,
  ) {
    this.inputs = {};
    this.feeds = {};
    this.ownFeeds = {};
    this.uint8Names = new Set(spec.inputs.filter((t) => t.dtype === 'uint8').map((t) => t.name));
    for (const t of spec.inputs) {
      const data = allocate(t, 1);
      this.inputs[t.name] = data;
      // the Tensor wraps the same buffer, so filling `inputs` updates the feed without copies
      this.feeds[t.name] = new ort.Tensor(ORT_TYPE[t.dtype], data, concreteShape(t, 1));
      this.ownFeeds[t.name] = this.feeds[t.name]!;
    }
  }

  /** Load `<dir>/<spec.file>` and check its I/O against the manifest (ManifestError on mismatch). */
  static async load(dir: string, name: string, spec: GraphSpec, opts: GraphOptions = {}): Promise<OnnxGraph> {
    const file = join(dir, spec.file);
    if (!existsSync(file)) throw new ManifestError(`graph '${name}': file ${file} does not exist; rebuild the model package`);
    const options: NativeSessionOptions = {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    };
    let native: NativeSession | null = null;
    let session: ort.InferenceSession | null = null;
    let fallbackReason: string | null = null;
    try {
      if ((opts.session ?? 'native') === 'native') {
        const n = NativeSession.load(file, options);
        if (n instanceof NativeSession) native = n;
        else fallbackReason = n.reason;
      }
      if (!native) session = await ort.InferenceSession.create(file, { ...options });
    } catch (cause) {
      throw new ManifestError(`graph '${name}': onnxruntime cannot load ${file}: ${(cause as Error).message}`, { cause });
    }
    const release = async () => {
      native?.dispose();
      await session?.release();
    };
    const problems: string[] = [];
    const inMeta = native ? native.inputMetadata : publicMetadata(session!.inputMetadata);
    const outMeta = native ? native.outputMetadata : publicMetadata(session!.outputMetadata);
    const ins = new Map(inMeta.map((m) => [m.name, m]));
    const outs = new Map(outMeta.map((m) => [m.name, m]));
    for (const t of spec.inputs) {
      const p = checkTensor(t, ins.get(t.name));
      if (p) problems.push(`input ${p}`);
    }
    for (const t of spec.outputs) {
      const p = checkTensor(t, outs.get(t.name));
      if (p) problems.push(`output ${p}`);
    }
    const declared = new Set(spec.inputs.map((t) => t.name));
    for (const n of ins.keys()) if (!declared.has(n)) problems.push(`graph input '${n}' is not declared in the manifest`);
    if (problems.length > 0) {
      await release();
      throw new ManifestError(
        `graph '${name}' (${file}) does not match its manifest entry:\n  ${problems.join('\n  ')}\n` +
          'fix manifest.json graphs.' + name + ' or re-export the model',
      );
    }
    return new OnnxGraph(name, spec, native, session, fallbackReason, file, options);
  }

  /** Which API runs this graph. */
  get sessionKind(): SessionKind {
    return this.native ? 'native' : 'public';
  }

  /** Run on the current feeds after a turn of the event loop, as the public API always does. */
  private runYielding(): Promise<Outputs> {
    const native = this.native;
    if (!native) return this.publicSession!.run(this.feeds);
    const feeds = this.feeds;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(native.run(feeds));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  private collect(result: Outputs): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const t of this.spec.outputs) out[t.name] = pick(this.name, result, t.name);
    return out;
  }

  /**
   * Run with the current contents of `inputs`; returns output data by name. The call waits for a
   * turn of the event loop first, so timers and I/O run between the graph calls of a background
   * inference; runInline() is the foreground form.
   */
  async run(): Promise<Record<string, Float32Array>> {
    this.calls++;
    return this.collect(await this.runYielding());
  }

  /**
   * run(), but on the native session the outputs come back now (a plain value, no event-loop
   * turn): for a caller that waits for the result anyway. A promise on the public fallback.
   */
  runInline(): Record<string, Float32Array> | Promise<Record<string, Float32Array>> {
    if (!this.native) return this.run();
    this.calls++;
    return this.collect(this.native.run(this.feeds));
  }

  /**
   * Run and return one output's data after a turn of the event loop (see run()): the sampler loops'
   * call in background inference (a plain promise, so callers pass it on without another async layer).
   */
  output(name: string): Promise<Float32Array> {
    this.calls++;
    return this.runYielding().then((result) => pick(this.name, result, name));
  }

  /** output(), but now on the native session (see runInline()); a promise on the public fallback. */
  outputInline(name: string): Float32Array | Promise<Float32Array> {
    if (!this.native) return this.output(name);
    this.calls++;
    return pick(this.name, this.native.run(this.feeds), name);
  }

  /** Load a public-API session beside the native one, for bareRun() (the benchmark's baseline). */
  async loadPublicSession(): Promise<void> {
    this.publicSession ??= await ort.InferenceSession.create(this.file, { ...this.sessionOptions });
  }

  /** The bare public-API session.run on the current inputs (the benchmark's baseline); loadPublicSession() first. */
  bareRun(): Promise<ort.InferenceSession.ReturnType> {
    if (!this.publicSession) throw new ManifestError(`graph '${this.name}': bareRun() needs the public session; await loadPublicSession() first`);
    return this.publicSession.run(this.feeds);
  }

  /** The bare native call on the current inputs (the stricter baseline); only with sessionKind 'native'. */
  bareNativeRun(): Outputs {
    if (!this.native) throw new ManifestError(`graph '${this.name}' runs on the public API (${this.fallbackReason ?? 'asked for'}); there is no native session to run`);
    return this.native.run(this.feeds);
  }

  /** Run with explicit feeds (any batch size): used by goldens and batched evaluation. */
  async runWith(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    if (!this.native) return (await this.publicSession!.run(feeds)) as Record<string, ort.Tensor>;
    // the checks and Tensor wrapping the public API does (off the hot path)
    for (const n of this.native.inputNames) if (!(n in feeds)) throw new ManifestError(`graph '${this.name}': feeds lack input '${n}'`);
    const out: Record<string, ort.Tensor> = {};
    for (const [n, v] of Object.entries(this.native.run(feeds))) {
      const t = v as ort.Tensor;
      out[n] = t instanceof ort.Tensor ? t : new ort.Tensor(t.type, t.data, t.dims);
    }
    return out;
  }

  /**
   * The input buffer for `name`, typed as uint8 (throws if the manifest does not declare it uint8,
   * e.g. camera pixels); the next run reads it (ending any borrowUint8 of this input).
   */
  uint8Input(name: string): Uint8Array {
    const d = this.inputs[name];
    // bool inputs are Uint8Array too: check the declared dtype
    if (!(d instanceof Uint8Array) || !this.uint8Names.has(name)) throw new ManifestError(`graph '${this.name}' has no uint8 input '${name}'`);
    if (this.borrowed.delete(name)) this.feeds[name] = this.ownFeeds[name]!;
    return d;
  }

  /**
   * Feed `bytes` (exactly the input's size) to uint8 input `name` without copying them, e.g. a
   * camera frame already in the graph's layout. The caller must not modify them until the run returns.
   */
  borrowUint8(name: string, bytes: Uint8Array): void {
    const own = this.uint8Input(name);
    if (bytes.length !== own.length) {
      throw new ManifestError(`graph '${this.name}' input '${name}' takes ${own.length} bytes, got ${bytes.length}`);
    }
    this.borrowed.set(name, bytes);
    this.feeds[name] = new ort.Tensor('uint8', bytes, this.ownFeeds[name]!.dims);
  }

  /** The input buffer for `name`, typed as float32 (throws if it is not float32). */
  floatInput(name: string): Float32Array {
    const d = this.inputs[name];
    if (!(d instanceof Float32Array)) throw new ManifestError(`graph '${this.name}' has no float32 input '${name}'`);
    return d;
  }

  hasInput(name: string): boolean {
    return name in this.inputs;
  }

  async release(): Promise<void> {
    // the native session must not be disposed twice
    if (this.released) return;
    this.released = true;
    this.native?.dispose();
    await this.publicSession?.release();
  }
}
