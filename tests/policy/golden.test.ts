import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelPackage, releasePackage } from '../../src/policy/model-package.ts';
import { checkGoldens } from '../../src/policy/golden.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const PACKAGES = readdirSync(MODELS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(join(MODELS, d.name)).includes('manifest.json'))
  .map((d) => d.name);

describe('onnxruntime-node matches PyTorch goldens', () => {
  it('finds the shipped packages', () => {
    expect(PACKAGES.length).toBeGreaterThanOrEqual(4);
  });

  it.each(PACKAGES)('%s: every graph output within 1e-4', async (name) => {
    const pkg = await loadModelPackage(join(MODELS, name));
    try {
      const results = await checkGoldens(pkg);
      expect(results.length).toBeGreaterThanOrEqual(pkg.graphs.size);
      for (const r of results) expect(r.maxAbsError, `${r.graph}.${r.output}`).toBeLessThanOrEqual(1e-4);
    } finally {
      await releasePackage(pkg);
    }
  });
});
