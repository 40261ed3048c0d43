/**
 * Scene composition: table, objects, robots (spliced from hardware/ MJCF or a user's file),
 * cameras and lights, as one MJCF document with a `home` keyframe covering every joint.
 * Body order in the worldbody is robots first, then objects, so the keyframe is the robots'
 * own home keys followed by each object's initial pose.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadMjcfFile, type AssetMap } from './assets.ts';
import { SceneError, findElements, fmt, getAttr, parseFragment, type MjcfFragment } from './mjcf.ts';
import type { BuiltinRobot, CameraSpec, LightSpec, Quat, Rgba, SceneDescription, SceneObject, Vec3 } from './types.ts';

/** MJCF files of the robots shipped in hardware/. */
export const ROBOT_MJCF: Readonly<Record<BuiltinRobot, string>> = {
  franka_fr3: fileURLToPath(new URL('../../hardware/franka/fr3.mjcf.xml', import.meta.url)),
  agibot_dual_arm: fileURLToPath(new URL('../../hardware/agibot/dual_arm.mjcf.xml', import.meta.url)),
  ur5e: fileURLToPath(new URL('../../hardware/universal_robots/ur5e.mjcf.xml', import.meta.url)),
};

export interface BuiltScene {
  xml: string;
  /** files for the MuJoCo virtual file system (from user MJCF files), virtual name -> bytes */
  assets: AssetMap;
}

const IDENTITY: Quat = [1, 0, 0, 0];

/** MJCF text of a scene (asset bytes of user MJCF files are dropped; see `buildSceneWithAssets`). */
export function buildScene(desc: SceneDescription): string {
  return buildSceneWithAssets(desc).xml;
}

export function buildSceneWithAssets(desc: SceneDescription): BuiltScene {
  const assets: AssetMap = new Map();
  const defaults: string[] = [];
  const assetXml: string[] = [];
  const bodies: string[] = [];
  const tendon: string[] = [];
  const equality: string[] = [];
  const contact: string[] = [];
  const actuator: string[] = [];
  const sensor: string[] = [];
  const keyQpos: number[] = [];
  const keyCtrl: number[] = [];

  const splice = (f: MjcfFragment): void => {
    defaults.push(f.defaults);
    assetXml.push(f.assets);
    tendon.push(f.tendon);
    equality.push(f.equality);
    contact.push(f.contact);
    actuator.push(f.actuator);
    sensor.push(f.sensor);
  };

  (desc.robots ?? []).forEach((r, i) => {
    let frag: MjcfFragment;
    if (r.kind === 'mjcf') {
      const loaded = loadMjcfFile(r.path, `robot${i}`);
      for (const [k, v] of loaded.assets) assets.set(k, v);
      frag = parseFragment(loaded.xml, loaded.path);
    } else {
      const path = ROBOT_MJCF[r.kind];
      if (path === undefined) throw new SceneError(`scene robot ${i}: unknown kind '${String(r.kind)}'; use ${Object.keys(ROBOT_MJCF).join(', ')} or 'mjcf'`);
      frag = parseFragment(readFileSync(path, 'utf8'), path);
    }
    splice(frag);
    // A static mount body places the robot; free joints cannot live below it.
    if (/<freejoint\b|type\s*=\s*"free"/.test(frag.worldbody)) {
      throw new SceneError(`MJCF ${frag.source}: a robot must not have a free joint (it is mounted at its base pose)`);
    }
    bodies.push(`<body name="robot${i}_mount" pos="${fmt(r.pos ?? [0, 0, 0])}" quat="${fmt(r.quat ?? IDENTITY)}">\n${frag.worldbody}\n</body>`);
    keyQpos.push(...fragmentQpos(frag, null));
    keyCtrl.push(...padded(frag.key?.ctrl ?? [], frag.nu, 0));
  });

  for (const obj of desc.objects ?? []) {
    const built = objectXml(obj, assets);
    bodies.push(built.xml);
    if (built.fragment) splice(built.fragment);
    keyQpos.push(...built.qpos);
    keyCtrl.push(...padded([], built.fragment?.nu ?? 0, 0));
  }

  const names = new Set<string>();
  for (const o of desc.objects ?? []) {
    if (names.has(o.name)) throw new SceneError(`scene: object name '${o.name}' is used twice; names must be unique`);
    names.add(o.name);
  }

  const cameras = [...(desc.cameras ?? [])];
  if (!cameras.some((c) => c.name === 'agentview')) cameras.push(defaultAgentview(desc));
  const lights = desc.lights ?? [
    { pos: [0.5, 0.5, 3], dir: [-0.2, -0.2, -1], directional: true, diffuse: [0.45, 0.45, 0.45], castshadow: true },
    { pos: [-1, -1, 2.5], dir: [0.4, 0.4, -1], directional: true, diffuse: [0.15, 0.15, 0.15], castshadow: false },
  ];

  const timestep = desc.timestep ?? 0.002;
  if (!(timestep > 0 && timestep <= 0.05)) throw new SceneError(`scene: timestep ${timestep} s is out of (0, 0.05]; use e.g. 0.002`);

  const floor = desc.floor ?? true;
  const xml = `<mujoco model="${desc.name ?? 'armature_scene'}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="${timestep}" integrator="implicitfast" cone="elliptic" impratio="10"/>
  <visual>
    <headlight ambient="0.25 0.25 0.25" diffuse="0.25 0.25 0.25" specular="0 0 0"/>
    <global offwidth="1280" offheight="960"/>
  </visual>
  <default>
${defaults.join('\n')}
  </default>
  <asset>
    <texture name="armature_grid" type="2d" builtin="checker" rgb1="0.32 0.34 0.36" rgb2="0.26 0.28 0.3" width="256" height="256"/>
    <material name="armature_floor" texture="armature_grid" texrepeat="8 8" reflectance="0.05"/>
${assetXml.join('\n')}
  </asset>
  <worldbody>
${lights.map(lightXml).join('\n')}
${floor ? '    <geom name="floor" type="plane" size="0 0 0.05" material="armature_floor"/>' : ''}
${desc.table ? tableXml(desc.table) : ''}
${cameras.map(cameraXml).join('\n')}
${bodies.join('\n')}
  </worldbody>
  <tendon>
${tendon.join('\n')}
  </tendon>
  <equality>
${equality.join('\n')}
  </equality>
  <contact>
${contact.join('\n')}
  </contact>
  <actuator>
${actuator.join('\n')}
  </actuator>
  <sensor>
${sensor.join('\n')}
  </sensor>
  <keyframe>
    <key name="home" qpos="${fmt(keyQpos)}"${keyCtrl.length > 0 ? ` ctrl="${fmt(keyCtrl)}"` : ''}/>
  </keyframe>
</mujoco>
`;
  return { xml, assets };
}

function padded(xs: readonly number[], n: number, fill: number): number[] {
  const out = xs.slice(0, n);
  while (out.length < n) out.push(fill);
  return out;
}

/** qpos of a fragment: its own key if complete, else joint defaults (free joint at `freePose`). */
function fragmentQpos(f: MjcfFragment, freePose: { pos: Vec3; quat: Quat } | null): number[] {
  if (f.key && f.key.qpos.length === f.nq) return f.key.qpos;
  const out: number[] = [];
  let usedFree = false;
  for (const m of f.worldbody.matchAll(/<(freejoint|joint)\b[^>]*>/g)) {
    const type = m[1] === 'freejoint' ? 'free' : getAttr(m[0], 'type') ?? 'hinge';
    if (type === 'free') {
      if (!freePose || usedFree) {
        throw new SceneError(`MJCF ${f.source}: only the first top-level body may have a free joint`);
      }
      out.push(...freePose.pos, ...freePose.quat);
      usedFree = true;
    } else if (type === 'ball') out.push(1, 0, 0, 0);
    else out.push(Number(getAttr(m[0], 'ref') ?? 0));
  }
  return out;
}

function normalizeQuat(q: Quat): Quat {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0)) throw new SceneError(`scene: quaternion [${q.join(', ')}] has zero length; use [w, x, y, z] with w=1 for no rotation`);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

function geomAttrs(o: SceneObject, nGeoms: number, rgba: Rgba | undefined): string {
  const parts: string[] = [];
  if (o.mass !== undefined) parts.push(`mass="${+(o.mass / nGeoms).toFixed(9)}"`);
  parts.push(`friction="${o.friction ?? 1} 0.005 0.0001"`, 'condim="4"');
  parts.push(`rgba="${fmt(rgba ?? o.rgba ?? [0.8, 0.3, 0.2, 1])}"`);
  return parts.join(' ');
}

interface BuiltObject {
  xml: string;
  qpos: number[];
  fragment?: MjcfFragment;
}

function objectXml(o: SceneObject, assets: AssetMap): BuiltObject {
  const quat = normalizeQuat(o.quat ?? IDENTITY);
  const pose = `pos="${fmt(o.pos)}" quat="${fmt(quat)}"`;
  const free = !o.fixed && o.type !== 'cabinet' && o.type !== 'knob';
  const joint = free ? `<freejoint name="${o.name}_joint"/>` : '';
  const qpos = free ? [...o.pos, ...quat] : [];
  const body = (geoms: string[], extra = ''): string => {
    const named = geoms.map((g, k) => g.replace('<geom ', `<geom name="${k === 0 ? o.name : `${o.name}_${k}`}" `));
    return `<body name="${o.name}" ${pose}>${joint}\n${named.join('\n')}${extra}\n</body>`;
  };

  switch (o.type) {
    case 'box':
      return { xml: body([`<geom type="box" size="${fmt(o.size)}" ${geomAttrs(o, 1, undefined)}/>`]), qpos };
    case 'cylinder':
      return { xml: body([`<geom type="cylinder" size="${o.radius} ${o.halfHeight}" ${geomAttrs(o, 1, undefined)}/>`]), qpos };
    case 'plate': {
      const hh = o.halfHeight ?? 0.008;
      return { xml: body([`<geom type="cylinder" size="${o.radius} ${hh}" ${geomAttrs(o, 1, o.rgba ?? [0.95, 0.95, 0.95, 1])}/>`]), qpos };
    }
    case 'bowl': {
      const t = o.thickness ?? 0.008;
      const n = o.segments ?? 12;
      const rc = o.radius - t / 2;
      // half chord plus a little overlap so the ring has no gaps
      const halfChord = rc * Math.tan(Math.PI / n) + t / 2;
      const a = geomAttrs(o, n + 1, o.rgba ?? [0.9, 0.9, 0.85, 1]);
      const geoms = [`<geom type="cylinder" pos="0 0 ${t / 2}" size="${o.radius - t} ${t / 2}" ${a}/>`];
      for (let k = 0; k < n; k++) {
        const th = (2 * Math.PI * k) / n;
        geoms.push(
          `<geom type="box" pos="${fmt([rc * Math.cos(th), rc * Math.sin(th), o.height / 2])}" quat="${fmt([Math.cos(th / 2), 0, 0, Math.sin(th / 2)])}" size="${fmt([t / 2, halfChord, o.height / 2])}" ${a}/>`,
        );
      }
      return { xml: body(geoms), qpos };
    }
    case 'basket': {
      const t = o.thickness ?? 0.006;
      const [sx, sy, sz] = o.size;
      const a = geomAttrs(o, 5, o.rgba ?? [0.6, 0.45, 0.25, 1]);
      const geoms = [
        `<geom type="box" pos="0 0 ${t / 2}" size="${fmt([sx, sy, t / 2])}" ${a}/>`,
        `<geom type="box" pos="${fmt([sx - t / 2, 0, sz])}" size="${fmt([t / 2, sy, sz])}" ${a}/>`,
        `<geom type="box" pos="${fmt([-sx + t / 2, 0, sz])}" size="${fmt([t / 2, sy, sz])}" ${a}/>`,
        `<geom type="box" pos="${fmt([0, sy - t / 2, sz])}" size="${fmt([sx - t, t / 2, sz])}" ${a}/>`,
        `<geom type="box" pos="${fmt([0, -sy + t / 2, sz])}" size="${fmt([sx - t, t / 2, sz])}" ${a}/>`,
      ];
      return { xml: body(geoms), qpos };
    }
    case 'cabinet': {
      const t = 0.015;
      const [sx, sy, sz] = o.size;
      const travel = o.travel ?? 1.6 * sx * 0.8;
      const a = geomAttrs({ ...o, mass: undefined }, 1, o.rgba ?? [0.55, 0.4, 0.3, 1]);
      const carcass = [
        `<geom type="box" pos="${fmt([0, 0, 2 * sz - t / 2])}" size="${fmt([sx, sy, t / 2])}" ${a}/>`,
        `<geom type="box" pos="${fmt([0, 0, t / 2])}" size="${fmt([sx, sy, t / 2])}" ${a}/>`,
        `<geom type="box" pos="${fmt([0, sy - t / 2, sz])}" size="${fmt([sx, t / 2, sz])}" ${a}/>`,
        `<geom type="box" pos="${fmt([0, -sy + t / 2, sz])}" size="${fmt([sx, t / 2, sz])}" ${a}/>`,
        `<geom type="box" pos="${fmt([sx - t / 2, 0, sz])}" size="${fmt([t / 2, sy, sz])}" ${a}/>`,
      ];
      // drawer: a tray behind a front panel, sliding out along local -x; every part keeps a
      // 2-4 mm gap to the carcass (a flush front jams: a fixed carcass is part of the world body,
      // so MuJoCo's parent filter does not exclude it)
      const dx = sx - t;
      const dy = sy - t - 0.004;
      const dz = sz - t - 0.004;
      const m = (o.mass ?? 1) / 6;
      const da = `mass="${+m.toFixed(9)}" friction="${o.friction ?? 1} 0.005 0.0001" rgba="${fmt(o.rgba ?? [0.65, 0.5, 0.38, 1])}"`;
      const drawer = `
<body name="${o.name}_drawer" pos="0 0 ${sz}">
  <joint name="${o.name}_drawer_joint" type="slide" axis="-1 0 0" range="0 ${+travel.toFixed(6)}" damping="5" armature="0.01"/>
  <geom name="${o.name}_drawer_front" type="box" pos="${fmt([-sx + 0.006, 0, 0])}" size="${fmt([0.006, sy - t - 0.002, sz - t - 0.002])}" ${da}/>
  <geom name="${o.name}_drawer_bottom" type="box" pos="${fmt([0, 0, -dz + 0.004])}" size="${fmt([dx - 0.01, dy, 0.004])}" ${da}/>
  <geom name="${o.name}_drawer_back" type="box" pos="${fmt([dx - 0.012, 0, 0])}" size="${fmt([0.004, dy, dz])}" ${da}/>
  <geom name="${o.name}_drawer_left" type="box" pos="${fmt([0, dy - 0.004, 0])}" size="${fmt([dx - 0.01, 0.004, dz])}" ${da}/>
  <geom name="${o.name}_drawer_right" type="box" pos="${fmt([0, -dy + 0.004, 0])}" size="${fmt([dx - 0.01, 0.004, dz])}" ${da}/>
  <geom name="${o.name}_handle" type="capsule" fromto="${fmt([-sx - 0.035, -0.05, 0])} ${fmt([-sx - 0.035, 0.05, 0])}" size="0.008" ${da}/>
  <geom name="${o.name}_handle_1" type="box" pos="${fmt([-sx - 0.02, -0.05, 0])}" size="0.015 0.005 0.005" ${da}/>
  <geom name="${o.name}_handle_2" type="box" pos="${fmt([-sx - 0.02, 0.05, 0])}" size="0.015 0.005 0.005" ${da}/>
</body>`;
      return { xml: body(carcass, drawer), qpos: [0] };
    }
    case 'knob': {
      const r = o.radius ?? 0.02;
      const plate = [`<geom type="box" pos="0 0 0.005" size="${fmt([3 * r, 3 * r, 0.005])}" ${geomAttrs({ ...o, mass: undefined }, 1, o.rgba ?? [0.15, 0.15, 0.15, 1])}/>`];
      const knob = `
<body name="${o.name}_knob" pos="0 0 0.01">
  <joint name="${o.name}_joint" type="hinge" axis="0 0 1" damping="0.02" frictionloss="0.005" armature="0.0005"/>
  <geom name="${o.name}_knob_c" type="cylinder" pos="0 0 0.012" size="${r} 0.012" mass="0.02" friction="${o.friction ?? 1} 0.01 0.001" condim="4" rgba="0.8 0.8 0.8 1"/>
  <geom name="${o.name}_pointer" type="box" pos="${fmt([r * 0.5, 0, 0.027])}" size="${fmt([r * 0.5, 0.003, 0.003])}" mass="0.002" rgba="0.9 0.1 0.1 1"/>
</body>`;
      return { xml: body(plate, knob), qpos: [0] };
    }
    case 'mjcf': {
      const loaded = loadMjcfFile(o.path, `object_${o.name}`);
      for (const [k, v] of loaded.assets) assets.set(k, v);
      const frag = parseFragment(loaded.xml, loaded.path);
      const top = findElements(frag.worldbody, 'body')[0];
      if (!top) throw new SceneError(`MJCF ${loaded.path}: object '${o.name}' has no <body> in its worldbody`);
      const placed = top.openTag
        .replace(/\s(pos|quat|euler|axisangle|xyaxes|zaxis)\s*=\s*("[^"]*"|'[^']*')/g, '')
        .replace(/^<body/, `<body ${pose}`);
      const worldbody = frag.worldbody.slice(0, top.start) + placed + frag.worldbody.slice(top.start + top.openTag.length);
      let hasFree = false;
      for (const m of frag.worldbody.slice(top.start, top.end).matchAll(/<(freejoint|joint)\b[^>]*>/g)) {
        if (m[1] === 'freejoint' || getAttr(m[0], 'type') === 'free') hasFree = true;
      }
      if (!hasFree && !o.fixed) {
        throw new SceneError(`MJCF ${loaded.path}: object '${o.name}' has no free joint in its first body; add <freejoint/> or set fixed: true`);
      }
      const withPose: MjcfFragment = { ...frag, worldbody, key: null };
      return { xml: worldbody, qpos: fragmentQpos(withPose, { pos: o.pos, quat }), fragment: withPose };
    }
  }
}

function tableXml(t: NonNullable<SceneDescription['table']>): string {
  const th = t.thickness ?? 0.05;
  const [hx, hy] = t.halfSize;
  const [x, y, z] = t.pos;
  const legs: string[] = [];
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      legs.push(`    <geom name="table_leg_${legs.length}" type="capsule" fromto="${fmt([x + sx * (hx - 0.05), y + sy * (hy - 0.05), 0])} ${fmt([x + sx * (hx - 0.05), y + sy * (hy - 0.05), z - th])}" size="0.025" rgba="0.3 0.3 0.3 1"/>`);
    }
  }
  return `    <geom name="table" type="box" pos="${fmt([x, y, z - th / 2])}" size="${fmt([hx, hy, th / 2])}" rgba="${fmt(t.rgba ?? [0.75, 0.65, 0.5, 1])}" friction="${t.friction ?? 1} 0.005 0.0001"/>\n${legs.join('\n')}`;
}

/** MuJoCo `xyaxes` for a camera at `pos` looking at `target` with world z up. */
export function lookAtXyaxes(pos: Vec3, target: Vec3): [number, number, number, number, number, number] {
  const f = norm3([target[0] - pos[0], target[1] - pos[1], target[2] - pos[2]]);
  let right = cross(f, [0, 0, 1]);
  if (Math.hypot(...right) < 1e-6) right = cross(f, [0, 1, 0]); // looking straight up/down
  right = norm3(right);
  const up = cross(right, f);
  return [right[0], right[1], right[2], up[0], up[1], up[2]];
}

function cross(a: readonly number[], b: readonly number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function norm3(a: readonly number[]): [number, number, number] {
  const n = Math.hypot(a[0], a[1], a[2]);
  if (!(n > 0)) throw new SceneError('scene: camera target equals its position; move one of them');
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** LIBERO-like front view: across the table from the robot, looking back and down. */
function defaultAgentview(desc: SceneDescription): CameraSpec {
  const t = desc.table?.pos ?? [0.5, 0, 0.8];
  return { name: 'agentview', pos: [t[0] + 0.8, t[1], t[2] + 0.75], target: [t[0] - 0.1, t[1], t[2]], fovy: 45 };
}

function cameraXml(c: CameraSpec): string {
  return `    <camera name="${c.name}" mode="fixed" pos="${fmt(c.pos)}" xyaxes="${fmt(lookAtXyaxes(c.pos, c.target))}" fovy="${c.fovy ?? 45}"/>`;
}

function lightXml(l: LightSpec, i: number): string {
  return `    <light name="light${i}" pos="${fmt(l.pos)}" dir="${fmt(l.dir)}" directional="${l.directional ?? true}" diffuse="${fmt(l.diffuse ?? [0.6, 0.6, 0.6])}" castshadow="${l.castshadow ?? false}"/>`;
}
