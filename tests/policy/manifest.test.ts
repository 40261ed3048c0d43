import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, parseManifest } from '../../src/policy/manifest.ts';
import { loadModelPackage } from '../../src/policy/model-package.ts';
import { ManifestError } from '../../src/errors.ts';
import { policyMetadata } from '../../src/policy/kinds/common.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const PACKAGES = readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, 'manifest.json')));
const base = () => JSON.parse(readFileSync(join(MODELS, 'vla-chunk-tiny', 'manifest.json'), 'utf8')) as Record<string, any>;

describe('manifest validation', () => {
  it.each(PACKAGES)('shipped manifest %s parses', (name) => {
    expect(loadManifest(join(MODELS, name)).name).toBe(name);
  });

  it('names the field of a schema violation', () => {
    const m = base();
    m.chunk_length = -3;
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(/x\/manifest.json.*\n.*chunk_length/);
  });

  it('reads execute_length (actions per chunk before replanning), capped at the chunk, default the whole chunk', () => {
    expect(policyMetadata(parseManifest(base())).executeLength).toBe(base().chunk_length);
    expect(policyMetadata(parseManifest({ ...base(), execute_length: 3 })).executeLength).toBe(3);
    expect(policyMetadata(parseManifest({ ...base(), execute_length: 999 })).executeLength).toBe(base().chunk_length);
    expect(() => parseManifest({ ...base(), execute_length: 0 })).toThrow(/execute_length/);
  });

  it('reads a package schedule and refuses settings of another mode', () => {
    expect(policyMetadata(parseManifest(base())).schedule).toBeUndefined();
    expect(policyMetadata(parseManifest({ ...base(), schedule: { mode: 'blend', blend_steps: 4 } })).schedule).toEqual({ mode: 'blend', blendSteps: 4, ramp: undefined, decay: undefined });
    expect(() => parseManifest({ ...base(), schedule: { mode: 'replan', blend_steps: 4 } })).toThrow(/schedule[\s\S]*blend_steps and ramp apply to mode blend only/);
    expect(() => parseManifest({ ...base(), schedule: { mode: 'blend', ensemble_decay: 0.1 } })).toThrow(/ensemble_decay applies to mode ensemble only/);
    expect(() => parseManifest({ ...base(), schedule: { mode: 'average' } })).toThrow(/schedule\.mode/);
  });

  it('rejects unknown top-level keys and unknown kinds', () => {
    expect(() => parseManifest({ ...base(), horizon: 8 })).toThrow(ManifestError);
    expect(() => parseManifest({ ...base(), kind: 'transformer' })).toThrow(/kind/);
  });

  it('cross-checks action names against mean/std lengths', () => {
    const m = base();
    m.embodiments.franka.action.mean = [0, 0];
    expect(() => parseManifest(m)).toThrow(/embodiments\.franka\.action: names, units, mean and std must have the same length \(8\)/);
  });

  it('requires the kind-specific section and graphs it names', () => {
    const m = base();
    m.kind = 'diffusion';
    expect(() => parseManifest(m)).toThrow(/diffusion: required for kind 'diffusion'/);
    const d = JSON.parse(readFileSync(join(MODELS, 'diffusion-tiny', 'manifest.json'), 'utf8'));
    d.diffusion.denoiser = 'unet';
    expect(() => parseManifest(d)).toThrow(/diffusion.denoiser: names graph 'unet'/);
  });

  it('rejects camera normalization of the wrong channel count', () => {
    const m = base();
    m.cameras[0].mean = [0.5];
    expect(() => parseManifest(m)).toThrow(/cameras\[0\] \(agentview\): mean\/std need 3 values/);
  });

  it('reports unreadable or non-JSON manifests with the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-manifest-'));
    expect(() => loadManifest(dir)).toThrow(/cannot read .*manifest.json/);
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    expect(() => loadManifest(dir)).toThrow(/is not valid JSON/);
  });
});

describe('graph vs manifest check at load time', () => {
  function copyWith(edit: (m: Record<string, any>) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'armature-pkg-'));
    cpSync(join(MODELS, 'vla-chunk-tiny'), dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    edit(m);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    return dir;
  }

  it('rejects a wrong fixed dimension', async () => {
    const dir = copyWith((m) => {
      m.graphs.policy.outputs[0].shape = ['batch', 10, 8];
    });
    await expect(loadModelPackage(dir)).rejects.toThrow(/output 'actions' dim 1 is 8 in the graph, manifest says 10/);
  });

  it('rejects a renamed input and names the undeclared graph input', async () => {
    const dir = copyWith((m) => {
      m.graphs.policy.inputs[0].name = 'image_front';
    });
    await expect(loadModelPackage(dir)).rejects.toThrow(/'image_front' is missing from the graph[\s\S]*graph input 'image_agentview' is not declared/);
  });

  it('rejects a wrong dtype', async () => {
    const dir = copyWith((m) => {
      const tokens = m.graphs.policy.inputs.find((t: { name: string }) => t.name === 'tokens');
      tokens.dtype = 'float32';
    });
    await expect(loadModelPackage(dir)).rejects.toThrow(/'tokens' is int64 in the graph, manifest says float32/);
  });

  it('rejects a missing graph file', async () => {
    const dir = copyWith((m) => {
      m.graphs.policy.file = 'nope.onnx';
    });
    await expect(loadModelPackage(dir)).rejects.toThrow(/nope.onnx does not exist/);
  });
});
