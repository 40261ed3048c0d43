import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depthTo16UC1 } from '../../sim/render/renderer.ts';
import {
  describeScene,
  extractState,
  type MjModelLike,
  packArray,
  RenderSceneError,
  stateLayout,
  unpackArray,
  type MjDataLike,
} from '../../sim/render/scene-description.ts';
import { EpisodeFileError, episodeToJson, episodeToNdjson, frameState, packFrame, parseEpisode, type Episode } from '../../sim/viewer/episode.ts';
import { loadFixture, type LoadedFixture } from './render-fixture.ts';

describe('describeScene', () => {
  let box: LoadedFixture;
  let arm: LoadedFixture;
  beforeAll(async () => {
    box = await loadFixture('render-box');
    arm = await loadFixture('viewer-arm');
  });
  afterAll(() => {
    box.dispose();
    arm.dispose();
  });

  it('keeps visual geoms with size, colour and body, and drops group-3 collision geoms', () => {
    // hidden_collision (group 3) is dropped: its body has a visual geom; 'proxy' is
    // kept because its body has nothing else to show
    expect(box.scene.geoms.map((g) => g.name)).toEqual(['red_box', 'proxy']);
    expect(describeScene(box.model as unknown as MjModelLike, { groups: [0] }).geoms.map((g) => g.name)).toEqual(['red_box']);
    expect(describeScene(box.model as unknown as MjModelLike, { groups: [3] }).geoms.map((g) => g.name)).toEqual(['hidden_collision', 'proxy']);
    const g = box.scene.geoms[0];
    expect(g.type).toBe('box');
    expect(g.size).toEqual([0.1, 0.1, 0.1]);
    expect(g.rgba).toEqual([1, 0, 0, 1]);
    expect(g.body).toBe('box');
  });

  it('describes cameras, headlight and clip planes', () => {
    expect(box.scene.cameras.map((c) => [c.name, c.fovy, c.body])).toEqual([
      ['front', 45, 'world'],
      ['side', 60, 'world'],
    ]);
    expect(box.scene.headlight.active).toBe(true);
    expect(box.scene.headlight.diffuse[0]).toBeCloseTo(0.4, 6);
    expect(box.scene.znear).toBeGreaterThan(0);
    expect(box.scene.zfar).toBeGreaterThan(box.scene.znear * 100);
  });

  it('takes material colour over geom colour, and packs meshes once', () => {
    const names = arm.scene.geoms.map((g) => g.name);
    expect(names).toEqual(['floor', 'base_geom', 'link1_geom', 'link2_geom', 'tip_geom']);
    const link = arm.scene.geoms.find((g) => g.name === 'link1_geom');
    expect(link?.rgba).toEqual([1, 0.5, 0, 1]);
    expect(link?.type).toBe('capsule');
    expect(link?.size[0]).toBeCloseTo(0.04, 9);
    expect(link?.size[1]).toBeCloseTo(0.175, 9); // half length of fromto
    const tip = arm.scene.geoms.find((g) => g.name === 'tip_geom');
    expect(tip?.mesh).toBe(0);
    expect(arm.scene.meshes).toHaveLength(1);
    expect(unpackArray(arm.scene.meshes[0].vertices)).toHaveLength(12);
    expect(unpackArray(arm.scene.meshes[0].faces)).toHaveLength(12);
    expect(arm.scene.lights).toEqual([expect.objectContaining({ type: 'directional', id: 0 })]);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(arm.scene))).toEqual(arm.scene);
  });
});

describe('extractState', () => {
  it('lays out geom poses, camera poses and lights, and follows qpos', async () => {
    const f = await loadFixture('render-box');
    try {
      const layout = stateLayout(f.scene);
      expect(layout.length).toBe(12 * 2 + 12 * 2 + 6 * 0);
      const s0 = f.state([0]);
      expect(Array.from(s0.subarray(0, 3))).toEqual([0, 0, 0.5]);
      expect(Array.from(s0.subarray(3, 12))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      // camera 'front' at (0, -1, 0.5); its z axis (3rd column of xmat) points to -y
      const c = layout.cameraOffset;
      expect(Array.from(s0.subarray(c, c + 3))).toEqual([0, -1, 0.5]);
      expect([s0[c + 3 + 2], s0[c + 3 + 5], s0[c + 3 + 8]].map((v) => Math.round(v))).toEqual([0, -1, 0]);
      const s1 = f.state([0.3]);
      expect(s1[0]).toBeCloseTo(0.3, 6);
      // reuses the buffer it is given
      const out = new Float32Array(layout.length);
      expect(extractState(f.scene, f.data as unknown as MjDataLike, out)).toBe(out);
      expect(() => extractState(f.scene, f.data as unknown as MjDataLike, new Float32Array(3))).toThrow(RenderSceneError);
    } finally {
      f.dispose();
    }
  });

  it('includes light position and direction', async () => {
    const f = await loadFixture('viewer-arm');
    try {
      const s = f.state();
      const o = stateLayout(f.scene).lightOffset;
      expect(Array.from(s.subarray(o, o + 6))).toEqual([0, 0, 3, 0, 0, -1]);
    } finally {
      f.dispose();
    }
  });
});

describe('packed arrays and depth', () => {
  it('round-trips float32 and int32 through base64', () => {
    const f = new Float32Array([1.5, -2.25, 3e-7, 1e9]);
    expect(unpackArray(packArray(f))).toEqual(f);
    const i = new Int32Array([0, -1, 2 ** 31 - 1]);
    expect(unpackArray(packArray(i))).toEqual(i);
    expect(() => unpackArray({ ...packArray(f), length: 5 })).toThrow(/truncated/);
  });

  it('converts metres to 16UC1 millimetres with 0 for no return', () => {
    const img = depthTo16UC1(new Float32Array([0.9, 0, 70, 1.2345]), 2, 2, 1.5);
    expect(img.encoding).toBe('16UC1');
    expect(img.step).toBe(4);
    const v = new DataView(img.data.buffer);
    expect([0, 1, 2, 3].map((k) => v.getUint16(2 * k, true))).toEqual([900, 0, 0, 1235]);
  });
});

describe('episode files', () => {
  it('round-trips JSON and NDJSON and rejects mismatched steps with the line number', async () => {
    const f = await loadFixture('render-box');
    try {
      const steps = [0, 0.1, 0.2].map((x, k) => packFrame({ t: 0.05 * k, state: f.state([x]), joints: [x], chunkPath: [[x, 0, 0.5]] }));
      const ep: Episode = { format: 'armature.episode/1', scene: f.scene, jointNames: ['slide'], instruction: 'push', dt: 0.05, steps };
      for (const text of [episodeToJson(ep), episodeToNdjson(ep)]) {
        const back = parseEpisode(text);
        expect(back.steps).toHaveLength(3);
        expect(frameState(back.scene, back.steps[2])[0]).toBeCloseTo(0.2, 6);
        expect(back.instruction).toBe('push');
      }
      const bad = episodeToNdjson({ ...ep, steps: [...steps, { t: 1, state: [1, 2, 3] }] });
      expect(() => parseEpisode(bad, 'ep.ndjson')).toThrow(/ep\.ndjson line 5: state has 3 floats/);
      expect(() => parseEpisode(episodeToNdjson({ ...ep, steps: [{ ...steps[0], joints: [1, 2] }] }))).toThrow(EpisodeFileError);
      expect(() => parseEpisode('{"format":"other"}')).toThrow(/armature.episode\/1/);
    } finally {
      f.dispose();
    }
  });
});
