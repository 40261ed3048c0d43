/**
 * A LIBERO-style task environment: one task's scene with a simulated robot (the Franka by
 * default; the suite's robot, see robots.ts), its fixed initial states, the instruction and
 * the success check on physics state.
 *
 * Protocol (LIBERO): reset to init state i, run 10 settling steps with a no-op action,
 * then the policy acts at 20 Hz for at most the suite's max steps; success is checked
 * after every step.
 */
import { ArmatureError } from '../../src/errors.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { RobotCommand } from '../../src/runtime/control-loop.ts';
import type { SceneRenderer } from '../render/scene-renderer.ts';
import { SimRobot, type CommandMode } from '../env/sim-robot.ts';
import type { Quat, Vec3 } from '../scene/types.ts';
import { SimWorldView, evaluateGoal, type GoalResult, type PredicateOptions } from './predicates.ts';
import { liberoInstruction, type BddlTask } from './task.ts';
import { buildTaskScene, placementBodyPose, taskShapes, type EntityShape, type InitLayout } from './task-scene.ts';
import { DEFAULT_TASK_ROBOT, taskRobot, type TaskRobot } from './robots.ts';

/** LIBERO's cameras, under the names of Armature's scene (`robot0_eye_in_hand` is `eye_in_hand`). */
export const LIBERO_CAMERAS = ['agentview', 'eye_in_hand'] as const;
/** no-op steps after a reset before the policy acts (LIBERO) */
export const SETTLE_STEPS = 10;
/** LIBERO's control rate, Hz */
export const LIBERO_HZ = 20;

export interface TaskEnvOptions {
  task: BddlTask;
  /** task name for messages (the suite file name); default the BDDL problem name */
  name?: string;
  /** the task's fixed initial states (at least one) */
  initStates: readonly InitLayout[];
  /** 'ee_delta': OSC end-effector deltas (LIBERO); 'joint_position': absolute joint targets */
  robotCommandMode: CommandMode;
  /** robot description id (default 'franka/fr3'; a suite's robot comes from LoadedSuite.robot) */
  robot?: string;
  /**
   * cameras rendered into observations (default: the robot's cameras, for the Franka LIBERO_CAMERAS;
   * [] renders nothing)
   */
  cameras?: readonly string[];
  /** frame size, px (default 128, LIBERO) */
  imageSize?: number;
  /** share one renderer per worker (default: SimRobot creates an in-process software renderer) */
  renderer?: SceneRenderer;
  /** policy rate, Hz (default 20) */
  policyHz?: number;
  seed?: number;
  /** success thresholds */
  predicates?: PredicateOptions;
}

/** Ground truth the scripted expert may read (a policy must not). */
export interface PrivilegedState {
  /** sim time, s */
  time: number;
  objects: {
    name: string;
    category: string;
    shape: EntityShape;
    /** body origin, m, world (bottom centre for bowls, baskets and cabinets; centre otherwise) */
    pos: Vec3;
    /** [w, x, y, z] */
    quat: Quat;
  }[];
  /** drawer slide positions, m (0 = closed), by cabinet name */
  drawers: Record<string, number>;
  /** knob angles, rad (0 = off), by stove name */
  knobs: Record<string, number>;
  /** TCP position of the first arm, m, world */
  tcp: Vec3;
  /** total finger opening of the first arm, m */
  gripperWidth: number;
  /** TCP position per arm (robot description order), m, world */
  tcps: Vec3[];
  /** total finger opening per arm, m */
  gripperWidths: number[];
}

export class TaskEnvError extends ArmatureError {
  constructor(message: string) {
    super('task.env', message);
  }
}

export class TaskEnv {
  /** the instruction as LIBERO reports it (lower case) */
  readonly instruction: string;
  readonly shapes: ReadonlyMap<string, EntityShape>;
  /** privileged physics view of the task (predicates; the scripted expert) */
  readonly world: SimWorldView;
  private current = -1;

  private constructor(
    /** task name for messages */
    readonly name: string,
    readonly task: BddlTask,
    readonly robot: SimRobot,
    /** which robot, where it stands, its embodiment key */
    readonly taskRobot: TaskRobot,
    private readonly initStates: readonly InitLayout[],
    private readonly predicateOptions: PredicateOptions,
  ) {
    this.instruction = liberoInstruction(task);
    this.shapes = taskShapes(task);
    this.world = new SimWorldView(robot.sim, task, taskRobot.description);
  }

  static async create(opts: TaskEnvOptions): Promise<TaskEnv> {
    if (opts.initStates.length === 0) throw new TaskEnvError(`task '${opts.task.problem}' has no initial states: generate them with sim/tasks/suites/generate.ts`);
    const tr = taskRobot(opts.robot ?? DEFAULT_TASK_ROBOT, { cameras: opts.cameras });
    const robot = await SimRobot.create({
      scene: buildTaskScene(opts.task, opts.initStates[0]!, tr),
      robot: tr.description,
      commandMode: opts.robotCommandMode,
      cameras: tr.cameras,
      imageSize: opts.imageSize ?? 128,
      renderer: opts.renderer,
      policyHz: opts.policyHz ?? LIBERO_HZ,
      seed: opts.seed ?? 0,
    });
    const env = new TaskEnv(opts.name ?? opts.task.problem, opts.task, robot, tr, opts.initStates, opts.predicates ?? {});
    env.reset(0, { settleSteps: 0 });
    return env;
  }

  /** what `apply` takes: 'ee_delta' or 'joint_position' */
  get commandMode(): CommandMode {
    return this.robot.commandMode;
  }

  get numInitStates(): number {
    return this.initStates.length;
  }

  /** index of the init state of the current episode */
  get initIndex(): number {
    return this.current;
  }

  /**
   * Restore init state `index`: the robot at home, objects at their layout poses at rest,
   * then `settleSteps` (default 10) no-op actions.
   */
  reset(index: number, opts: { settleSteps?: number } = {}): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.initStates.length) {
      throw new TaskEnvError(`init state ${index} of task '${this.name}' does not exist: it has ${this.initStates.length} (0..${this.initStates.length - 1})`);
    }
    const layout = this.initStates[index]!;
    const sim = this.robot.sim;
    this.robot.reset();
    const qpos = sim.data.qpos as Float64Array;
    const qvel = sim.data.qvel as Float64Array;
    const adr = sim.model.jnt_qposadr as Int32Array;
    const dofAdr = sim.model.jnt_dofadr as Int32Array;
    for (const p of layout.placements) {
      const shape = this.shapes.get(p.name);
      if (!shape) throw new TaskEnvError(`init state ${index} places '${p.name}', which task '${this.name}' does not declare: regenerate its init states`);
      if (shape.fixture) continue;
      const j = sim.id('joint', `${shape.body}_joint`);
      const { pos, quat } = placementBodyPose(shape, p);
      qpos.set([...pos, ...quat], adr[j]!);
      qvel.fill(0, dofAdr[j]!, dofAdr[j]! + 6);
    }
    sim.forward();
    this.current = index;
    const n = opts.settleSteps ?? SETTLE_STEPS;
    for (let k = 0; k < n; k++) this.robot.apply(this.noop());
  }

  /** A command that holds the arm and gripper where they are. */
  noop(): RobotCommand {
    const gripper = this.robot.gripperWidths();
    if (this.robot.commandMode === 'ee_delta') {
      return { type: 'ee_delta', delta: new Float64Array(6 * this.taskRobot.arms.length), gripper, held: false, interventions: [] };
    }
    return { type: 'joint_position', positions: this.robot.sim.jointPositions(this.robot.jointNames), gripper, held: false, interventions: [] };
  }

  /** `images: false` skips rendering cameras (ticks on which the policy does not infer). */
  observe(opts: { images?: boolean } = {}): Promise<Observation> {
    return this.robot.observe(this.instruction, opts);
  }

  /** One policy period (1 / policyHz s) under `cmd`. */
  apply(cmd: RobotCommand): void {
    this.robot.apply(cmd);
  }

  /** Goal truth and every atom's value in the current physics state. */
  evaluate(): GoalResult {
    return evaluateGoal(this.task.goal, this.world, this.predicateOptions);
  }

  success(): boolean {
    return this.evaluate().success;
  }

  /** Object poses, articulation states and the TCP, for the scripted expert only. */
  privileged(): PrivilegedState {
    const sim = this.robot.sim;
    const objects: PrivilegedState['objects'] = [];
    const drawers: Record<string, number> = {};
    const knobs: Record<string, number> = {};
    for (const shape of this.shapes.values()) {
      const pose = sim.bodyPose(shape.body);
      objects.push({
        name: shape.name,
        category: shape.category,
        shape,
        pos: [pose.pos[0]!, pose.pos[1]!, pose.pos[2]!],
        quat: [pose.quat[0]!, pose.quat[1]!, pose.quat[2]!, pose.quat[3]!],
      });
      if (shape.drawer) drawers[shape.name] = this.world.jointPosition(shape.drawer.joint);
      if (shape.knob) knobs[shape.name] = this.world.jointPosition(shape.knob.joint);
    }
    const tcps = this.robot.tcpSites.map((site): Vec3 => {
      const p = sim.sitePose(site).pos;
      return [p[0]!, p[1]!, p[2]!];
    });
    const widths = Array.from(this.robot.gripperWidths());
    return { time: sim.time, objects, drawers, knobs, tcp: tcps[0]!, gripperWidth: widths[0]!, tcps, gripperWidths: widths };
  }

  async close(): Promise<void> {
    await this.robot.close();
  }
}
