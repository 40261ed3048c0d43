import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPolicy, policyFromPackage } from '../../src/policy/load.ts';
import { loadModelPackage, releasePackage } from '../../src/policy/model-package.ts';
import { loadManifest } from '../../src/policy/manifest.ts';
import { loadObservationFile } from '../../src/observation/example.ts';
import type { Policy } from '../../src/policy/types.ts';
import { ObservationError } from '../../src/errors.ts';
import { makeChunk, NonFiniteActionError } from '../../src/policy/kinds/common.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const open: Policy[] = [];
async function load(name: string, opts = {}): Promise<Policy> {
  const p = await loadPolicy(join(MODELS, name), opts);
  open.push(p);
  return p;
}
const example = (name: string, file = 'observation.json') => loadObservationFile(join(MODELS, name, 'example', file));
afterAll(async () => {
  await Promise.all(open.map((p) => p.dispose()));
});

describe('every policy kind runs end to end on its shipped package', () => {
  it('a flow policy with noise scale 0 samples the same chunk for every seed, in every mode; other kinds refuse the option', async () => {
    const obs = example('flow-tiny');
    for (const sampler of ['euler', 'truncated', 'rti']) {
      const chunks = [];
      for (const seed of [1, 2]) chunks.push(Array.from((await (await load('flow-tiny', { sampler, seed, noiseScale: 0 })).predictChunk(obs)).actions));
      expect(chunks[0]).toEqual(chunks[1]);
      const noisy = [];
      for (const seed of [1, 2]) noisy.push(Array.from((await (await load('flow-tiny', { sampler, seed })).predictChunk(obs)).actions));
      expect(noisy[0]).not.toEqual(noisy[1]);
    }
    await expect(load('flow-tiny', { noiseScale: -0.5 })).rejects.toThrow(/noise scale must be a finite number >= 0/);
    // a package may set its own default (manifest flow.noise_scale); the caller's option wins
    const pkg = await loadModelPackage(join(MODELS, 'flow-tiny'));
    const quiet = { ...pkg, manifest: { ...pkg.manifest, flow: { ...pkg.manifest.flow!, noise_scale: 0 } } };
    const sample = async (opts: { seed: number; noiseScale?: number }) => Array.from((await policyFromPackage(quiet, opts).predictChunk(obs)).actions);
    expect(await sample({ seed: 1 })).toEqual(await sample({ seed: 2 }));
    expect(await sample({ seed: 1, noiseScale: 1 })).not.toEqual(await sample({ seed: 2, noiseScale: 1 }));
    await releasePackage(pkg);
    await expect(load('diffusion-tiny', { noiseScale: 0 })).rejects.toThrow(/applies to flow policies/);
  });

  it.each(['vla-chunk-tiny', 'uniact-tiny', 'diffusion-tiny', 'flow-tiny'])('%s returns a finite chunk of the manifest shape', async (name) => {
    const m = loadManifest(join(MODELS, name));
    const policy = await load(name);
    const [emb, spec] = Object.entries(m.embodiments)[0]!;
    const chunk = await policy.predictChunk(example(name), { embodiment: emb });
    expect(chunk.horizon).toBe(m.chunk_length);
    expect(chunk.dim).toBe(spec.action.names.length);
    expect(chunk.actions.length).toBe(m.chunk_length * spec.action.names.length);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
    expect(chunk.stats.latencyMs).toBeGreaterThan(0);
  });

  it('chunk regression output depends on the instruction and images', async () => {
    const policy = await load('vla-chunk-tiny');
    const obs = example('vla-chunk-tiny');
    const a = await policy.predictChunk(obs);
    const b = await policy.predictChunk({ ...obs, instruction: 'open the top drawer of the cabinet' });
    const diff = a.actions.reduce((s, v, i) => s + Math.abs(v - b.actions[i]!), 0);
    expect(diff).toBeGreaterThan(1e-4);
  });

  it('universal-action decodes the same backbone output for two embodiments with their own dims', async () => {
    const policy = await load('uniact-tiny');
    const franka = await policy.predictChunk(example('uniact-tiny'), { embodiment: 'franka' });
    const agibot = await policy.predictChunk(example('uniact-tiny', 'observation_agibot.json'), { embodiment: 'agibot' });
    expect(franka.dim).toBe(8);
    expect(agibot.dim).toBe(16);
    expect(franka.stats.universalToken).toBeGreaterThanOrEqual(0);
    expect(franka.stats.universalToken).toBeLessThan(256);
    await expect(policy.predictChunk(example('uniact-tiny'))).rejects.toThrow(/drives several embodiments \[franka, agibot\]/);
    await expect(policy.predictChunk(example('uniact-tiny'), { embodiment: 'ur5' })).rejects.toThrow(ObservationError);
  });

  it('uniact-small drives a third robot, the UR5e, through a head added on the frozen backbone', async () => {
    const policy = await load('uniact-small');
    expect(policy.metadata.embodimentRobots).toEqual({ franka: 'franka/fr3', agibot: 'agibot/dual_arm', ur5e: 'universal_robots/ur5e' });
    expect(policy.metadata.proprioFields['ur5e']).toEqual(['joint_positions', 'gripper']);
    const franka = await policy.predictChunk(example('uniact-small'), { embodiment: 'franka' });
    const ur5e = await policy.predictChunk(example('uniact-small', 'observation_ur5e.json'), { embodiment: 'ur5e' });
    expect([ur5e.horizon, ur5e.dim]).toEqual([8, 7]);
    expect(ur5e.actions.every(Number.isFinite)).toBe(true);
    // same cameras and instruction: the shared backbone picks the same universal action for both arms
    expect(ur5e.stats.universalToken).toBe(franka.stats.universalToken);
    // ...which each robot's own head decodes into its own chunk
    expect(ur5e.actions.some((v, i) => Math.abs(v - franka.actions[i]!) > 1e-4)).toBe(true);
    // a 6-joint state is what the UR5e head reads; the FR3's 7 joints are refused
    await expect(policy.predictChunk(example('uniact-small'), { embodiment: 'ur5e' })).rejects.toThrow(ObservationError);
  });

  it('diffusion modes spend the expected denoiser evaluations and are seed-deterministic', async () => {
    const obs = example('diffusion-tiny');
    const ddim = await load('diffusion-tiny', { sampler: 'ddim', steps: 7, seed: 3 });
    expect((await ddim.predictChunk(obs)).stats.nfe).toBe(7);
    const again = await load('diffusion-tiny', { sampler: 'ddim', steps: 7, seed: 3 });
    expect(Array.from((await again.predictChunk(obs)).actions)).toEqual(Array.from((await (async () => { ddim.reset(); return ddim.predictChunk(obs); })()).actions));
    const ddpm = await load('diffusion-tiny', { sampler: 'ddpm' });
    expect((await ddpm.predictChunk(obs)).stats.nfe).toBe(100);
    const rti = await load('diffusion-tiny', { sampler: 'rti', steps: 2 });
    expect((await rti.predictChunk(obs)).stats.nfe).toBe(10); // cold start
    expect((await rti.predictChunk({ ...obs, stamp: obs.stamp + 0.4 })).stats.nfe).toBe(2); // warm
    // a per-position denoiser warm-starts the uncovered rows from noise by default
    const warm = async (rtiTail?: 'repeat' | 'noise' | 'predict') => {
      const policy = await load('diffusion-tiny', { sampler: 'rti', steps: 2, rtiTail });
      await policy.predictChunk(obs);
      return Array.from((await policy.predictChunk({ ...obs, stamp: obs.stamp + 0.4 })).actions);
    };
    const byDefault = await warm();
    expect(byDefault).toEqual(await warm('noise'));
    const uniform = await warm('repeat');
    // 0.4 s at 20 Hz = 8 actions executed: rows 8-15 are not covered by the previous chunk, and
    // 'repeat' starts them from copies of its last row, 'noise' from noise
    const A = byDefault.length / 16;
    const tailDiff = Math.max(...byDefault.slice(8 * A).map((v, i) => Math.abs(v - uniform[8 * A + i]!)));
    expect(tailDiff).toBeGreaterThan(1e-3);
    await expect(load('diffusion-tiny', { sampler: 'ddim', rtiTail: 'noise' })).rejects.toThrow(/sampler 'rti'/);
    // a denoiser without per-position timesteps: 'predict' by default (one more call per warm start), 'noise' refused
    const pkg = await loadModelPackage(join(MODELS, 'diffusion-tiny'));
    const d = pkg.manifest.diffusion!;
    const shared = { ...pkg, manifest: { ...pkg.manifest, diffusion: { ...d, per_position_timesteps: false } } };
    const plain = policyFromPackage(shared, { sampler: 'rti', steps: 2 });
    await plain.predictChunk(obs);
    expect((await plain.predictChunk({ ...obs, stamp: obs.stamp + 0.4 })).stats.nfe).toBe(3);
    expect(() => policyFromPackage(shared, { sampler: 'rti', rtiTail: 'noise' })).toThrow(/per-position/);
    await plain.dispose();
    await expect(load('diffusion-tiny', { sampler: 'rti', rtiTail: 'ramp' })).rejects.toThrow(/repeat, noise, predict/);
    const streaming = await load('diffusion-tiny', { sampler: 'streaming', steps: 1 });
    const first = await streaming.predictChunk(obs);
    expect(first.stats.nfe).toBe(16); // staircase fill (15) + one step
    expect((await streaming.predictChunk({ ...obs, stamp: 0.05 })).stats.nfe).toBe(1);
    // only the first buffered action is clean: callers that follow the policy execute one per call
    expect(streaming.metadata.executeLength).toBe(1);
    // RTI replans after a quarter of the chunk: the rest of it is the next warm start
    expect(rti.metadata.executeLength).toBe(rti.metadata.horizon / 4);
  });

  it('diffusion eta adds seeded variance to ddim, streaming and rti; ddpm and other kinds refuse it', async () => {
    const obs = example('diffusion-tiny');
    const later = { ...obs, stamp: obs.stamp + 0.4 };
    // two calls: the second is a warm step for streaming and rti
    const run = async (sampler: string, eta: number | undefined, seed: number) => {
      const p = await load('diffusion-tiny', { sampler, eta, seed });
      await p.predictChunk(obs);
      return Array.from((await p.predictChunk(later)).actions);
    };
    for (const sampler of ['ddim', 'streaming', 'rti']) {
      // eta 1 draws fresh noise in every update: streaming's default (SDP's ancestral buffer), else eta 0
      expect(await run(sampler, sampler === 'streaming' ? 1 : 0, 5)).toEqual(await run(sampler, undefined, 5));
      const stochastic = await run(sampler, 1, 5);
      expect(stochastic.every(Number.isFinite)).toBe(true);
      expect(stochastic).toEqual(await run(sampler, 1, 5));
      expect(stochastic).not.toEqual(await run(sampler, 0, 5));
    }
    await expect(load('diffusion-tiny', { sampler: 'ddpm', eta: 1 })).rejects.toThrow(/ddpm always samples ancestrally/);
    await expect(load('diffusion-tiny', { eta: -1 })).rejects.toThrow(/eta must be a finite number >= 0/);
    await expect(load('flow-tiny', { eta: 1 })).rejects.toThrow(/applies to diffusion policies/);
  });

  it('flow truncation runs up to every exit and reports which one answered', async () => {
    const policy = await load('flow-tiny', { sampler: 'truncated' });
    const chunk = await policy.predictChunk(example('flow-tiny'));
    expect(chunk.stats.exitIndex).toBeGreaterThanOrEqual(0);
    expect(chunk.stats.exitIndex).toBeLessThanOrEqual(2);
    expect(chunk.stats.nfe).toBeGreaterThanOrEqual(10);
  });

  it('flow RTI warm-starts after a quarter of the chunk with the default 3 Euler steps, predicting the uncovered rows', async () => {
    const policy = await load('flow-tiny', { sampler: 'rti' });
    expect(policy.metadata.executeLength).toBe(policy.metadata.horizon / 4);
    const obs = example('flow-tiny');
    expect((await policy.predictChunk(obs)).stats.nfe).toBe(10); // cold start
    // 3 Euler steps + 1 call estimating the 4 rows the previous chunk did not cover
    expect((await policy.predictChunk({ ...obs, stamp: obs.stamp + 0.2 })).stats.nfe).toBe(4);
    const repeat = await load('flow-tiny', { sampler: 'rti', rtiTail: 'repeat' });
    await repeat.predictChunk(obs);
    expect((await repeat.predictChunk({ ...obs, stamp: obs.stamp + 0.2 })).stats.nfe).toBe(3);
    await expect(load('flow-tiny', { sampler: 'rti', rtiTail: 'noise' })).rejects.toThrow(/one time per chunk/);
    expect((await load('flow-tiny')).metadata.executeLength).toBe(16);
  });

  it('RTI drops a package\'s blend schedule: it warm-starts from the chunk as executed', async () => {
    const pkg = await loadModelPackage(join(MODELS, 'flow-tiny'));
    const blended = { ...pkg, manifest: { ...pkg.manifest, execute_length: 4, schedule: { mode: 'blend' as const, blend_steps: 4 } } };
    expect(policyFromPackage(blended, { sampler: 'truncated' }).metadata.schedule).toEqual({ mode: 'blend', blendSteps: 4, ramp: undefined, decay: undefined });
    expect(policyFromPackage(blended, { sampler: 'rti' }).metadata.schedule).toBeUndefined();
  });

  it('rejects samplers that do not fit the kind', async () => {
    await expect(loadPolicy(join(MODELS, 'flow-tiny'), { sampler: 'ddpm' })).rejects.toThrow(/does not apply to a flow policy; choose one of euler, truncated, rti/);
    await expect(loadPolicy(join(MODELS, 'vla-chunk-tiny'), { sampler: 'ddim' })).rejects.toThrow(/applies to diffusion and flow/);
  });

  it('names a missing camera', async () => {
    const policy = await load('vla-chunk-tiny');
    const obs = example('vla-chunk-tiny');
    const { eye_in_hand: _drop, ...images } = obs.images;
    await expect(policy.predictChunk({ ...obs, images })).rejects.toThrow(/no image for camera 'eye_in_hand'/);
  });
});

describe('denormalization', () => {
  it('applies std and mean and rejects NaN from the model', () => {
    const manifest = loadManifest(join(MODELS, 'vla-chunk-tiny'));
    const n = manifest.chunk_length * 8;
    const chunk = makeChunk({ manifest, embodiment: 'franka', normalized: new Float32Array(n).fill(1), stamp: 0, t0: performance.now() });
    const a = manifest.embodiments.franka!.action;
    expect(chunk.actions[0]).toBeCloseTo(a.mean[0]! + a.std[0]!, 6);
    const bad = new Float32Array(n);
    bad[13] = Number.NaN;
    expect(() => makeChunk({ manifest, embodiment: 'franka', normalized: bad, stamp: 0, t0: 0 })).toThrow(NonFiniteActionError);
    expect(() => makeChunk({ manifest, embodiment: 'franka', normalized: new Float32Array(5), stamp: 0, t0: 0 })).toThrow(/returned 5 values/);
  });
});
