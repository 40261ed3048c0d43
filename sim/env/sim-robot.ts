/**
 * The simulated robot as the runtime sees a real one: it produces the same
 * Observation (rendered camera frames, joint states, gripper widths) and takes
 * the same RobotCommand the safety layer emits, so a policy cannot tell sim from
 * robot. Physics runs at its own rate under the policy rate (controllers
 * interpolate between policy ticks).
 */
import { Simulation } from '../physics/simulation.ts';
import { ControlLoop as PhysicsLoop, controlPreset, SIM_ARMS } from '../physics/controllers.ts';
import type { RenderRequest, SceneRenderer } from '../render/scene-renderer.ts';
import { SoftwareRenderer } from '../render/software/renderer.ts';
import { describeScene, extractState, type RenderScene } from '../render/scene-description.ts';
import type { SceneDescription } from '../scene/types.ts';
import type { RobotDescription } from '../../src/embodiment/description.ts';
import { jointNames } from '../../src/embodiment/description.ts';
import type { CameraFrame, Observation } from '../../src/observation/types.ts';
import type { RobotCommand } from '../../src/runtime/control-loop.ts';
import { ArmatureError } from '../../src/errors.ts';

/** Robot description id -> the simulator's built-in model of it. */
export const SIM_EMBODIMENT: Readonly<Record<string, 'franka_fr3' | 'agibot_dual_arm' | 'ur5e'>> = {
  'franka/fr3': 'franka_fr3',
  'agibot/dual_arm': 'agibot_dual_arm',
  'universal_robots/ur5e': 'ur5e',
};

export type CommandMode = 'joint_position' | 'ee_delta';

export interface SimRobotOptions {
  scene: SceneDescription;
  robot: RobotDescription;
  /** how commands reach the physics: joint position targets, or end-effector deltas (OSC) */
  commandMode: CommandMode;
  /** cameras to render into observations; empty = no renderer */
  cameras?: readonly string[];
  /** rendered frame size, px (LIBERO: 128) */
  imageSize?: number;
  policyHz: number;
  seed?: number;
  /** reuse a renderer (one per worker); otherwise one is created and owned */
  renderer?: SceneRenderer;
  /**
   * renderer created when none is given: 'software' (default; in-process CPU
   * rasterizer, ~0.3 ms per 128 px camera) or 'chromium' (three.js in headless
   * Chromium, ~4-10 ms per step; needs a Chromium)
   */
  rendererKind?: 'software' | 'chromium';
}

export class SimRobot {
  readonly jointNames: readonly string[];
  readonly renderScene: RenderScene;
  private readonly gripperJoints: readonly (readonly string[])[];
  /** TCP site per arm */
  readonly tcpSites: readonly string[];
  private readonly requests: RenderRequest[];
  private readonly state: Float32Array;
  private readonly action: Float64Array;

  private constructor(
    readonly sim: Simulation,
    private readonly physics: PhysicsLoop,
    readonly robot: RobotDescription,
    readonly commandMode: CommandMode,
    private readonly renderer: SceneRenderer | null,
    private readonly ownsRenderer: boolean,
    opts: SimRobotOptions,
  ) {
    this.jointNames = jointNames(robot);
    this.gripperJoints = robot.arms.map((a) => a.gripper.joints);
    this.tcpSites = SIM_ARMS[SIM_EMBODIMENT[robot.id]!].map((a) => a.site);
    this.renderScene = describeScene(sim.model);
    this.state = extractState(this.renderScene, sim.data);
    const size = opts.imageSize ?? 128;
    this.requests = (opts.cameras ?? []).map((camera) => ({ camera, width: size, height: size }));
    this.action = new Float64Array(physics.actionDim);
  }

  static async create(opts: SimRobotOptions): Promise<SimRobot> {
    const kind = SIM_EMBODIMENT[opts.robot.id];
    if (!kind) {
      throw new ArmatureError('sim.robot', `robot '${opts.robot.id}' has no simulator model; simulated robots: ${Object.keys(SIM_EMBODIMENT).join(', ')}`);
    }
    const sim = await Simulation.create({ scene: opts.scene, seed: opts.seed ?? 0 });
    const physics = new PhysicsLoop(sim, {
      controllers: controlPreset(kind, opts.commandMode === 'joint_position' ? 'joint_position' : 'osc_pose'),
      policyHz: opts.policyHz,
    });
    let renderer = opts.renderer ?? null;
    const owns = !renderer && (opts.cameras?.length ?? 0) > 0;
    if (owns) {
      const scene = describeScene(sim.model);
      renderer =
        opts.rendererKind === 'chromium'
          ? await (await import('../render/renderer.ts')).HeadlessRenderer.create({ scene })
          : await SoftwareRenderer.create({ scene });
    }
    else if (renderer) await renderer.setScene(describeScene(sim.model));
    return new SimRobot(sim, physics, opts.robot, opts.commandMode, renderer, owns, opts);
  }

  /** sim time, s */
  get time(): number {
    return this.sim.time;
  }

  /** Current gripper widths, m (sum of both fingers), one per arm. */
  gripperWidths(): Float64Array {
    return Float64Array.from(this.gripperJoints, (joints) => this.sim.jointPositions(joints).reduce((a, b) => a + b, 0));
  }

  /**
   * Read sensors: joint state, gripper, TCP poses, and rendered camera frames, all
   * stamped with sim time. `images: false` skips rendering (the policy will not look).
   */
  async observe(instruction: string, opts: { images?: boolean } = {}): Promise<Observation> {
    const stamp = this.sim.time;
    const fields: Record<string, Float64Array> = {
      joint_positions: this.sim.jointPositions(this.jointNames),
      joint_velocities: this.sim.jointVelocities(this.jointNames),
      gripper: this.gripperWidths(),
      ee_position: new Float64Array(3 * this.tcpSites.length),
      ee_quaternion: new Float64Array(4 * this.tcpSites.length),
    };
    this.tcpSites.forEach((site, i) => {
      const p = this.sim.sitePose(site);
      fields['ee_position']!.set(p.pos, 3 * i);
      fields['ee_quaternion']!.set(p.quat, 4 * i);
    });
    const images: Record<string, CameraFrame> = {};
    if ((opts.images ?? true) && this.renderer && this.requests.length > 0) {
      extractState(this.renderScene, this.sim.data, this.state);
      const frames = await this.renderer.render(this.state, this.requests, { stamp });
      for (const [name, f] of Object.entries(frames)) images[name] = f.rgb;
    }
    return { stamp, images, proprio: { fields, stamp }, instruction };
  }

  /** Render state of the current physics state (for the viewer and episode files). */
  renderState(out?: Float32Array): Float32Array {
    return extractState(this.renderScene, this.sim.data, out);
  }

  /** Execute one safe command for one policy period. */
  apply(cmd: RobotCommand): void {
    if ((cmd.type === 'joint_position') !== (this.commandMode === 'joint_position')) {
      throw new ArmatureError('sim.command', `sim robot takes ${this.commandMode} commands, got ${cmd.type}: create it with commandMode matching the policy's action space`);
    }
    const a = this.action;
    let o = 0;
    let src = 0;
    this.robot.arms.forEach((arm, i) => {
      const n = cmd.type === 'joint_position' ? arm.joints.length : 6;
      const values = cmd.type === 'joint_position' ? cmd.positions : cmd.delta;
      for (let k = 0; k < n; k++) a[o++] = values[src + k]!;
      src += n;
      a[o++] = cmd.gripper[i]!;
    });
    this.physics.act(a);
  }

  /** Back to the home keyframe (plus optional joint noise). */
  reset(opts: { qposNoise?: number } = {}): void {
    this.sim.reset(undefined, opts);
    this.physics.reset();
  }

  saveState(): Float64Array {
    return this.sim.saveState();
  }

  restoreState(s: Float64Array): void {
    this.sim.restoreState(s);
    this.physics.reset();
  }

  async close(): Promise<void> {
    if (this.ownsRenderer) await this.renderer?.close();
    this.sim.dispose();
  }
}
