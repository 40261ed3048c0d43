import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arraysArguments, completeShards, dataGroups, parseTrainSpec, readTrainSpec } from '../../src/cli/train.ts';
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
