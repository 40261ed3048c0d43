import { afterAll, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';

// the native binding module cannot be loaded (a future onnxruntime-node moves or drops it)
vi.mock('node:module', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:module')>();
  return {
    ...real,
    createRequire: () => () => {
      throw new Error("Cannot find module 'onnxruntime-node/dist/binding.js'");
    },
  };
});

const { loadModelPackage, releasePackage } = await import('../../src/policy/model-package.ts');
const { policyFromPackage } = await import('../../src/policy/load.ts');
const { loadObservationFile } = await import('../../src/observation/example.ts');

const MODELS = join(import.meta.dirname, '..', '..', 'models');

describe('without the native binding', () => {
  const pkgs: Array<Awaited<ReturnType<typeof loadModelPackage>>> = [];
  afterAll(async () => {
    await Promise.all(pkgs.map((p) => releasePackage(p)));
  });

  it('graphs fall back to the public API with a one-line reason, and policies still run', async () => {
    const pkg = await loadModelPackage(join(MODELS, 'flow-tiny'));
    pkgs.push(pkg);
    for (const g of pkg.graphs.values()) {
      expect(g.sessionKind).toBe('public');
      expect(g.fallbackReason).toMatch(/^onnxruntime-node\/dist\/binding\.js cannot be loaded: Cannot find module/);
      expect(g.fallbackReason).not.toContain('\n');
      expect(() => g.bareNativeRun()).toThrow(/runs on the public API \(onnxruntime-node\/dist\/binding\.js cannot be loaded/);
    }
    const chunk = await policyFromPackage(pkg).predictChunk(loadObservationFile(join(MODELS, 'flow-tiny', 'example', 'observation.json')));
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
  });
});
