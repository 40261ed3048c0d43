/**
 * Golden test vectors: inputs and PyTorch outputs saved at export time beside
 * each graph (golden/<graph>.json), so onnxruntime-node can be checked against
 * PyTorch without PyTorch installed.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ManifestError } from '../errors.ts';
import type { ModelPackage } from './model-package.ts';

interface GoldenTensor {
  dtype: 'float32' | 'int64' | 'bool' | 'uint8';
  shape: number[];
  data: number[];
}

interface GoldenFile {
  inputs: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor>;
}

export interface GoldenResult {
  graph: string;
  output: string;
  maxAbsError: number;
  size: number;
}

function toTensor(name: string, t: GoldenTensor): ort.Tensor {
  if (t.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
  if (t.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(t.data.map((v) => BigInt(v))), t.shape);
  if (t.dtype === 'bool') return new ort.Tensor('bool', Uint8Array.from(t.data), t.shape);
  if (t.dtype === 'uint8') {
    if (!t.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new ManifestError(`golden tensor '${name}' is uint8 but holds values outside the integers 0..255; re-run the package's build.py`);
    }
    return new ort.Tensor('uint8', Uint8Array.from(t.data), t.shape);
  }
  throw new ManifestError(`golden tensor '${name}' has unsupported dtype ${String((t as GoldenTensor).dtype)}`);
}

/** Run every graph of the package on its golden inputs; one result per output. */
export async function checkGoldens(pkg: ModelPackage): Promise<GoldenResult[]> {
  const results: GoldenResult[] = [];
  for (const [name, graph] of pkg.graphs) {
    const file = join(pkg.dir, 'golden', `${name}.json`);
    if (!existsSync(file)) throw new ManifestError(`graph '${name}' has no golden file ${file}; re-run the package's build.py`);
    const golden = JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
    const feeds: Record<string, ort.Tensor> = {};
    for (const [n, t] of Object.entries(golden.inputs)) feeds[n] = toTensor(n, t);
    const out = await graph.runWith(feeds);
    for (const [n, expected] of Object.entries(golden.outputs)) {
      const got = out[n];
      if (!got) throw new ManifestError(`graph '${name}' produced no output '${n}' named in ${file}`);
      const data = got.data as Float32Array;
      if (data.length !== expected.data.length) {
        throw new ManifestError(`graph '${name}' output '${n}' has ${data.length} values, golden has ${expected.data.length}`);
      }
      let maxAbsError = 0;
      for (let i = 0; i < data.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(data[i]! - expected.data[i]!));
      results.push({ graph: name, output: n, maxAbsError, size: data.length });
    }
  }
  return results;
}
