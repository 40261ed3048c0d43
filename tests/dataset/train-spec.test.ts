import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arraysArguments, completeShards, dataGroups, datasetKey, packageFingerprint, parseTrainSpec, readTrainSpec, stagesToRun, trainPackage } from '../../src/cli/train.ts';
import { ArmatureError } from '../../src/errors.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');

describe('train.json data per embodiment', () => {
  it('keeps single-robot train.json files valid: one group, one plain --arrays', () => {
    const spec = readTrainSpec(join(MODELS, 'diffusion-small'));
    const groups = dataGroups(spec);
    expect([...groups.keys()]).toEqual(['']);
    expect(groups.get('')!.map((d) => d.suite)).toEqual(['spatial', 'object', 'goal', 'long']);
    expect(arraysArguments(new Map([['', '/a']]))).toEqual(['--arrays', '/a']);
  });

  it('groups uniact-small data by embodiment and passes --arrays <embodiment>=<dir> each', () => {
    const spec = readTrainSpec(join(MODELS, 'uniact-small'));
    const groups = dataGroups(spec);
    expect([...groups.keys()]).toEqual(['franka', 'agibot']);
    expect(groups.get('franka')!.length).toBe(4);
    expect(groups.get('agibot')!.map((d) => d.suite)).toEqual(['dual_arm']);
    expect(arraysArguments(new Map([['franka', '/a'], ['agibot', '/b']]))).toEqual(['--arrays', 'franka=/a', '--arrays', 'agibot=/b']);
  });

  it('rejects a mix of entries with and without an embodiment, and odd embodiment names', () => {
    const raw = JSON.parse(readFileSync(join(MODELS, 'uniact-small', 'train.json'), 'utf8'));
    delete raw.data[2].embodiment;
    expect(() => parseTrainSpec(raw, 'x/train.json')).toThrow(ArmatureError);
    expect(() => parseTrainSpec(raw, 'x/train.json')).toThrow(/x\/train.json: data: 4 of 5 entries name an embodiment; name one in every entry \(multi-robot\) or in none/);
    raw.data[2].embodiment = 'fr=3';
    expect(() => parseTrainSpec(raw)).toThrow(/data.2.embodiment: letters, digits, _ or -/);
  });
});

describe('train.json handoff (recovery) data', () => {
  it("reads flow-small's recovery stage: an opt-in experiment on its demonstrations plus handoff rollouts of every Franka suite", () => {
    const spec = readTrainSpec(join(MODELS, 'flow-small'));
    const stage = spec.stages.find((s) => s.name === 'recovery')!;
    // optional: a plain `npm run train -- flow-small` reproduces the bundled weights without it
    expect(stage.optional).toBe(true);
    expect(stagesToRun(spec, 'flow-small')).toEqual([]);
    expect(stagesToRun(spec, 'flow-small', 'recovery')).toEqual([stage]);
    expect(stagesToRun(readTrainSpec(join(MODELS, 'uniact-small')), 'uniact-small').map((s) => s.name)).toEqual(['ur5e']);
    expect(stage.script).toBe('train.py');
    const handoff = stage.data.filter((d) => d.handoff);
    expect(handoff.map((d) => d.suite)).toEqual(['spatial', 'object', 'goal', 'long']);
    expect(stage.data.filter((d) => !d.handoff).map((d) => datasetKey(d))).toEqual(readTrainSpec(join(MODELS, 'flow-small')).data.map((d) => datasetKey(d)));
  });

  it('keys a handoff dataset by the weights that drove it, and keeps handoff out of the main data', () => {
    const d = { suite: 'goal', episodes: 10, noise: 0, seed: 3000, handoff: { steps: '10-150', sampler: 'truncated' } };
    expect(() => datasetKey(d)).toThrow(/fingerprint/);
    expect(datasetKey(d, 'abc')).toBe('goal-e10-n0-s3000-h10-150-truncated-mabc');
    const dir = mkdtempSync(join(tmpdir(), 'armature-fp-'));
    expect(() => packageFingerprint(dir)).toThrow(/manifest.json not found/);
    writeFileSync(join(dir, 'manifest.json'), '{}');
    writeFileSync(join(dir, 'g.onnx'), 'a');
    const a = packageFingerprint(dir);
    writeFileSync(join(dir, 'g.onnx'), 'b');
    expect(packageFingerprint(dir)).not.toBe(a);
    const raw = JSON.parse(readFileSync(join(MODELS, 'flow-small', 'train.json'), 'utf8'));
    raw.data.push(d);
    expect(() => parseTrainSpec(raw, 'x/train.json')).toThrow(/handoff entry .* move it into a stage/);
    raw.data.pop();
    raw.stages[0].data[0].handoff = { steps: '10..150' };
    expect(() => parseTrainSpec(raw)).toThrow(/<from>-<to>/);
    raw.stages[0].data[0].handoff = { steps: '150-10' };
    expect(() => parseTrainSpec(raw)).toThrow(/'150-10'.*<from>-<to>/);
  });
});

describe('train.json stages (a new robot\'s head on the frozen backbone)', () => {
  it('reads uniact-small\'s UR5e stage: its own robot-specific data, at most 20 demos per task', () => {
    const spec = readTrainSpec(join(MODELS, 'uniact-small'));
    expect(spec.stages.map((s) => s.name)).toEqual(['ur5e']);
    const stage = spec.stages[0]!;
    expect(stage.script).toBe('adapt.py');
    expect([...dataGroups(stage).keys()]).toEqual(['ur5e']);
    expect(stage.data.every((d) => d.robot === 'universal_robots/ur5e' && d.episodes <= 20)).toBe(true);
    // the from-scratch baseline records exactly the same datasets
    const scratch = readTrainSpec(join(MODELS, 'uniact-ur5e-scratch'));
    expect(scratch.data.map((d) => datasetKey(d))).toEqual(stage.data.map((d) => datasetKey(d)));
    expect(scratch.stages).toEqual([]);
  });

  it('keys datasets by robot, so the same suite recorded on another robot is another dataset', () => {
    const d = { suite: 'spatial', episodes: 20, noise: 0.002, seed: 1000 };
    expect(datasetKey(d)).toBe('spatial-e20-n0.002-s1000');
    expect(datasetKey({ ...d, robot: 'universal_robots/ur5e' })).toBe('spatial-e20-n0.002-s1000-runiversal_robots_ur5e');
  });

  it('keys grasp-miss recordings apart (other entries keep their keys) and refuses them on handoff entries', () => {
    const raw = JSON.parse(readFileSync(join(MODELS, 'flow-small', 'train.json'), 'utf8'));
    raw.data.push({ suite: 'long', episodes: 25, noise: 0.002, grasp_miss: 0.5, seed: 7000 });
    const spec = parseTrainSpec(raw);
    expect(datasetKey(spec.data.at(-1)!)).toBe('long-e25-n0.002-g0.5-s7000');
    expect(datasetKey(spec.data[0]!)).toBe('spatial-e25-n0.002-s1000');
    raw.data.at(-1).grasp_miss = 1.5;
    expect(() => parseTrainSpec(raw)).toThrow(/data.4.grasp_miss: Too big/);
    raw.data.pop();
    raw.stages[0].data[0].grasp_miss = 0.3;
    raw.stages[0].data[0].handoff = { steps: '10-150' };
    expect(() => parseTrainSpec(raw, 'x/train.json')).toThrow(/stages.0 \(recovery\).data.0: grasp_miss shapes the expert's own demonstrations/);
  });

  it('rejects bad robots, duplicate stage names and mixed embodiment naming inside a stage', () => {
    const raw = JSON.parse(readFileSync(join(MODELS, 'uniact-small', 'train.json'), 'utf8'));
    const bad = structuredClone(raw);
    bad.stages[0].data[0].robot = 'ur5e';
    expect(() => parseTrainSpec(bad)).toThrow(/stages.0.data.0.robot: '<maker>\/<model>'/);
    const twice = structuredClone(raw);
    twice.stages.push(structuredClone(raw.stages[0]));
    expect(() => parseTrainSpec(twice, 'x/train.json')).toThrow(/x\/train.json: stages: 'ur5e' appears twice/);
    const mixed = structuredClone(raw);
    delete mixed.stages[0].data[1].embodiment;
    expect(() => parseTrainSpec(mixed, 'x/train.json')).toThrow(/x\/train.json: stages.0 \(ur5e\).data: 3 of 4 entries name an embodiment/);
  });

  it('refuses an unknown stage, and a stage whose main training has not run, naming the fix', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'train-cache-'));
    const o = { name: 'uniact-small', jobs: 1, python: '/bin/false', cache, log: () => {} };
    await expect(trainPackage({ ...o, stage: 'ur10' })).rejects.toThrow(/models\/uniact-small\/train.json has no stage 'ur10'; stages: ur5e/);
    await expect(trainPackage({ ...o, stage: 'ur5e' })).rejects.toThrow(/stage 'ur5e' builds on the main training of uniact-small, but .*last.pt does not exist; run `npm run train -- uniact-small` first/);
  });
});

describe('completeShards', () => {
  it('reuses a dataset recorded with any --jobs only when every shard is complete', () => {
    const root = mkdtempSync(join(tmpdir(), 'shards-'));
    expect(completeShards(join(root, 'none'))).toBeNull();
    for (const k of [0, 1]) mkdirSync(join(root, `shard-${k}`));
    writeFileSync(join(root, 'shard-0', '.complete'), 'x');
    expect(completeShards(root)).toBeNull();
    writeFileSync(join(root, 'shard-1', '.complete'), 'x');
    expect(completeShards(root)).toEqual([join(root, 'shard-0'), join(root, 'shard-1')]);
  });
});
