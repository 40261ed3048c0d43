/**
 * The planned end-effector path of the chunk being executed, in world
 * coordinates, for the viewer overlay: joint chunks through forward kinematics,
 * end-effector delta chunks by accumulating the deltas from the current TCP.
 */
import type { SimRobot } from './sim-robot.ts';
import type { ControlLoop } from '../../src/runtime/control-loop.ts';
import { chainFromArm, tipPosition } from '../../src/embodiment/kinematics.ts';
import { ActionMapper } from '../../src/actions/command.ts';

type Point = [number, number, number];

export function chunkPathOf(robot: SimRobot, loop: ControlLoop): Point[] {
  const chunk = loop.executor.lastChunk;
  if (!chunk) return [];
  const arm = robot.robot.arms[0]!;
  const chain = chainFromArm(arm);
  const q = robot.sim.jointPositions(robot.jointNames);
  const tcp = robot.sim.sitePose(robot.tcpSites[0]!).pos;
  const here = tipPosition(chain, q.subarray(0, arm.joints.length));
  // world = base + FK(q): the base offset is read off the current state (bases are not rotated)
  const off: Point = [tcp[0]! - here[0]!, tcp[1]! - here[1]!, tcp[2]! - here[2]!];
  const mapper = new ActionMapper(loop.actionSpec, robot.robot);
  const path: Point[] = [];
  const cur: Point = [tcp[0]!, tcp[1]!, tcp[2]!];
  for (let k = 0; k < chunk.horizon; k++) {
    const req = mapper.toRequest(chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim), q);
    if (req.type === 'joint_position') {
      const p = tipPosition(chain, req.target.subarray(0, arm.joints.length));
      path.push([p[0]! + off[0], p[1]! + off[1], p[2]! + off[2]]);
    } else {
      cur[0] += req.delta[0]!;
      cur[1] += req.delta[1]!;
      cur[2] += req.delta[2]!;
      path.push([cur[0], cur[1], cur[2]]);
    }
  }
  return path;
}
