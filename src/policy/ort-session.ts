/**
 * onnxruntime-node's native session, called synchronously. The public
 * `InferenceSession.run` wraps the same native call in a promise resolved after a
 * `setImmediate` turn, re-validates the feeds and re-wraps every output, on every
 * call; a diffusion or flow step makes one such call per model evaluation. The
 * native binding is an internal module of the package (dist/binding.js), so it is
 * loaded defensively: when it is missing or not shaped as expected, callers get a
 * one-line reason and use the public API instead.
 */
import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';

/** Input/output metadata in the public API's form (symbolic dims as their names). */
export interface IoMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  /** element type name ('float32', ...), or `type <id>` for one the public API does not know */
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** Session options we pass both ways: a plain object, so the binding sees what the public API gives it. */
export interface NativeSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: 'all';
  executionMode: 'sequential';
}

type Feeds = Record<string, ort.Tensor>;
type Fetches = Record<string, null>;

/** The part of binding.d.ts `Binding.InferenceSession` we call. */
interface RawSession {
  loadModel(path: string, options: object): void;
  readonly inputMetadata: unknown;
  readonly outputMetadata: unknown;
  run(feeds: Feeds, fetches: Fetches, options: object): Record<string, ort.OnnxValue>;
  dispose(): void;
}

interface BindingModule {
  binding: { InferenceSession: new () => RawSession };
  initOrt: () => void;
}

/** onnxruntime's element type ids (ONNXTensorElementDataType), as onnxruntime-node's backend.js names them */
const TYPE_NAMES: readonly (string | undefined)[] = [
  undefined, 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64', 'uint32', 'uint64',
];

let loaded: { binding: BindingModule } | { reason: string } | undefined;

/** The native binding module, initialised, or why it cannot be used (cached after the first call). */
function bindingModule(): { binding: BindingModule } | { reason: string } {
  if (loaded) return loaded;
  try {
    // package.json of onnxruntime-node has no `exports` map, so the subpath resolves; the module is the
    // one backend.js requires (same require cache), so initOrt runs once for both paths
    const mod = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as Partial<BindingModule> | null;
    if (typeof mod?.initOrt !== 'function' || typeof mod.binding?.InferenceSession !== 'function') {
      loaded = { reason: 'onnxruntime-node/dist/binding.js does not export binding.InferenceSession and initOrt' };
    } else {
      mod.initOrt();
      loaded = { binding: mod as BindingModule };
    }
  } catch (e) {
    loaded = { reason: `onnxruntime-node/dist/binding.js cannot be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
  return loaded;
}

/** Convert the binding's raw metadata list, or return null when it is not the shape binding.d.ts describes. */
function convertMetadata(raw: unknown): IoMetadata[] | null {
  if (!Array.isArray(raw)) return null;
  const out: IoMetadata[] = [];
  for (const m of raw as unknown[]) {
    const r = m as { name?: unknown; isTensor?: unknown; type?: unknown; shape?: unknown; symbolicDimensions?: unknown };
    if (typeof r.name !== 'string' || typeof r.isTensor !== 'boolean') return null;
    if (!r.isTensor) {
      out.push({ name: r.name, isTensor: false, type: 'non-tensor', shape: [] });
      continue;
    }
    if (typeof r.type !== 'number' || !Array.isArray(r.shape) || !Array.isArray(r.symbolicDimensions)) return null;
    const sym = r.symbolicDimensions as unknown[];
    const shape: (number | string)[] = [];
    for (const [i, d] of (r.shape as unknown[]).entries()) {
      if (d === -1 && typeof sym[i] === 'string') shape.push(sym[i]);
      else if (typeof d === 'number' && d >= 0) shape.push(d);
      else return null;
    }
    out.push({ name: r.name, isTensor: true, type: TYPE_NAMES[r.type] ?? `type ${r.type}`, shape });
  }
  return out;
}

/** A native session: `run` returns the outputs now, on this turn of the event loop. */
export class NativeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** every graph output, as the public API fetches them (so both paths do the same work) */
  private readonly fetches: Fetches;

  private constructor(
    private readonly raw: RawSession,
    readonly inputMetadata: readonly IoMetadata[],
    readonly outputMetadata: readonly IoMetadata[],
  ) {
    this.inputNames = inputMetadata.map((m) => m.name);
    this.outputNames = outputMetadata.map((m) => m.name);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }

  /**
   * Load `file` natively, or return `{ reason }` (one line) when that fails: the caller then loads
   * the public API, which reports a broken model in its own words or works where the binding did not.
   */
  static load(file: string, options: NativeSessionOptions): NativeSession | { reason: string } {
    const b = bindingModule();
    if ('reason' in b) return b;
    let raw: RawSession;
    try {
      raw = new b.binding.binding.InferenceSession();
      if (typeof raw.loadModel !== 'function' || typeof raw.run !== 'function' || typeof raw.dispose !== 'function') {
        return { reason: 'the native InferenceSession lacks loadModel/run/dispose' };
      }
      // the public API hands the binding the options with a (here empty) list of validated providers
      raw.loadModel(file, { ...options, executionProviders: [] });
    } catch (e) {
      return { reason: `the native session cannot load the graph: ${(e as Error).message.split('\n')[0]}` };
    }
    const ins = convertMetadata(raw.inputMetadata);
    const outs = convertMetadata(raw.outputMetadata);
    if (!ins || !outs) {
      raw.dispose();
      return { reason: 'the native session metadata is not the shape binding.d.ts describes' };
    }
    return new NativeSession(raw, ins, outs);
  }

  /** Run on `feeds` (every graph input) and return every graph output. */
  run(feeds: Feeds): Record<string, ort.OnnxValue> {
    return this.raw.run(feeds, this.fetches, {});
  }

  dispose(): void {
    this.raw.dispose();
  }
}
