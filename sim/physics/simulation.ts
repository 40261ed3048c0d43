/**
 * A MuJoCo model + data pair with name lookups, state save/restore and contact queries.
 * All poses are in the world frame; lengths in m, angles in rad, time in s.
 */
import { ArmatureError } from '../../src/errors.ts';
import { Rng } from '../../src/util/random.ts';
import { loadMjcfFile, type AssetMap } from '../scene/assets.ts';
import { buildSceneWithAssets } from '../scene/build.ts';
import type { SceneDescription } from '../scene/types.ts';
import { mat2quat } from './math.ts';
import { getMujoco, type MjData, type MjModel, type Mujoco } from './mujoco.ts';

/** The simulator was asked for something that does not exist or cannot be done. */
export class SimulationError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sim.invalid', message, options);
  }
}

export interface SimulationOptions {
  /** MJCF text */
  mjcf?: string;
  /** MJCF file on disk; mesh/texture files beside it are loaded too */
  mjcfPath?: string;
  /** scene description, built with sim/scene */
  scene?: SceneDescription;
  /** extra files for the virtual file system (virtual name -> bytes), used with `mjcf` */
  assets?: AssetMap;
  /** seeds `rng` (initial-state noise, tasks); MuJoCo itself is deterministic */
  seed?: number;
  /** keyframe applied on creation and by `reset()` (default 'home' if the model has it) */
  keyframe?: string;
}

export interface Pose {
  /** position, m, world */
  pos: Float64Array;
  /** rotation matrix, row-major, world <- local */
  mat: Float64Array;
  /** [w, x, y, z] */
  quat: Float64Array;
}

export interface ContactInfo {
  geom1: string;
  geom2: string;
  body1: string;
  body2: string;
  /** penetration distance, m (negative when penetrating) */
  dist: number;
  /** contact point, m, world */
  pos: [number, number, number];
}

type ObjKind = 'body' | 'joint' | 'geom' | 'site' | 'actuator' | 'camera' | 'key' | 'tendon';

const OBJ: Record<ObjKind, keyof Mujoco['mjtObj']> = {
  body: 'mjOBJ_BODY',
  joint: 'mjOBJ_JOINT',
  geom: 'mjOBJ_GEOM',
  site: 'mjOBJ_SITE',
  actuator: 'mjOBJ_ACTUATOR',
  camera: 'mjOBJ_CAMERA',
  key: 'mjOBJ_KEY',
  tendon: 'mjOBJ_TENDON',
};

const JNT_FREE = 0;
const JNT_BALL = 1;

export class Simulation {
  /** seeded random numbers for initial-state noise and task sampling */
  readonly rng: Rng;
  /** physics step, s */
  readonly timestep: number;
  private readonly stateSpec: number;
  private readonly stateSize: number;
  private readonly defaultKey: number;
  private readonly ids = new Map<string, number>();
  private disposed = false;
  private scratch: MjData | null = null;

  private constructor(
    readonly mj: Mujoco,
    readonly model: MjModel,
    readonly data: MjData,
    private readonly vfs: InstanceType<Mujoco['MjVFS']> | null,
    opts: SimulationOptions,
  ) {
    this.rng = new Rng(opts.seed ?? 0);
    const o = model.opt;
    this.timestep = o.timestep;
    o.delete();
    // INTEGRATION = full physics + ctrl, warm start, applied forces, mocap, eq_active: exact replay
    this.stateSpec = mj.mjtState.mjSTATE_INTEGRATION.value;
    this.stateSize = mj.mj_stateSize(model, this.stateSpec);
    const wanted = opts.keyframe ?? 'home';
    const k = mj.mj_name2id(model, mj.mjtObj.mjOBJ_KEY.value, wanted);
    if (opts.keyframe !== undefined && k < 0) {
      throw new SimulationError(`keyframe '${opts.keyframe}' is not in the model: known keyframes are ${this.names('key').join(', ') || '(none)'}`);
    }
    this.defaultKey = k;
    this.reset();
  }

  /** Load MuJoCo (once per process) and compile a model from MJCF text, a file or a scene. */
  static async create(opts: SimulationOptions): Promise<Simulation> {
    const given = [opts.mjcf, opts.mjcfPath, opts.scene].filter((x) => x !== undefined).length;
    if (given !== 1) throw new SimulationError('Simulation.create: give exactly one of mjcf, mjcfPath or scene');
    let xml: string;
    let assets: AssetMap = opts.assets ?? new Map();
    if (opts.scene) ({ xml, assets } = buildSceneWithAssets(opts.scene));
    else if (opts.mjcfPath !== undefined) ({ xml, assets } = loadMjcfFile(opts.mjcfPath, 'model'));
    else xml = opts.mjcf as string;

    const mj = await getMujoco();
    let vfs: InstanceType<Mujoco['MjVFS']> | null = null;
    let model: MjModel;
    try {
      if (assets.size > 0) {
        vfs = new mj.MjVFS();
        for (const [name, bytes] of assets) vfs.addBuffer(name, bytes);
        model = mj.MjModel.from_xml_string(xml, vfs);
      } else {
        model = mj.MjModel.from_xml_string(xml);
      }
    } catch (err) {
      vfs?.delete();
      const msg = err instanceof Error ? err.message : String(err);
      throw new SimulationError(`MuJoCo could not compile the model: ${msg}`, { cause: err });
    }
    const data = new mj.MjData(model);
    return new Simulation(mj, model, data, vfs, opts);
  }

  get time(): number {
    return this.data.time;
  }
  get nq(): number {
    return this.model.nq;
  }
  get nv(): number {
    return this.model.nv;
  }
  get nu(): number {
    return this.model.nu;
  }

  /** Advance `n` physics steps. */
  step(n = 1): void {
    this.check();
    for (let i = 0; i < n; i++) this.mj.mj_step(this.model, this.data);
  }

  /** Recompute derived quantities (poses, contacts) from the current state without stepping. */
  forward(): void {
    this.check();
    this.mj.mj_forward(this.model, this.data);
  }

  /**
   * Reset to a keyframe (name or index; default the creation keyframe, else the model's
   * reference configuration). `qposNoise` adds uniform noise (rad or m) to the hinge/slide
   * joints listed, drawn from `rng`.
   */
  reset(keyframe?: string | number, opts: { qposNoise?: number; noiseJoints?: readonly string[] } = {}): void {
    this.check();
    const k = keyframe === undefined ? this.defaultKey : typeof keyframe === 'number' ? keyframe : this.id('key', keyframe);
    if (k >= 0) {
      if (k >= this.model.nkey) throw new SimulationError(`keyframe index ${k} is out of range: the model has ${this.model.nkey}`);
      this.mj.mj_resetDataKeyframe(this.model, this.data, k);
    } else {
      this.mj.mj_resetData(this.model, this.data);
    }
    if (opts.qposNoise && opts.noiseJoints) {
      const qpos = this.data.qpos as Float64Array;
      for (const name of opts.noiseJoints) {
        qpos[this.jointQposAdr(name)] += (2 * this.rng.uniform() - 1) * opts.qposNoise;
      }
    }
    this.mj.mj_forward(this.model, this.data);
  }

  /** Everything that determines the next step (mjSTATE_INTEGRATION: time, qpos, qvel, act, ctrl, warm start, applied forces, mocap, eq_active, userdata). */
  saveState(): Float64Array {
    this.check();
    const buf = new this.mj.DoubleBuffer(this.stateSize);
    try {
      this.mj.mj_getState(this.model, this.data, buf, this.stateSpec);
      return Float64Array.from(buf.GetView() as Float64Array);
    } finally {
      buf.delete();
    }
  }

  restoreState(state: Float64Array): void {
    this.check();
    if (state.length !== this.stateSize) {
      throw new SimulationError(`restoreState: state has ${state.length} numbers, this model's full physics state has ${this.stateSize}; was it saved from another model?`);
    }
    this.mj.mj_setState(this.model, this.data, state as unknown as number[], this.stateSpec);
    this.mj.mj_forward(this.model, this.data);
  }

  /** id of a named element; throws with the known names when it does not exist */
  id(kind: ObjKind, name: string): number {
    const key = `${kind}:${name}`;
    const cached = this.ids.get(key);
    if (cached !== undefined) return cached;
    const id = this.mj.mj_name2id(this.model, this.mj.mjtObj[OBJ[kind]].value, name);
    if (id < 0) {
      const known = this.names(kind);
      const shown = known.length > 30 ? `${known.slice(0, 30).join(', ')}, ...` : known.join(', ');
      throw new SimulationError(`no ${kind} named '${name}' in the model; known: ${shown || '(none)'}`);
    }
    this.ids.set(key, id);
    return id;
  }

  /** names of all elements of a kind, in id order (unnamed ones as '') */
  names(kind: ObjKind): string[] {
    const counts: Record<ObjKind, number> = {
      body: this.model.nbody, joint: this.model.njnt, geom: this.model.ngeom, site: this.model.nsite,
      actuator: this.model.nu, camera: this.model.ncam, key: this.model.nkey, tendon: this.model.ntendon,
    };
    const t = this.mj.mjtObj[OBJ[kind]].value;
    const out: string[] = [];
    for (let i = 0; i < counts[kind]; i++) out.push(this.mj.mj_id2name(this.model, t, i) ?? '');
    return out;
  }

  /** qpos address of a hinge/slide joint */
  jointQposAdr(name: string): number {
    const j = this.id('joint', name);
    const type = (this.model.jnt_type as Int32Array)[j];
    if (type === JNT_FREE || type === JNT_BALL) throw new SimulationError(`joint '${name}' is a free/ball joint; use bodyPose for its pose`);
    return (this.model.jnt_qposadr as Int32Array)[j];
  }

  /** dof address of a hinge/slide joint */
  jointDofAdr(name: string): number {
    this.jointQposAdr(name);
    return (this.model.jnt_dofadr as Int32Array)[this.id('joint', name)];
  }

  /** positions of hinge/slide joints, rad or m */
  jointPositions(names: readonly string[], out: Float64Array = new Float64Array(names.length)): Float64Array {
    const qpos = this.data.qpos as Float64Array;
    names.forEach((n, i) => (out[i] = qpos[this.jointQposAdr(n)]));
    return out;
  }

  /** velocities of hinge/slide joints, rad/s or m/s */
  jointVelocities(names: readonly string[], out: Float64Array = new Float64Array(names.length)): Float64Array {
    const qvel = this.data.qvel as Float64Array;
    names.forEach((n, i) => (out[i] = qvel[this.jointDofAdr(n)]));
    return out;
  }

  /** Set hinge/slide joint positions directly (teleport; call forward() after). */
  setJointPositions(names: readonly string[], values: ArrayLike<number>): void {
    const qpos = this.data.qpos as Float64Array;
    names.forEach((n, i) => (qpos[this.jointQposAdr(n)] = values[i]));
  }

  /** Actuator control input (units of the actuator: rad for joint position actuators). */
  setControl(name: string, value: number): void {
    (this.data.ctrl as Float64Array)[this.id('actuator', name)] = value;
  }

  control(name: string): number {
    return (this.data.ctrl as Float64Array)[this.id('actuator', name)];
  }

  /** [lo, hi] control range of an actuator */
  controlRange(name: string): [number, number] {
    const i = this.id('actuator', name);
    const r = this.model.actuator_ctrlrange as Float64Array;
    return [r[2 * i], r[2 * i + 1]];
  }

  /** kv / kp of a position-servo actuator, s (0 for other actuators): its lag behind a ramp */
  servoLag(actuator: string): number {
    const a = this.id('actuator', actuator);
    const gain = (this.model.actuator_gainprm as Float64Array)[10 * a];
    const bias = this.model.actuator_biasprm as Float64Array;
    const kp = -bias[10 * a + 1];
    const kv = -bias[10 * a + 2];
    return gain > 0 && kp > 0 && Math.abs(gain - kp) < 1e-9 * kp ? kv / kp : 0;
  }

  /** Actuator driving a joint directly (joint transmission), or throws. */
  actuatorForJoint(joint: string): string {
    const j = this.id('joint', joint);
    const trntype = this.model.actuator_trntype as Int32Array;
    const trnid = this.model.actuator_trnid as Int32Array;
    for (let a = 0; a < this.model.nu; a++) {
      if (trntype[a] === 0 && trnid[2 * a] === j) return this.mj.mj_id2name(this.model, this.mj.mjtObj.mjOBJ_ACTUATOR.value, a);
    }
    throw new SimulationError(`no actuator drives joint '${joint}' directly; add a <position joint="${joint}"/> actuator`);
  }

  sitePose(name: string): Pose {
    const i = this.id('site', name);
    return this.pose(this.data.site_xpos as Float64Array, this.data.site_xmat as Float64Array, i);
  }

  bodyPose(name: string): Pose {
    const i = this.id('body', name);
    return this.pose(this.data.xpos as Float64Array, this.data.xmat as Float64Array, i);
  }

  private pose(xpos: Float64Array, xmat: Float64Array, i: number): Pose {
    const pos = xpos.slice(3 * i, 3 * i + 3);
    const mat = xmat.slice(9 * i, 9 * i + 9);
    return { pos, mat, quat: mat2quat(mat) };
  }

  /**
   * Site Jacobians (3 x nv each, row-major) at the current kinematics. Uses MuJoCo's own
   * buffers: mj_jacSite does not write into plain typed arrays.
   */
  siteJacobian(name: string): { jacp: Float64Array; jacr: Float64Array } {
    const i = this.id('site', name);
    const nv = this.model.nv;
    const jp = new this.mj.DoubleBuffer(3 * nv);
    const jr = new this.mj.DoubleBuffer(3 * nv);
    try {
      this.mj.mj_jacSite(this.model, this.data, jp, jr, i);
      return { jacp: Float64Array.from(jp.GetView() as Float64Array), jacr: Float64Array.from(jr.GetView() as Float64Array) };
    } finally {
      jp.delete();
      jr.delete();
    }
  }

  /** Update positions/orientations and the quantities Jacobians need, without dynamics. */
  kinematics(): void {
    this.mj.mj_kinematics(this.model, this.data);
    this.mj.mj_comPos(this.model, this.data);
  }

  /**
   * Pose and Jacobians (3 x nv each, row-major) of a site at a hypothetical configuration:
   * the current qpos with `joints` set to `values`. Computed on a scratch copy of the data,
   * so the simulation state is untouched (used by differential IK on commanded targets).
   */
  siteKinematicsAt(site: string, joints: readonly string[], values: ArrayLike<number>): Pose & { jacp: Float64Array; jacr: Float64Array } {
    this.check();
    const i = this.id('site', site);
    if (this.scratch === null) this.scratch = new this.mj.MjData(this.model);
    const s = this.scratch;
    const qpos = s.qpos as Float64Array;
    qpos.set(this.data.qpos as Float64Array);
    joints.forEach((n, k) => (qpos[this.jointQposAdr(n)] = values[k]));
    this.mj.mj_kinematics(this.model, s);
    this.mj.mj_comPos(this.model, s);
    const nv = this.model.nv;
    const jp = new this.mj.DoubleBuffer(3 * nv);
    const jr = new this.mj.DoubleBuffer(3 * nv);
    try {
      this.mj.mj_jacSite(this.model, s, jp, jr, i);
      const pose = this.pose(s.site_xpos as Float64Array, s.site_xmat as Float64Array, i);
      return { ...pose, jacp: Float64Array.from(jp.GetView() as Float64Array), jacr: Float64Array.from(jr.GetView() as Float64Array) };
    } finally {
      jp.delete();
      jr.delete();
    }
  }

  /** Active contacts (from the last step/forward). */
  contacts(): ContactInfo[] {
    const vec = this.data.contact;
    const out: ContactInfo[] = [];
    try {
      const n = Math.min(this.data.ncon, vec.size());
      const geomBody = this.model.geom_bodyid as Int32Array;
      const geomT = this.mj.mjtObj.mjOBJ_GEOM.value;
      const bodyT = this.mj.mjtObj.mjOBJ_BODY.value;
      for (let i = 0; i < n; i++) {
        const c = vec.get(i);
        if (!c) continue;
        const p = c.pos as Float64Array;
        out.push({
          geom1: this.mj.mj_id2name(this.model, geomT, c.geom1) ?? '',
          geom2: this.mj.mj_id2name(this.model, geomT, c.geom2) ?? '',
          body1: this.mj.mj_id2name(this.model, bodyT, geomBody[c.geom1]) ?? '',
          body2: this.mj.mj_id2name(this.model, bodyT, geomBody[c.geom2]) ?? '',
          dist: c.dist,
          pos: [p[0], p[1], p[2]],
        });
        c.delete();
      }
    } finally {
      vec.delete();
    }
    return out;
  }

  /**
   * Whether two named things touch: each of `a`, `b` is a body name (any of its geoms) or a
   * geom name. Uses contacts from the last step/forward.
   */
  inContact(a: string, b: string): boolean {
    const ga = this.geomSet(a);
    const gb = this.geomSet(b);
    const vec = this.data.contact;
    try {
      const n = Math.min(this.data.ncon, vec.size());
      for (let i = 0; i < n; i++) {
        const c = vec.get(i);
        if (!c) continue;
        const g1 = c.geom1;
        const g2 = c.geom2;
        const dist = c.dist;
        c.delete();
        if (dist > 0) continue; // within margin but not touching
        if ((ga.has(g1) && gb.has(g2)) || (ga.has(g2) && gb.has(g1))) return true;
      }
      return false;
    } finally {
      vec.delete();
    }
  }

  private geomSet(name: string): Set<number> {
    const mjb = this.mj.mj_name2id(this.model, this.mj.mjtObj.mjOBJ_BODY.value, name);
    if (mjb >= 0) {
      const geomBody = this.model.geom_bodyid as Int32Array;
      const s = new Set<number>();
      for (let g = 0; g < this.model.ngeom; g++) if (geomBody[g] === mjb) s.add(g);
      return s;
    }
    const g = this.mj.mj_name2id(this.model, this.mj.mjtObj.mjOBJ_GEOM.value, name);
    if (g >= 0) return new Set([g]);
    throw new SimulationError(`inContact: '${name}' is neither a body nor a geom in the model`);
  }

  /** Free WASM memory. The simulation cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scratch?.delete();
    this.data.delete();
    this.model.delete();
    this.vfs?.delete();
  }

  private check(): void {
    if (this.disposed) throw new SimulationError('this Simulation was disposed; create a new one');
  }
}
