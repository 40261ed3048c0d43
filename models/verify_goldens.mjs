// Check every package's goldens with onnxruntime-node: batch 1 against golden/<graph>.json,
// and batch 2 (the golden input repeated) to prove the 'batch' axis is dynamic.
// Run from the repo root: node models/verify_goldens.mjs [package ...]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const TOL = 1e-4;
const root = new URL('.', import.meta.url).pathname;
const pkgs = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(root).filter((d) => existsSync(join(root, d, 'manifest.json')));

function toTensor(spec, repeat) {
  const n = spec.data.length;
  const shape = [spec.shape[0] * repeat, ...spec.shape.slice(1)];
  if (spec.dtype === 'float32') {
    const a = new Float32Array(n * repeat);
    for (let r = 0; r < repeat; r++) a.set(spec.data, r * n);
    return new ort.Tensor('float32', a, shape);
  }
  if (spec.dtype === 'int64') {
    const a = new BigInt64Array(n * repeat);
    for (let r = 0; r < repeat; r++) spec.data.forEach((v, i) => (a[r * n + i] = BigInt(v)));
    return new ort.Tensor('int64', a, shape);
  }
  if (spec.dtype === 'uint8' || spec.dtype === 'bool') {
    const a = new Uint8Array(n * repeat);
    for (let r = 0; r < repeat; r++) a.set(spec.data.map(Number), r * n);
    return new ort.Tensor(spec.dtype, a, shape);
  }
  throw new Error(`unsupported dtype ${spec.dtype}`);
}

let failed = 0;
for (const pkg of pkgs) {
  const dir = join(root, pkg);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  for (const [name, g] of Object.entries(m.graphs)) {
    const session = await ort.InferenceSession.create(join(dir, g.file));
    const expIn = g.inputs.map((t) => t.name).join(',');
    const expOut = g.outputs.map((t) => t.name).join(',');
    if (session.inputNames.join(',') !== expIn || session.outputNames.join(',') !== expOut) {
      console.log(`FAIL ${pkg}/${name}: io ${session.inputNames} -> ${session.outputNames}, manifest ${expIn} -> ${expOut}`);
      failed++;
    }
    const golden = JSON.parse(readFileSync(join(dir, 'golden', `${name}.json`), 'utf8'));
    for (const repeat of [1, 2]) {
      const feeds = {};
      for (const [k, spec] of Object.entries(golden.inputs)) feeds[k] = toTensor(spec, repeat);
      const out = await session.run(feeds);
      let maxErr = 0;
      for (const [k, spec] of Object.entries(golden.outputs)) {
        const got = out[k].data;
        const want = [spec.shape[0] * repeat, ...spec.shape.slice(1)];
        if (out[k].dims.join(',') !== want.join(',')) {
          console.log(`FAIL ${pkg}/${name}.${k}: dims ${out[k].dims} want ${want}`);
          failed++;
        }
        for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - spec.data[i % spec.data.length]));
      }
      const ok = maxErr <= TOL;
      if (!ok) failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${pkg}/${name} batch ${repeat}: max abs err ${maxErr.toExponential(2)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
