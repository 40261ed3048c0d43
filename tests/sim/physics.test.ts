import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlLoop, DUAL_ARM_LEFT_JOINTS, DUAL_ARM_RIGHT_JOINTS, FR3_ARM_JOINTS, controlPreset } from '../../sim/physics/controllers.ts';
import { Simulation, SimulationError } from '../../sim/physics/simulation.ts';
import { MjcfAssetError } from '../../sim/scene/mjcf.ts';
import type { SceneDescription } from '../../sim/scene/types.ts';

const frankaScene: SceneDescription = {
  table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] },
  robots: [{ kind: 'franka_fr3', pos: [0, 0, 0.4] }],
  objects: [{ type: 'box', name: 'cube', pos: [0.5, 0, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1 }],
};

/** closed-loop scripted move: TCP delta capped at 2 cm per policy step, gripper width fixed */
function moveTcp(sim: Simulation, loop: ControlLoop, site: string, target: number[], width: number, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const p = sim.sitePose(site).pos;
    const a = [0, 0, 0, 0, 0, 0, width];
    for (let i = 0; i < 3; i++) a[i] = Math.max(-0.02, Math.min(0.02, target[i] - p[i]));
    loop.act(a);
  }
}

/** angle of A B^T, rad */
function rotationAngle(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let tr = 0;
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) tr += a[i * 3 + k] * b[i * 3 + k];
  return Math.acos(Math.max(-1, Math.min(1, (tr - 1) / 2)));
}

describe('Franka FR3 model', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await Simulation.create({ scene: frankaScene, seed: 3 });
  });
  afterAll(() => sim.dispose());

  it('starts at the home keyframe with the TCP where the FR3 kinematics put it', () => {
    expect(Array.from(sim.jointPositions(FR3_ARM_JOINTS))).toEqual([0, -0.785, 0, -2.356, 0, 1.571, 0.785]);
    const tcp = sim.sitePose('tcp');
    // forward kinematics of the franka_description origins + 0.1034 m TCP, base raised 0.4 m
    expect(tcp.pos[0]).toBeCloseTo(0.30702, 4);
    expect(tcp.pos[1]).toBeCloseTo(0, 6);
    expect(tcp.pos[2]).toBeCloseTo(0.48687 + 0.4, 4);
    expect(tcp.mat[8]).toBeCloseTo(-1, 6); // gripper points down
    expect(sim.jointPositions(['fr3_finger_joint1', 'fr3_finger_joint2'])[0]).toBeCloseTo(0.04, 6);
  });

  it('uses the FR3 URDF joint limits for the actuator ranges', () => {
    const close = (name: string, lo: number, hi: number): void => {
      const [a, b] = sim.controlRange(name);
      expect(a).toBeCloseTo(lo, 9);
      expect(b).toBeCloseTo(hi, 9);
    };
    close('fr3_joint1', -2.7437, 2.7437);
    close('fr3_joint2', -1.7837, 1.7837);
    close('fr3_joint4', -3.0421, -0.1518);
    close('fr3_joint6', 0.5445, 4.5169);
    close('fr3_joint7', -3.0159, 3.0159);
    close('fr3_gripper', 0, 0.04);
  });

  it('grasps a box with friction and lifts it 10 cm (OSC pose + gripper)', () => {
    sim.reset();
    const loop = new ControlLoop(sim, { controllers: controlPreset('franka_fr3', 'osc_pose') });
    expect(loop.actionDim).toBe(7);
    expect(loop.substeps).toBe(25);
    const z0 = sim.bodyPose('cube').pos[2];
    moveTcp(sim, loop, 'tcp', [0.5, 0, 0.55], 0.08, 30);
    moveTcp(sim, loop, 'tcp', [0.5, 0, 0.428], 0.08, 20);
    moveTcp(sim, loop, 'tcp', [0.5, 0, 0.428], 0, 10);
    moveTcp(sim, loop, 'tcp', [0.5, 0, 0.58], 0, 30);
    const z1 = sim.bodyPose('cube').pos[2];
    expect(z1 - z0).toBeGreaterThanOrEqual(0.1);
    expect(sim.inContact('cube', 'fr3_leftfinger')).toBe(true);
    expect(sim.inContact('cube', 'fr3_rightfinger')).toBe(true);
    expect(sim.inContact('cube', 'table')).toBe(false);
    // fingers stopped on the 5 cm box: 2.5 cm each
    expect(sim.jointPositions(['fr3_finger_joint1'])[0]).toBeCloseTo(0.025, 2);
  });

  it('rejects non-finite actions and wrong action sizes', () => {
    const loop = new ControlLoop(sim, { controllers: controlPreset('franka_fr3', 'joint_position') });
    expect(() => loop.act([0, 0, 0])).toThrow(/take 8/);
    expect(() => loop.act([0, Number.NaN, 0, -2, 0, 1.5, 0, 0.08])).toThrow(/finite/);
  });

  it('names unknown joints and their known alternatives', () => {
    expect(() => sim.jointPositions(['joint_x'])).toThrow(SimulationError);
    expect(() => sim.jointPositions(['joint_x'])).toThrow(/fr3_joint1/);
  });
});

describe('dual arm', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await Simulation.create({ scene: { table: { pos: [0.6, 0, 0.75], halfSize: [0.3, 0.6] }, robots: [{ kind: 'agibot_dual_arm' }] } });
  });
  afterAll(() => sim.dispose());

  it('moves both arms to commanded joint poses (error < 0.02 rad)', () => {
    sim.reset();
    const loop = new ControlLoop(sim, { controllers: controlPreset('agibot_dual_arm', 'joint_position') });
    expect(loop.actionDim).toBe(16);
    const left = [0.6, 0.2, -0.3, 1.0, 0.4, -1.0, 0.5];
    const right = [0.5, 0.3, 0.2, 1.2, -0.3, -0.8, -0.4];
    for (let s = 0; s < 30; s++) loop.act([...left, 0.06, ...right, 0.02]);
    const ql = sim.jointPositions(DUAL_ARM_LEFT_JOINTS);
    const qr = sim.jointPositions(DUAL_ARM_RIGHT_JOINTS);
    for (let i = 0; i < 7; i++) {
      expect(Math.abs(ql[i] - left[i])).toBeLessThan(0.02);
      expect(Math.abs(qr[i] - right[i])).toBeLessThan(0.02);
    }
    expect(sim.jointPositions(['gripper_l_finger_joint1'])[0]).toBeCloseTo(0.03, 2);
    expect(sim.jointPositions(['gripper_r_finger_joint2'])[0]).toBeCloseTo(0.01, 2);
  });

  it('moves both TCPs to commanded poses via the OSC controller', () => {
    sim.reset();
    const loop = new ControlLoop(sim, { controllers: controlPreset('agibot_dual_arm', 'osc_pose') });
    expect(loop.actionDim).toBe(14);
    const l0 = sim.sitePose('left_tcp');
    const r0 = sim.sitePose('right_tcp');
    const lt = [l0.pos[0] + 0.06, l0.pos[1] - 0.05, l0.pos[2] - 0.08];
    const rt = [r0.pos[0] + 0.05, r0.pos[1] + 0.08, r0.pos[2] + 0.05];
    // also rotate the right gripper 0.3 rad about world z, in steps of 0.03 rad
    for (let s = 0; s < 40; s++) {
      const pl = sim.sitePose('left_tcp').pos;
      const pr = sim.sitePose('right_tcp').pos;
      const a = new Array<number>(14).fill(0);
      for (let i = 0; i < 3; i++) {
        a[i] = Math.max(-0.02, Math.min(0.02, lt[i] - pl[i]));
        a[7 + i] = Math.max(-0.02, Math.min(0.02, rt[i] - pr[i]));
      }
      a[6] = 0.08;
      a[12] = s < 10 ? 0.03 : 0;
      a[13] = 0.08;
      loop.act(a);
    }
    const l1 = sim.sitePose('left_tcp');
    const r1 = sim.sitePose('right_tcp');
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(l1.pos[i] - lt[i])).toBeLessThan(0.005);
      expect(Math.abs(r1.pos[i] - rt[i])).toBeLessThan(0.005);
    }
    // left orientation unchanged; right yawed by 0.3 rad: R1 = Rz(0.3) R0 (within 0.02 rad)
    expect(rotationAngle(l1.mat, l0.mat)).toBeLessThan(0.02);
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const rz = [c, -s, 0, s, c, 0, 0, 0, 1];
    const expected = new Float64Array(9);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 3; k++) expected[i * 3 + j] += rz[i * 3 + k] * r0.mat[k * 3 + j];
      }
    }
    expect(rotationAngle(r1.mat, expected)).toBeLessThan(0.02);
    expect(rotationAngle(r1.mat, r0.mat)).toBeGreaterThan(0.28);
  });
});

describe('determinism and state', () => {
  function rollout(sim: Simulation, steps: number): Float64Array[] {
    const loop = new ControlLoop(sim, { controllers: controlPreset('franka_fr3', 'libero_osc_pose') });
    const out: Float64Array[] = [];
    for (let s = 0; s < steps; s++) {
      const a = Array.from({ length: 7 }, () => 2 * sim.rng.uniform() - 1);
      loop.act(a);
      out.push(Float64Array.from(sim.data.qpos as Float64Array));
    }
    return out;
  }

  it('same seed and actions give a bitwise identical trajectory', async () => {
    const a = await Simulation.create({ scene: frankaScene, seed: 11 });
    const b = await Simulation.create({ scene: frankaScene, seed: 11 });
    const ta = rollout(a, 15);
    const tb = rollout(b, 15);
    for (let i = 0; i < ta.length; i++) expect(Buffer.from(tb[i].buffer).equals(Buffer.from(ta[i].buffer))).toBe(true);
    const c = await Simulation.create({ scene: frankaScene, seed: 12 });
    const tc = rollout(c, 15);
    expect(Array.from(tc[14])).not.toEqual(Array.from(ta[14]));
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('restoreState then replay gives the same trajectory', async () => {
    const sim = await Simulation.create({ scene: frankaScene, seed: 5 });
    const loop = new ControlLoop(sim, { controllers: controlPreset('franka_fr3', 'joint_position') });
    const target = [0.3, -0.5, 0.1, -2.0, 0.1, 1.6, 0.5, 0.05];
    for (let s = 0; s < 5; s++) loop.act(target);
    const saved = sim.saveState();
    loop.reset();
    const t0 = sim.time;
    const replay = (): Float64Array[] => {
      const out: Float64Array[] = [];
      for (let s = 0; s < 8; s++) {
        loop.act([0.3 + 0.05 * s, -0.5, 0.1, -2.0, 0.1, 1.6, 0.5, 0.05 - 0.005 * s]);
        out.push(Float64Array.from(sim.data.qpos as Float64Array));
      }
      return out;
    };
    const first = replay();
    sim.restoreState(saved);
    loop.reset();
    expect(sim.time).toBe(t0);
    const second = replay();
    expect(second.map((q) => Array.from(q))).toEqual(first.map((q) => Array.from(q)));
    expect(() => sim.restoreState(new Float64Array(3))).toThrow(/full physics state/);
    sim.dispose();
  });
});

describe('external MJCF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-mjcf-'));
  const tet = 'v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n';
  const objXml = (mesh: string): string => `<mujoco model="thing">
  <compiler angle="radian" meshdir="meshes"/>
  <asset><mesh file="${mesh}" scale="0.05 0.05 0.05"/></asset>
  <worldbody><body name="thing"><freejoint/><geom type="mesh" mesh="tet" mass="0.05"/></body></worldbody>
</mujoco>`;

  it('loads an object MJCF with a mesh beside it into a scene', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'meshes'), { recursive: true });
    writeFileSync(join(dir, 'meshes', 'tet.obj'), tet);
    writeFileSync(join(dir, 'thing.xml'), objXml('tet.obj'));
    const sim = await Simulation.create({
      scene: { table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.4] }, objects: [{ type: 'mjcf', name: 'thing', path: join(dir, 'thing.xml'), pos: [0.5, 0.1, 0.5] }] },
    });
    expect(Array.from(sim.bodyPose('thing').pos)).toEqual([0.5, 0.1, 0.5]);
    sim.step(500);
    expect(sim.bodyPose('thing').pos[2]).toBeLessThan(0.45); // fell onto the table
    expect(sim.bodyPose('thing').pos[2]).toBeGreaterThan(0.39);
    sim.dispose();
  });

  it('a missing mesh file gives an error naming the file', async () => {
    writeFileSync(join(dir, 'broken.xml'), objXml('nope.obj'));
    await expect(Simulation.create({ mjcfPath: join(dir, 'broken.xml') })).rejects.toThrow(MjcfAssetError);
    await expect(Simulation.create({ mjcfPath: join(dir, 'broken.xml') })).rejects.toThrow(/meshes\/nope\.obj/);
  });
});
