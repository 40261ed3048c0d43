import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { camerasForEmbodiment, parseManifest } from '../../src/policy/manifest.ts';
import { fillObservationInputs, loadModelPackage, releasePackage, requireGraph, type ModelPackage } from '../../src/policy/model-package.ts';
import { policyMetadata } from '../../src/policy/kinds/common.ts';
import { policyCameras } from '../../src/policy/types.ts';
import { ManifestError, ObservationError } from '../../src/errors.ts';
import type { CameraFrame, Observation } from '../../src/observation/types.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
type Json = Record<string, any>;
const read = (name: string): Json => JSON.parse(readFileSync(join(MODELS, name, 'manifest.json'), 'utf8'));

/** uniact-tiny with a second camera feeding image_primary for the dual arm only. */
function perRobot(): Json {
  const m = read('uniact-tiny');
  m.cameras[0].embodiments = ['franka'];
  m.cameras.push({ ...structuredClone(m.cameras[0]), name: 'head', embodiments: ['agibot'] });
  return m;
}

/** A 64x64 rgb8 frame of one value (the 128 px pixel input stretches it, so every byte equals `v`). */
function frame(v: number): CameraFrame {
  return { type: 'raw', encoding: 'rgb8', width: 64, height: 64, step: 192, data: new Uint8Array(64 * 64 * 3).fill(v), stamp: 0 };
}

describe('per-embodiment cameras in manifests', () => {
  it('keeps manifests without camera embodiments valid: every camera serves every robot', () => {
    const m = parseManifest(read('uniact-tiny'));
    expect(camerasForEmbodiment(m, 'franka').map((c) => c.name)).toEqual(['agentview']);
    expect(camerasForEmbodiment(m, 'agibot').map((c) => c.name)).toEqual(['agentview']);
    const meta = policyMetadata(m);
    expect(meta.cameras).toEqual(['agentview']);
    expect(meta.embodimentCameras).toEqual({ franka: ['agentview'], agibot: ['agentview'] });
  });

  it('feeds one graph input from a different camera per robot', () => {
    const m = parseManifest(perRobot());
    expect(camerasForEmbodiment(m, 'franka').map((c) => c.name)).toEqual(['agentview']);
    expect(camerasForEmbodiment(m, 'agibot').map((c) => c.name)).toEqual(['head']);
    const meta = policyMetadata(m);
    expect(meta.cameras).toEqual(['agentview', 'head']);
    expect(policyCameras(meta, 'agibot')).toEqual(['head']);
    expect(policyCameras(meta, 'franka')).toEqual(['agentview']);
  });

  it('rejects two cameras feeding one input for the same robot, naming both and the fix', () => {
    const m = perRobot();
    m.cameras[1].embodiments = ['agibot', 'franka'];
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(ManifestError);
    expect(() => parseManifest(m, 'x/manifest.json')).toThrow(
      /x\/manifest.json: cameras\[1\] \(head\): feeds input 'image_primary' like cameras\[0\] \(agentview\) for embodiments \[franka\]; give each camera a disjoint 'embodiments' list/,
    );
    const n = perRobot();
    delete n.cameras[0].embodiments; // serves both robots, so head collides for agibot
    expect(() => parseManifest(n)).toThrow(/for embodiments \[agibot\]/);
  });

  it('rejects an unknown embodiment name and an empty list', () => {
    const m = perRobot();
    m.cameras[1].embodiments = ['agibo'];
    expect(() => parseManifest(m)).toThrow(/cameras\[1\] \(head\)\.embodiments: names embodiment 'agibo', but embodiments has only \[franka, agibot\]/);
    const n = perRobot();
    n.cameras[1].embodiments = [];
    expect(() => parseManifest(n)).toThrow(/cameras\.1\.embodiments/);
  });

  it('policy metadata without embodimentCameras falls back to all cameras', () => {
    expect(policyCameras({ cameras: ['a', 'b'] }, 'franka')).toEqual(['a', 'b']);
  });
});

describe('uniact-small: per-robot primary and wrist cameras', () => {
  let pkg: ModelPackage;
  afterAll(async () => {
    if (pkg) await releasePackage(pkg);
  });

  it('fills image_primary from agentview for the FR3 and from head for the dual arm', async () => {
    pkg = await loadModelPackage(join(MODELS, 'uniact-small'));
    const meta = policyMetadata(pkg.manifest);
    expect(policyCameras(meta, 'franka')).toEqual(['agentview', 'eye_in_hand']);
    expect(policyCameras(meta, 'agibot')).toEqual(['head', 'left_wrist', 'right_wrist']);
    const images = { agentview: frame(10), eye_in_hand: frame(20), head: frame(200), left_wrist: frame(210), right_wrist: frame(220) };
    const obs = (only: string[]): Observation => ({
      stamp: 0,
      instruction: 'put both cubes on the plate',
      images: Object.fromEntries(only.map((c) => [c, images[c as keyof typeof images]])),
      proprio: { stamp: 0, fields: { joint_positions: new Float64Array(14), gripper: new Float64Array(2) } },
    });
    const backbone = requireGraph(pkg, 'backbone');
    const agibot = pkg.manifest.embodiments['agibot']!;
    fillObservationInputs(pkg, backbone, obs(['head', 'left_wrist', 'right_wrist']), agibot);
    const px = backbone.inputs['image_primary'] as Uint8Array;
    expect(px.length).toBe(128 * 128 * 3);
    expect(Math.min(...px.subarray(0, 3000))).toBe(200);
    expect(Math.max(...px.subarray(0, 3000))).toBe(200);

    const dec = requireGraph(pkg, 'decoder_agibot');
    fillObservationInputs(pkg, dec, obs(['head', 'left_wrist', 'right_wrist']), agibot);
    expect((dec.inputs['image_left_wrist'] as Uint8Array)[0]).toBe(210);
    expect((dec.inputs['image_right_wrist'] as Uint8Array)[5]).toBe(220);

    const franka = pkg.manifest.embodiments['franka']!;
    fillObservationInputs(pkg, backbone, { ...obs(['agentview', 'eye_in_hand']), proprio: { stamp: 0, fields: { joint_positions: new Float64Array(7), gripper: new Float64Array(1) } } }, franka);
    expect((backbone.inputs['image_primary'] as Uint8Array)[7]).toBe(10);
  });

  it('names only the embodiment\'s own cameras when one is missing', async () => {
    pkg ??= await loadModelPackage(join(MODELS, 'uniact-small'));
    const obs: Observation = {
      stamp: 0,
      instruction: 'x',
      images: { agentview: frame(1) },
      proprio: { stamp: 0, fields: { joint_positions: new Float64Array(14), gripper: new Float64Array(2) } },
    };
    const fill = () => fillObservationInputs(pkg, requireGraph(pkg, 'backbone'), obs, pkg.manifest.embodiments['agibot']!);
    expect(fill).toThrow(ObservationError);
    expect(fill).toThrow(/no image for camera 'head' \(model uniact-small needs \[head, left_wrist, right_wrist\] for this embodiment; got \[agentview\]\)/);
  });
});
