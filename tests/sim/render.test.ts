import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumPath } from '../../sim/render/chromium.ts';
import { HeadlessRenderer } from '../../sim/render/renderer.ts';
import { RenderSceneError } from '../../sim/render/scene-description.ts';
import { loadFixture, type LoadedFixture } from './render-fixture.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn(`skipping headless render tests: no Chromium at ${chromiumPath()} (apt-get install -y chromium)`);

const px = (data: Uint8Array, w: number, x: number, y: number): number[] => Array.from(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));

describe.skipIf(!hasChromium)('HeadlessRenderer (real headless Chromium)', () => {
  let f: LoadedFixture;
  let r: HeadlessRenderer;
  beforeAll(async () => {
    f = await loadFixture('render-box');
    r = await HeadlessRenderer.create({ scene: f.scene });
  });
  afterAll(async () => {
    await r?.close();
    f?.dispose();
  });

  it('renders a 128x128 frame: red box at the centre, black background elsewhere', async () => {
    const out = await r.render(f.state([0]), [{ camera: 'front', width: 128, height: 128 }], { stamp: 2.5 });
    const img = out.front.rgb;
    expect(img).toMatchObject({ type: 'raw', encoding: 'rgb8', width: 128, height: 128, step: 384, stamp: 2.5 });
    expect(img.data).toHaveLength(128 * 128 * 3);
    const [cr, cg, cb] = px(img.data, 128, 64, 64);
    // ambient 0.1 + headlight diffuse 0.4 on a face-on red face, plus some specular
    expect(cr).toBeGreaterThan(120);
    expect(cr).toBeGreaterThan(3 * cg);
    expect(cr).toBeGreaterThan(3 * cb);
    for (const [x, y] of [[2, 2], [125, 2], [2, 125], [125, 125], [64, 5], [5, 64]]) {
      expect(px(img.data, 128, x, y)).toEqual([0, 0, 0]);
    }
    // the box spans 0.2 m at 0.9 m with fovy 45: about 0.2 / (2 * 0.9 * tan 22.5) * 128 = 34 px
    let red = 0;
    for (let x = 0; x < 128; x++) if (px(img.data, 128, x, 64)[0] > 60) red++;
    expect(red).toBeGreaterThan(30);
    expect(red).toBeLessThan(40);
  });

  it('follows the state: moving the box out of view leaves background at the centre', async () => {
    const out = await r.render(f.state([0.6]), [{ camera: 'front', width: 128, height: 128 }]);
    expect(px(out.front.rgb.data, 128, 64, 64)).toEqual([0, 0, 0]);
  });

  it('renders several cameras and depth in one call', async () => {
    const out = await r.render(f.state([0]), [
      { camera: 'front', width: 128, height: 128, depth: '16UC1' },
      { camera: 'side', width: 256, height: 256, depth: 'float' },
    ]);
    expect(Object.keys(out)).toEqual(['front', 'side']);
    // front camera at y = -1, box face at y = -0.1: 0.9 m along the view axis
    expect(out.front.depthM?.[64 * 128 + 64]).toBeCloseTo(0.9, 3);
    expect(out.front.depthM?.[0]).toBe(0);
    const d16 = out.front.depth;
    expect(d16?.encoding).toBe('16UC1');
    const dv = new DataView(d16!.data.buffer, d16!.data.byteOffset);
    expect(dv.getUint16(2 * (64 * 128 + 64), true)).toBe(900);
    expect(dv.getUint16(0, true)).toBe(0);
    const side = out.side.rgb;
    expect(side.width).toBe(256);
    const [sr, sg] = px(side.data, 256, 128, 128);
    expect(sr).toBeGreaterThan(3 * sg);
    expect(out.side.depthM?.[128 * 256 + 128]).toBeCloseTo(0.9, 3);
    expect(out.side.depth).toBeUndefined();
  });

  it('answers overlapping render calls in order, each with its own state and cameras', async () => {
    const req = { camera: 'front', width: 128, height: 128 } as const;
    const [inView, outOfView, side] = await Promise.all([
      r.render(f.state([0]), [req], { stamp: 1 }),
      r.render(f.state([0.6]), [req], { stamp: 2 }),
      r.render(f.state([0]), [{ camera: 'side', width: 64, height: 32 }]),
    ]);
    expect(px(inView.front.rgb.data, 128, 64, 64)[0]).toBeGreaterThan(120);
    expect(inView.front.rgb.stamp).toBe(1);
    expect(px(outOfView.front.rgb.data, 128, 64, 64)).toEqual([0, 0, 0]);
    expect(outOfView.front.rgb.stamp).toBe(2);
    expect(side.side.rgb).toMatchObject({ width: 64, height: 32, step: 192 });
    expect(side.side.rgb.data).toHaveLength(64 * 32 * 3);
  });

  it('names a missing camera, a wrong-sized state and a repeated camera', async () => {
    const s = f.state([0]);
    await expect(r.render(s, [{ camera: 'nope', width: 128, height: 128 }])).rejects.toThrow(/camera 'nope' is not in the scene \(has: front, side\)/);
    await expect(r.render(new Float32Array(5), [{ camera: 'front', width: 128, height: 128 }])).rejects.toThrow(RenderSceneError);
    await expect(
      r.render(s, [
        { camera: 'front', width: 128, height: 128 },
        { camera: 'front', width: 64, height: 64 },
      ]),
    ).rejects.toThrow(/requested twice/);
  });

  it('swaps scenes without a new browser', async () => {
    const arm = await loadFixture('viewer-arm');
    const r2 = await HeadlessRenderer.create({ scene: f.scene });
    try {
      await r2.setScene(arm.scene);
      const out = await r2.render(arm.state([0, 0]), [{ camera: 'agentview', width: 128, height: 128 }]);
      // the orange arm stands in the middle of the agentview image
      let orange = 0;
      const d = out.agentview.rgb.data;
      for (let i = 0; i < d.length; i += 3) if (d[i] > 120 && d[i + 1] > 30 && d[i + 1] < 0.8 * d[i] && d[i + 2] < 40) orange++;
      expect(orange).toBeGreaterThan(40);
    } finally {
      await r2.close();
      arm.dispose();
    }
    // the first renderer still works after the second closed
    const again = await r.render(f.state([0]), [{ camera: 'front', width: 128, height: 128 }]);
    expect(px(again.front.rgb.data, 128, 64, 64)[0]).toBeGreaterThan(120);
  });
});

describe.skipIf(!hasChromium)('benchRender', () => {
  it('reports sim.render_fps.128 with two-camera and depth details', async () => {
    const { benchRender } = await import('../../sim/render/bench.ts');
    const [e] = await benchRender({ frames: 5 });
    expect(e.name).toBe('sim.render_fps.128');
    expect(e.unit).toBe('fps');
    expect(e.value).toBeGreaterThan(1);
    expect(e.two_cameras_fps).toBeGreaterThan(1);
  });
});
