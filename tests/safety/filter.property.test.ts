/**
 * Property test: whatever arrives (random, huge, tiny, NaN, Inf, e-stops), every command the
 * filter emits is finite, inside the (margined) position limits, reachable from the previous
 * one within the velocity and acceleration limits (holds excepted: a hold is a stop), with
 * every TCP inside its workspace box and every gripper in range.
 */
import { describe, expect, it } from 'vitest';
import { homePose, type RobotDescription } from '../../src/embodiment/description.ts';
import { chainFromArm, tipPosition } from '../../src/embodiment/kinematics.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { INTERVENTION_KINDS, SafetyFilter, type InterventionKind } from '../../src/safety/filter.ts';
import { effectiveLimits, insideBox, type LimitOverrides } from '../../src/safety/limits.ts';
import { Rng } from '../../src/util/random.ts';

interface Stats {
  commands: number;
  held: number;
  /** holds because no step kept the TCP in the box */
  workspaceHolds: number;
  kinds: Record<InterventionKind, number>;
}

function runSequences(robot: RobotDescription, sequences: number, steps: number, seed: number): Stats {
  const rng = new Rng(seed);
  const chains = robot.arms.map((a) => chainFromArm(a));
  const offsets = [0];
  for (const a of robot.arms) offsets.push(offsets[offsets.length - 1] + a.joints.length);
  const n = offsets[offsets.length - 1];
  const nArms = robot.arms.length;
  const home = homePose(robot);
  const stats: Stats = { commands: 0, held: 0, workspaceHolds: 0, kinds: Object.fromEntries(INTERVENTION_KINDS.map((k) => [k, 0])) as Record<InterventionKind, number> };
  const pick = <T,>(xs: readonly T[]): T => xs[rng.int(xs.length)];

  for (let s = 0; s < sequences; s++) {
    const dt = pick([0.001, 0.01, 0.01, 0.05]);
    const overrides: LimitOverrides = {};
    if (rng.uniform() < 0.5) overrides.velocityScale = 0.05 + 0.95 * rng.uniform();
    if (rng.uniform() < 0.3) overrides.accelerationScale = 0.1 + 0.9 * rng.uniform();
    if (rng.uniform() < 0.3) overrides.positionMargin = 0.1 * rng.uniform();
    const f = new SafetyFilter({ robot, dt, overrides });
    const L = f.limits;
    const tcpInside = (q: Float64Array): boolean =>
      chains.every((c, a) => insideBox(L.workspace[a], tipPosition(c, q.subarray(offsets[a], offsets[a + 1])), 1e-9));

    // start: near home, inside the margined limits and the workspace
    let start = home;
    for (let t = 0; t < 50; t++) {
      const q = Float64Array.from(home, (v, i) => Math.min(L.upper[i], Math.max(L.lower[i], v + (rng.uniform() - 0.5))));
      if (tcpInside(q)) {
        start = q;
        break;
      }
    }
    expect(tcpInside(start)).toBe(true);

    // a far-away goal pursued for many steps builds up speed and pushes into walls and limits
    const goal = Float64Array.from(home, (_, i) => L.lower[i] - 0.3 + rng.uniform() * (L.upper[i] - L.lower[i] + 0.6));
    let prev = Float64Array.from(start);
    let prevV = new Float64Array(n);
    for (let k = 0; k < steps; k++) {
      const mode = pick(['goal', 'goal', 'goal', 'goal', 'goal', 'goal', 'random', 'near', 'near', 'huge', 'tiny', 'nan', 'estop'] as const);
      const target = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        switch (mode) {
          case 'goal':
            target[i] = goal[i];
            break;
          case 'random':
          case 'estop':
            target[i] = L.lower[i] - 0.5 + rng.uniform() * (L.upper[i] - L.lower[i] + 1);
            break;
          case 'near':
            target[i] = prev[i] + 0.05 * rng.normal();
            break;
          case 'huge':
            target[i] = pick([1e6, -1e6, 1e300, -1e300, Number.MAX_VALUE]) * rng.uniform();
            break;
          case 'tiny':
            target[i] = prev[i] + 1e-12 * rng.normal();
            break;
          case 'nan':
            target[i] = rng.uniform() < 0.3 ? pick([Number.NaN, Infinity, -Infinity]) : prev[i];
            break;
        }
      }
      if (mode === 'estop') {
        if (f.isHeld) f.release();
        else if (rng.uniform() < 0.5) f.hold('property test');
      }
      const gripper = Float64Array.from({ length: nArms }, () => (rng.uniform() < 0.05 ? Number.NaN : -0.1 + 0.3 * rng.uniform()));

      const c = f.filterJointTargets({ target, gripper, measured: prev });
      stats.commands++;
      if (c.held) stats.held++;
      if (c.held && c.interventions.every((i) => i.kind === 'workspace' || i.kind === 'gripper_range')) stats.workspaceHolds++;
      for (const kind of new Set(c.interventions.map((i) => i.kind))) stats.kinds[kind]++;

      // plain checks (expect() per element would dominate the run time)
      if (c.positions.length !== n) throw new Error(`${robot.id}: ${c.positions.length} positions`);
      for (let i = 0; i < n; i++) {
        const p = c.positions[i];
        if (!(p >= L.lower[i] - 1e-12 && p <= L.upper[i] + 1e-12)) {
          throw new Error(`${robot.id} seq ${s} step ${k}: joint ${i} at ${p} outside [${L.lower[i]}, ${L.upper[i]}]`);
        }
      }
      if (c.held) {
        if (c.positions.some((p, i) => p !== prev[i])) throw new Error(`${robot.id} seq ${s} step ${k}: a hold moved`);
        if (!c.interventions.some((i) => i.kind === 'non_finite' || i.kind === 'hold' || i.kind === 'workspace')) {
          throw new Error(`${robot.id} seq ${s} step ${k}: held without a reason`);
        }
        prevV = new Float64Array(n);
      } else {
        for (let i = 0; i < n; i++) {
          const v = (c.positions[i] - prev[i]) / dt;
          const vmax = L.maxVelocity[i];
          const dvmax = L.maxAcceleration[i] * dt;
          if (Math.abs(v) > vmax * (1 + 1e-9) + 1e-9 || Math.abs(v - prevV[i]) > dvmax * (1 + 1e-9) + 1e-9) {
            throw new Error(`${robot.id} seq ${s} step ${k}: joint ${i} v ${v} (prev ${prevV[i]}, max ${vmax}, max dv ${dvmax})`);
          }
          prevV[i] = v;
        }
      }
      if (!tcpInside(c.positions)) throw new Error(`${robot.id} seq ${s} step ${k}: TCP left the workspace`);
      c.gripper.forEach((g, a) => {
        if (!(g >= L.gripper[a][0] && g <= L.gripper[a][1])) throw new Error(`${robot.id} seq ${s} step ${k}: gripper ${g}`);
      });
      prev = Float64Array.from(c.positions);
    }
  }
  return stats;
}

describe('SafetyFilter property: no emitted command leaves the limits', () => {
  const cases: [string, number][] = [
    ['franka/fr3', 1000],
    ['franka/panda', 500],
    ['agibot/dual_arm', 500],
  ];
  for (const [id, sequences] of cases) {
    it(`${id}: ${sequences} random sequences of 40 commands`, () => {
      const robot = loadRobot(id);
      const stats = runSequences(robot, sequences, 40, id.length * 7919);
      console.log(`${id}: ${JSON.stringify(stats)}`);
      expect(stats.commands).toBe(sequences * 40);
      // the generator reached every kind of intervention
      for (const kind of INTERVENTION_KINDS) expect(stats.kinds[kind], kind).toBeGreaterThan(0);
      // holds come from NaN / Inf and the e-stop latch, rarely from the workspace
      expect(stats.held / stats.commands).toBeLessThan(0.45); // about 0.35-0.4 with this generator
      expect(stats.workspaceHolds / stats.commands).toBeLessThan(0.01);
    });
  }

  it('limits are the description limits tightened by the overrides', () => {
    const fr3 = loadRobot('franka/fr3');
    const L = effectiveLimits(fr3, { velocityScale: 0.5, positionMargin: 0.1 });
    expect(L.upper[3]).toBeCloseTo(-0.1518 - 0.1, 12);
    expect(L.lower[5]).toBeCloseTo(0.5445 + 0.1, 12);
    expect(L.maxVelocity[4]).toBeCloseTo(2.63, 12);
    expect(L.maxAcceleration[0]).toBe(10);
    expect(() => effectiveLimits(fr3, { positionMargin: 1.5 })).toThrow(/leaves no range for joint fr3_joint4/);
    expect(() => effectiveLimits(fr3, { workspace: [] })).toThrow(/one box, or one per arm/);
  });
});
