/**
 * One ONNX graph of a model package: an onnxruntime-node session whose inputs and
 * outputs are checked against the manifest at load time, with input tensors
 * allocated once and reused every run.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ManifestError } from '../errors.ts';
import type { GraphSpec, TensorSpec } from './manifest.ts';

export type TensorData = Float32Array | BigInt64Array | Uint8Array;

/** onnxruntime element type names used by the manifest dtypes */
const ORT_TYPE: Record<TensorSpec['dtype'], ort.Tensor.Type> = { float32: 'float32', int64: 'int64', bool: 'bool', uint8: 'uint8' };

export interface GraphOptions {
  /** intra-op threads; default 1 (policies are small, and workers run in parallel) */
  intraOpThreads?: number;
}

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

/** Compare one declared tensor against the graph's metadata; returns a problem or null. */
function checkTensor(spec: TensorSpec, meta: ort.InferenceSession.ValueMetadata | undefined): string | null {
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

export class OnnxGraph {
  /** reusable input buffers, by input name (batch 1); fill them, then run() */
  readonly inputs: Record<string, TensorData>;
  private readonly feeds: Record<string, ort.Tensor>;
  /** the tensors over our own `inputs` buffers (feeds may point at borrowed bytes instead) */
  private readonly ownFeeds: Record<string, ort.Tensor>;
  /** borrowed byte arrays currently fed, by input name */
  private readonly borrowed = new Map<string, Uint8Array>();
  private readonly uint8Names: ReadonlySet<string>;
  /** run() calls so far (benchmarks replay the same graph calls as a bare baseline) */
  calls = 0;

  private constructor(
    readonly name: string,
    readonly spec: GraphSpec,
    readonly session: ort.InferenceSession,
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
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: opts.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (cause) {
      throw new ManifestError(`graph '${name}': onnxruntime cannot load ${file}: ${(cause as Error).message}`, { cause });
    }
    const problems: string[] = [];
    const byName = (list: readonly ort.InferenceSession.ValueMetadata[]) => new Map(list.map((m) => [m.name, m]));
    const ins = byName(session.inputMetadata);
    const outs = byName(session.outputMetadata);
    for (const t of spec.inputs) {
      const p = checkTensor(t, ins.get(t.name));
      if (p) problems.push(`input ${p}`);
    }
    for (const t of spec.outputs) {
      const p = checkTensor(t, outs.get(t.name));
      if (p) problems.push(`output ${p}`);
    }
    const declared = new Set(spec.inputs.map((t) => t.name));
    for (const n of session.inputNames) if (!declared.has(n)) problems.push(`graph input '${n}' is not declared in the manifest`);
    if (problems.length > 0) {
      await session.release();
      throw new ManifestError(
        `graph '${name}' (${file}) does not match its manifest entry:\n  ${problems.join('\n  ')}\n` +
          'fix manifest.json graphs.' + name + ' or re-export the model',
      );
    }
    return new OnnxGraph(name, spec, session);
  }

  /** Run with the current contents of `inputs`; returns output data by name. */
  async run(): Promise<Record<string, Float32Array>> {
    this.calls++;
    const result = await this.session.run(this.feeds);
    const out: Record<string, Float32Array> = {};
    for (const t of this.spec.outputs) {
      const tensor = result[t.name];
      if (!tensor) throw new ManifestError(`graph '${this.name}' returned no output '${t.name}'`);
      out[t.name] = tensor.data as Float32Array;
    }
    return out;
  }

  /**
   * Run and return one output's data: the sampler loops' call (no per-call record of outputs;
   * a plain promise, so callers can pass it on without another async layer).
   */
  output(name: string): Promise<Float32Array> {
    this.calls++;
    return this.session.run(this.feeds).then((result) => {
      const tensor = result[name];
      if (!tensor) throw new ManifestError(`graph '${this.name}' returned no output '${name}'`);
      return tensor.data as Float32Array;
    });
  }

  /** The bare onnxruntime call on the current inputs (the benchmark's baseline). */
  bareRun(): Promise<ort.InferenceSession.ReturnType> {
    return this.session.run(this.feeds);
  }

  /** Run with explicit feeds (any batch size): used by goldens and batched evaluation. */
  async runWith(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return this.session.run(feeds);
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
   * camera frame already in the graph's layout. The caller must not modify them until run() resolves.
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
    await this.session.release();
  }
}
