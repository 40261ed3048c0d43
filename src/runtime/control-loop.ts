/**
 * One control step, end to end: observation -> policy (through the chunk
 * executor) -> action mapping -> safety filter -> command. The simulator
 * evaluation, the ROS node and the benchmarks all drive the robot through this.
 *
 * Failures never leave without a command: a policy error (NaN actions, stale
 * inputs, a crashed model) becomes a hold of the last safe command, counted and
 * reported, and the error is kept for diagnostics.
 */
import type { Observation } from '../observation/types.ts';
import type { Policy } from '../policy/types.ts';
import type { ActionSpec } from '../policy/manifest.ts';
import type { RobotDescription } from '../embodiment/description.ts';
import { ChunkExecutor, type ScheduleOptions } from '../schedule/index.ts';
import { SafetyFilter, type Intervention, type SafetyReport } from '../safety/filter.ts';
import type { LimitOverrides } from '../safety/limits.ts';
import { ActionMapper } from '../actions/command.ts';
import { ArmatureError, ObservationError } from '../errors.ts';

/** What leaves the control loop toward the robot. */
export type RobotCommand =
  | {
      readonly type: 'joint_position';
      /** joint position targets, rad, all arms in description order */
      readonly positions: Float64Array;
      /** gripper width targets, m, one per arm */
      readonly gripper: Float64Array;
      readonly held: boolean;
      readonly interventions: readonly Intervention[];
    }
  | {
      readonly type: 'ee_delta';
      /** per arm [dx, dy, dz (m), drx, dry, drz (rad)] for this period, base frame */
      readonly delta: Float64Array;
      readonly gripper: Float64Array;
      readonly held: boolean;
      readonly interventions: readonly Intervention[];
    };

export interface ControlLoopOptions {
  policy: Policy;
  robot: RobotDescription;
  /** the policy's embodiment name (manifest key) to act for */
  embodiment: string;
  schedule: ScheduleOptions;
  /** run inference in the background while ticks continue (ROS); false = deterministic (sim eval) */
  async?: boolean;
  /** ticks of expected inference latency (async mode) */
  expectedLatencyTicks?: number;
  safety?: LimitOverrides;
  /** proprio field holding measured joint positions, rad */
  jointField?: string;
  /** proprio field holding measured gripper widths, m */
  gripperField?: string;
}

export interface ControlStep {
  command: RobotCommand;
  /** the scheduled action before safety, embodiment units (null while holding for the first chunk) */
  action: Float32Array | null;
  inferred: boolean;
  starved: boolean;
  /** the policy error that forced a hold this tick, if any */
  error: ArmatureError | Error | null;
}

export interface ControlStats {
  ticks: number;
  inferences: number;
  starvedTicks: number;
  policyErrors: number;
  meanLatencyMs: number;
  /** denoiser / velocity-field evaluations over all chunks (diffusion, flow; else 0) */
  modelEvaluations: number;
  safety: SafetyReport;
}

export class ControlLoop {
  readonly executor: ChunkExecutor;
  readonly safety: SafetyFilter;
  readonly actionSpec: ActionSpec;
  private readonly mapper: ActionMapper;
  private readonly jointField: string;
  private readonly gripperField: string;
  private policyErrors = 0;
  /** last joint command that left, for holds */
  private last: { positions: Float64Array; gripper: Float64Array } | null = null;

  constructor(private readonly opts: ControlLoopOptions) {
    const spec = opts.policy.metadata.embodiments[opts.embodiment];
    if (!spec) {
      throw new ArmatureError(
        'control.embodiment',
        `policy ${opts.policy.metadata.name} has no embodiment '${opts.embodiment}'; it drives [${Object.keys(opts.policy.metadata.embodiments).join(', ')}]`,
      );
    }
    this.actionSpec = spec;
    this.mapper = new ActionMapper(spec, opts.robot);
    this.executor = new ChunkExecutor({
      policy: opts.policy,
      schedule: opts.schedule,
      async: opts.async ?? false,
      expectedLatencyTicks: opts.expectedLatencyTicks,
      embodiment: opts.embodiment,
    });
    this.safety = new SafetyFilter({ robot: opts.robot, dt: 1 / opts.policy.metadata.controlRateHz, overrides: opts.safety });
    this.jointField = opts.jointField ?? 'joint_positions';
    this.gripperField = opts.gripperField ?? 'gripper';
  }

  /**
   * Whether this tick's observation needs camera images: only when the policy will
   * run and reads cameras. The rest of the time proprio is enough (safety, mapping).
   */
  needsImages(tick: number): boolean {
    return this.opts.policy.metadata.cameras.length > 0 && this.executor.willInfer(tick);
  }

  /** Run one control tick. Never throws for policy failures: it holds and reports them. */
  async step(obs: Observation, tick: number): Promise<ControlStep> {
    const measured = obs.proprio.fields[this.jointField];
    if (!measured || measured.length !== this.mapper.jointCount) {
      // without a measured joint state nothing safe can be computed: this is a caller bug
      throw new ObservationError(
        `observation proprio '${this.jointField}' must hold ${this.mapper.jointCount} joint positions for robot '${this.opts.robot.id}', got ${measured?.length ?? 'none'}`,
      );
    }
    const measuredGripper = obs.proprio.fields[this.gripperField];
    let action: Float32Array | null = null;
    let inferred = false;
    let starved = false;
    let error: Error | null = null;
    try {
      const r = await this.executor.step(obs, tick);
      ({ action, inferred, starved } = r);
    } catch (e) {
      error = e as Error;
      this.policyErrors++;
    }
    const command = action ? this.commandFor(action, measured, measuredGripper) : this.holdCommand(measured, measuredGripper, error);
    return { command, action, inferred, starved, error };
  }

  private commandFor(action: Float32Array, measured: Float64Array, measuredGripper: Float64Array | undefined): RobotCommand {
    const req = this.mapper.toRequest(action, measured);
    if (req.type === 'joint_position') {
      const safe = this.safety.filterJointTargets({ target: req.target, gripper: req.gripper, measured, measuredGripper });
      this.last = { positions: safe.positions, gripper: safe.gripper };
      return { type: 'joint_position', positions: safe.positions, gripper: safe.gripper, held: safe.held, interventions: safe.interventions };
    }
    const safe = this.safety.filterEeDelta({ delta: req.delta, gripper: req.gripper, measured });
    return { type: 'ee_delta', delta: safe.delta, gripper: safe.gripper, held: safe.held, interventions: safe.interventions };
  }

  /** No action this tick: hold the last safe command (or the measured state before the first). */
  private holdCommand(measured: Float64Array, measuredGripper: Float64Array | undefined, error: Error | null): RobotCommand {
    const reason: Intervention = { kind: 'hold', detail: error ? `policy failed: ${error.message}` : 'waiting for the first action chunk' };
    if (this.actionSpec.space === 'ee_delta_pose') {
      const arms = this.opts.robot.arms.length;
      const gripper = measuredGripper ? Float64Array.from(measuredGripper) : Float64Array.from(this.opts.robot.arms, (a) => a.gripper.home_width);
      const safe = this.safety.filterEeDelta({ delta: new Float64Array(6 * arms), gripper, measured });
      return { type: 'ee_delta', delta: safe.delta, gripper: safe.gripper, held: true, interventions: [reason, ...safe.interventions] };
    }
    const last = this.last;
    const target = last ? last.positions : measured;
    const gripper = last ? last.gripper : measuredGripper ? Float64Array.from(measuredGripper) : Float64Array.from(this.opts.robot.arms, (a) => a.gripper.home_width);
    const safe = this.safety.filterJointTargets({ target: Float64Array.from(target), gripper: Float64Array.from(gripper), measured, measuredGripper });
    this.last = { positions: safe.positions, gripper: safe.gripper };
    return { type: 'joint_position', positions: safe.positions, gripper: safe.gripper, held: true, interventions: [reason, ...safe.interventions] };
  }

  stats(): ControlStats {
    const s = this.executor.stats;
    return {
      ticks: s.ticks,
      inferences: s.inferences,
      starvedTicks: s.starvedTicks,
      policyErrors: this.policyErrors,
      meanLatencyMs: s.meanLatencyMs,
      modelEvaluations: s.modelEvaluations,
      safety: this.safety.report(),
    };
  }

  /** New episode: clear chunks, warm starts and the safety filter's history; `seed` restarts a stochastic policy's noise. */
  reset(seed?: number): void {
    this.executor.reset(seed);
    this.safety.reset();
    this.policyErrors = 0;
    this.last = null;
  }
}
