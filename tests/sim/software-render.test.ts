/**
 * SoftwareRenderer without a browser: projection, colour, depth, clipping,
 * transparency, errors, and SimRobot's default renderer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import loadMujoco, { type MainModule } from '@mujoco/mujoco';
import { describeScene, extractState, RenderSceneError, type MjDataLike, type MjModelLike, type RenderScene } from '../../sim/render/scene-description.ts';
import { SoftwareRenderer } from '../../sim/render/software/renderer.ts';
import { loadFixture, type LoadedFixture } from './render-fixture.ts';

const px = (data: Uint8Array, w: number, x: number, y: number): number[] => Array.from(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));

let mj: MainModule;

/** Compile an inline MJCF and return its scene and render state at qpos. */
function sceneOf(xml: string, qpos?: readonly number[]): { scene: RenderScene; state: Float32Array } {
  const model = mj.MjModel.from_xml_string(xml);
  const data = new mj.MjData(model);
  try {
    if (qpos) (data.qpos as Float64Array).set(qpos);
    mj.mj_forward(model, data);
    const scene = describeScene(model as unknown as MjModelLike);
    return { scene, state: extractState(scene, data as unknown as MjDataLike) };
  } finally {
    data.delete();
    model.delete();
  }
}

beforeAll(async () => {
  mj = await loadMujoco();
});

describe('SoftwareRenderer: a red box 0.9 m in front of a 45 deg camera (render-box fixture)', () => {
  let f: LoadedFixture;
  let r: SoftwareRenderer;
  beforeAll(async () => {
    f = await loadFixture('render-box');
    r = await SoftwareRenderer.create({ scene: f.scene });
  });
  afterAll(async () => {
    await r?.close();
    f?.dispose();
  });

  it('draws the front face exactly on its projected pixel rectangle', async () => {
    const out = await r.render(f.state([0]), [{ camera: 'front', width: 128, height: 128 }], { stamp: 2.5 });
    const img = out.front.rgb;
    expect(img).toMatchObject({ type: 'raw', encoding: 'rgb8', width: 128, height: 128, step: 384, stamp: 2.5 });
    // half width 0.1 / 0.9 * (1 / tan 22.5 deg) * 64 px = 17.17 px: edges at 46.83 and 81.17,
    // so pixel centres 47.5 .. 80.5 are inside (34 px), 46.5 and 81.5 outside
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        const inside = x >= 47 && x <= 80 && y >= 47 && y <= 80;
        const [cr] = px(img.data, 128, x, y);
        if (inside) expect(cr, `pixel ${x},${y}`).toBeGreaterThan(120);
        else expect(px(img.data, 128, x, y), `pixel ${x},${y}`).toEqual([0, 0, 0]);
      }
    }
  });

  it('lights it like MuJoCo: ambient 0.1 + headlight 0.4 on red, plus white specular 0.5 * 0.4 at the centre', async () => {
    const out = await r.render(f.state([0]), [{ camera: 'front', width: 128, height: 128 }]);
    // centre: n.l = n.h = 1 -> r = 0.1 + 0.4 + 0.2 = 0.7 (178.5), g = b = 0.2 (51)
    const [cr, cg, cb] = px(out.front.rgb.data, 128, 64, 64);
    expect(cr).toBeGreaterThanOrEqual(176);
    expect(cr).toBeLessThanOrEqual(180);
    expect(cg).toBeGreaterThanOrEqual(48);
    expect(cg).toBeLessThanOrEqual(52);
    expect(cb).toBe(cg);
    // at the face's corner pixel the view ray tilts by theta, the half vector by theta / 2:
    // specular 0.2 * cos(theta / 2)^64; the headlight is directional, so the diffuse red stays 0.5
    const t = ((64 - 47.5) / 64) * Math.tan((22.5 * Math.PI) / 180);
    const theta = Math.atan(Math.hypot(t, t));
    const spec = 255 * 0.2 * Math.pow(Math.cos(theta / 2), 64);
    const [kr, kg, kb] = px(out.front.rgb.data, 128, 47, 47);
    expect(Math.abs(kg - spec)).toBeLessThanOrEqual(2);
    expect(kb).toBe(kg);
    expect(Math.abs(kr - (127.5 + spec))).toBeLessThanOrEqual(2);
  });

  it('returns z-depth in metres and ROS 16UC1 millimetres, 0 where nothing is hit', async () => {
    const out = await r.render(f.state([0]), [
      { camera: 'front', width: 128, height: 128, depth: '16UC1' },
      { camera: 'side', width: 256, height: 256, depth: 'float' },
    ]);
    expect(Object.keys(out)).toEqual(['front', 'side']);
    const d = out.front.depthM!;
    // the face is the plane y = -0.1, 0.9 m along the view axis at every pixel
    for (const [x, y] of [[64, 64], [47, 47], [80, 80], [47, 80]]) expect(d[y * 128 + x]).toBeCloseTo(0.9, 4);
    expect(d[0]).toBe(0);
    expect(d[46 * 128 + 64]).toBe(0);
    const d16 = out.front.depth!;
    expect(d16).toMatchObject({ encoding: '16UC1', width: 128, height: 128, step: 256, bigEndian: false });
    const dv = new DataView(d16.data.buffer, d16.data.byteOffset);
    expect(dv.getUint16(2 * (64 * 128 + 64), true)).toBe(900);
    expect(dv.getUint16(0, true)).toBe(0);
    expect(out.side.depthM?.[128 * 256 + 128]).toBeCloseTo(0.9, 4);
    expect(out.side.depth).toBeUndefined();
  });

  it('follows the state and hands out fresh buffers each call', async () => {
    const req = [{ camera: 'front', width: 128, height: 128 }] as const;
    const inView = await r.render(f.state([0]), req);
    const moved = await r.render(f.state([0.6]), req);
    expect(px(moved.front.rgb.data, 128, 64, 64)).toEqual([0, 0, 0]);
    // the first frame was not overwritten by the second render
    expect(px(inView.front.rgb.data, 128, 64, 64)[0]).toBeGreaterThan(120);
    const again = await r.render(f.state([0]), req);
    expect(again.front.rgb.data).toEqual(inView.front.rgb.data);
  });

  it('names a missing camera, a bad size, a wrong-sized state and a repeated camera', async () => {
    const s = f.state([0]);
    await expect(r.render(s, [{ camera: 'nope', width: 128, height: 128 }])).rejects.toThrow(/camera 'nope' is not in the scene \(has: front, side\)/);
    await expect(r.render(s, [{ camera: 'front', width: 0, height: 128 }])).rejects.toThrow(/camera 'front' size 0x128 is invalid: use integer sizes in 1\.\.4096/);
    await expect(r.render(s, [{ camera: 'front', width: 12.5, height: 12 }])).rejects.toThrow(RenderSceneError);
    await expect(r.render(new Float32Array(5), [{ camera: 'front', width: 128, height: 128 }])).rejects.toThrow(/state has 5 floats, the scene needs/);
    await expect(
      r.render(s, [
        { camera: 'front', width: 128, height: 128 },
        { camera: 'front', width: 64, height: 64 },
      ]),
    ).rejects.toThrow(/requested twice/);
  });

  it('refuses to render once closed', async () => {
    const r2 = await SoftwareRenderer.create({ scene: f.scene });
    await r2.close();
    await expect(r2.render(f.state([0]), [{ camera: 'front', width: 8, height: 8 }])).rejects.toThrow(/SoftwareRenderer is closed/);
  });

  it('swaps scenes and keeps a background colour', async () => {
    const arm = await loadFixture('viewer-arm');
    const r2 = await SoftwareRenderer.create({ scene: f.scene, background: [0, 0, 1] });
    try {
      await r2.setScene(arm.scene);
      const out = await r2.render(arm.state([0, 0]), [{ camera: 'agentview', width: 128, height: 128 }]);
      const d = out.agentview.rgb.data;
      let orange = 0;
      for (let i = 0; i < d.length; i += 3) if (d[i] > 120 && d[i + 1] > 30 && d[i + 1] < 0.8 * d[i] && d[i + 2] < 40) orange++;
      expect(orange).toBeGreaterThan(40);
      // the floor is 2 m wide: the sky above it is the blue background
      expect(px(d, 128, 2, 0)).toEqual([0, 0, 255]);
    } finally {
      await r2.close();
      arm.dispose();
    }
  });
});

describe('SoftwareRenderer: clipping and transparency', () => {
  const FLOOR = `
<mujoco>
  <visual><headlight active="1" ambient="0.2 0.2 0.2" diffuse="0.5 0.5 0.5"/></visual>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 1" rgba="0 1 0 1"/>
    <!-- 0.5 m above the floor, looking horizontally along +y -->
    <camera name="level" pos="0 0 0.5" xyaxes="1 0 0 0 0 1" fovy="45"/>
    <!-- inside a box: every face crosses the near plane or surrounds the eye -->
    <camera name="inside" pos="3 0 0.5" xyaxes="1 0 0 0 0 1" fovy="60"/>
    <geom name="room" type="box" pos="3 0 0.5" size="0.2 0.2 0.2" rgba="1 0 0 1"/>
  </worldbody>
</mujoco>`;

  it('clips an infinite floor at the near plane: floor below the horizon only, depth as the ray hits it', async () => {
    const { scene, state } = sceneOf(FLOOR);
    const r = await SoftwareRenderer.create({ scene });
    const out = await r.render(state, [{ camera: 'level', width: 128, height: 128, depth: 'float' }]);
    expect(r.lastStats.clipped).toBeGreaterThan(0);
    const img = out.level.rgb.data;
    // the horizon is row 64; the floor's far edge (46 m) sits ~1.7 px below it
    for (let y = 0; y < 64; y++) for (let x = 0; x < 128; x += 7) expect(px(img, 128, x, y), `pixel ${x},${y}`).toEqual([0, 0, 0]);
    // seen at a grazing angle the floor is lit by ambient 0.2 plus a little headlight: green, at least 51
    for (let y = 70; y < 128; y++) {
      for (let x = 0; x < 128; x += 7) {
        const [fr, fg, fb] = px(img, 128, x, y);
        expect([fr, fb], `pixel ${x},${y}`).toEqual([0, 0]);
        expect(fg, `pixel ${x},${y}`).toBeGreaterThanOrEqual(51);
      }
    }
    // bottom row: ray slope (127.5 - 64) / 64 * tan(22.5 deg) = 0.411 -> z-depth 0.5 / 0.411 = 1.217 m
    const slope = ((127.5 - 64) / 64) * Math.tan((22.5 * Math.PI) / 180);
    expect(out.level.depthM![127 * 128 + 64]).toBeCloseTo(0.5 / slope, 3);
    await r.close();
  });

  it('leaves no holes when the camera sits inside a box (every face clipped or behind)', async () => {
    const { scene, state } = sceneOf(FLOOR);
    const r = await SoftwareRenderer.create({ scene });
    const out = await r.render(state, [{ camera: 'inside', width: 64, height: 64, depth: 'float' }]);
    // the box's faces point outwards: from inside they are back faces and culled, as in three.js
    const d = out.inside.depthM!;
    const img = out.inside.rgb.data;
    let red = 0;
    for (let i = 0; i < 64 * 64; i++) if (img[3 * i] > 0) red++;
    expect(red).toBe(0);
    // but the floor below the horizon is drawn through it, at sane depths
    expect(d[63 * 64 + 32]).toBeGreaterThan(0.5);
    expect(d[63 * 64 + 32]).toBeLessThan(1);
    await r.close();
  });

  it('blends transparent geoms over what is behind them', async () => {
    const xml = `
<mujoco>
  <visual><headlight active="1" ambient="1 1 1" diffuse="0 0 0"/></visual>
  <worldbody>
    <camera name="c" pos="0 -1 0" xyaxes="1 0 0 0 0 1" fovy="45"/>
    <geom name="wall" type="box" pos="0 0.5 0" size="1 0.01 1" rgba="0 0 1 1"/>
    <geom name="glass" type="box" pos="0 0 0" size="0.1 0.01 0.1" rgba="1 0 0 0.5"/>
  </worldbody>
</mujoco>`;
    const { scene, state } = sceneOf(xml);
    const r = await SoftwareRenderer.create({ scene });
    const out = await r.render(state, [{ camera: 'c', width: 64, height: 64, depth: 'float' }]);
    // ambient 1, no diffuse and no specular term: glass = 0.5 red + 0.5 blue
    const [cr, cg, cb] = px(out.c.rgb.data, 64, 32, 32);
    expect(cr).toBeGreaterThanOrEqual(126);
    expect(cr).toBeLessThanOrEqual(129);
    expect(cg).toBe(0);
    expect(cb).toBeGreaterThanOrEqual(126);
    expect(cb).toBeLessThanOrEqual(129);
    expect(px(out.c.rgb.data, 64, 2, 2)).toEqual([0, 0, 255]);
    // the glass writes depth, as three.js's transparent materials do: 0.99 m to its front face
    expect(out.c.depthM![32 * 64 + 32]).toBeCloseTo(0.99, 4);
    await r.close();
  });
});

describe('SimRobot renders policy cameras in-process by default', () => {
  it('observes 128x128 rgb8 frames from agentview and eye_in_hand without a browser', async () => {
    const { SimRobot } = await import('../../sim/env/sim-robot.ts');
    const { scenePreset } = await import('../../sim/env/presets.ts');
    const { loadRobot } = await import('../../src/embodiment/registry.ts');
    const preset = scenePreset('franka');
    const robot = await SimRobot.create({ scene: preset.scene, robot: loadRobot(preset.robot), commandMode: 'joint_position', cameras: ['agentview', 'eye_in_hand'], policyHz: 20 });
    try {
      const obs = await robot.observe('pick');
      for (const cam of ['agentview', 'eye_in_hand']) {
        const f = obs.images[cam];
        expect(f).toMatchObject({ type: 'raw', encoding: 'rgb8', width: 128, height: 128, stamp: obs.stamp });
        // the table fills much of both views: many pixels are lit
        const d = f!.type === 'raw' ? f!.data : new Uint8Array(0);
        let lit = 0;
        for (let i = 0; i < d.length; i += 3) if (d[i] + d[i + 1] + d[i + 2] > 150) lit++;
        expect(lit, cam).toBeGreaterThan(128 * 128 * 0.5);
      }
    } finally {
      await robot.close();
    }
  });
});

describe('benchRender (software only)', () => {
  it('reports sim.render_fps.128.software with two-camera and depth details', async () => {
    const { benchRender } = await import('../../sim/render/bench.ts');
    const [e] = await benchRender({ frames: 5, renderers: ['software'] });
    expect(e.name).toBe('sim.render_fps.128.software');
    expect(e.unit).toBe('fps');
    expect(e.value).toBeGreaterThan(10);
    expect(e.two_cameras_fps).toBeGreaterThan(5);
    expect(e.triangles).toBeGreaterThan(50);
  });
});
