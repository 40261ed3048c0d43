import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { checkNodeParameters, loadParameterFile, parseParameterYaml } from '../../src/ros/params.ts';
import { ArmatureNode, NODE_PARAMETERS } from '../../src/ros/node.ts';
import { InProcessBus } from '../../src/ros/inprocess.ts';
import { loadSimMapping } from '../../src/ros/sim-node.ts';
import { loadRobot } from '../../src/embodiment/registry.ts';
import { withoutRosArgs } from '../../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const LAUNCH = join(ROOT, 'launch');
const paramFiles = readdirSync(LAUNCH).filter((f) => f.endsWith('.params.yaml'));

describe('launch parameter files against the parameters the node declares', () => {
  it('there is one for Franka, AgiBot and the simulator', () => {
    expect(paramFiles.sort()).toEqual(['agibot.params.yaml', 'franka.params.yaml', 'sim.params.yaml']);
  });

  for (const f of paramFiles) {
    it(`${f}: every declared key, no unknown key, each of the declared kind; the node takes them all`, () => {
      const params = loadParameterFile(join(LAUNCH, f), 'armature');
      expect(checkNodeParameters(params, { requireAll: true })).toEqual([]);
      // ROS types a YAML 1 as an integer: double parameters must be written with a decimal point
      const text = readFileSync(join(LAUNCH, f), 'utf8');
      for (const [name, spec] of Object.entries(NODE_PARAMETERS)) {
        if (typeof spec.default !== 'number' || ('integer' in spec && spec.integer)) continue;
        expect(text, `${f}: ${name} must be written as a double`).toMatch(new RegExp(`^\\s+${name}: -?\\d+\\.\\d+`, 'm'));
      }
      const t = new InProcessBus().node('armature', { parameters: params });
      const node = new ArmatureNode({ transport: t, log: () => {} });
      expect(t.undeclaredParameterOverrides()).toEqual([]);
      expect(node.params.robot).toBe(params['robot']);
      // the robot it names exists and offers the command interface it selects
      const robot = loadRobot(String(params['robot']));
      expect(robot.ros.commands.map((c) => c.kind)).toContain(params['command_interface']);
    });
  }

  it('unknown, missing and mistyped keys fail with their names', () => {
    const yaml = 'armature:\n  ros__parameters:\n    model_dir: x\n    contol_rate_hz: 20.0\n    seed: "one"\n';
    const problems = checkNodeParameters(parseParameterYaml(yaml, 'armature'), { requireAll: true });
    expect(problems.some((p) => p.includes("unknown parameter 'contol_rate_hz'"))).toBe(true);
    expect(problems.some((p) => p.includes("parameter 'seed'"))).toBe(true);
    expect(problems.some((p) => p === "missing parameter 'control_rate_hz'")).toBe(true);
    expect(() => parseParameterYaml('other_node:\n  ros__parameters: {a: 1}\n', 'armature')).toThrow(/no 'armature:' or '\/\*\*:' section/);
    expect(parseParameterYaml('/**:\n  ros__parameters: {seed: 1}\narmature:\n  ros__parameters: {seed: 2}\n', 'armature')).toEqual({ seed: 2 });
  });

  it('a wrongly typed override is refused when the node declares it', () => {
    const t = new InProcessBus().node('armature', { parameters: { velocity_scale: 'fast' } });
    expect(() => new ArmatureNode({ transport: t, log: () => {} })).toThrow(/velocity_scale/);
  });
});

describe('ROS 2 package and launch files', () => {
  it('launch files use the installed entry points and existing parameter files', () => {
    const cmake = readFileSync(join(ROOT, 'CMakeLists.txt'), 'utf8');
    for (const [launch, params] of [['franka.launch.py', 'franka.params.yaml'], ['agibot.launch.py', 'agibot.params.yaml'], ['sim.launch.py', 'sim.params.yaml']] as const) {
      const text = readFileSync(join(LAUNCH, launch), 'utf8');
      expect(text).toContain(`'${params}'`);
      for (const exe of text.matchAll(/executable='([a-z_]+)'/g)) {
        expect(cmake).toContain(exe[1]!);
        expect(existsSync(join(ROOT, 'ros2', `${exe[1]}.in`))).toBe(true);
      }
    }
    expect(readFileSync(join(ROOT, 'package.xml'), 'utf8')).toMatch(/<name>armature<\/name>[\s\S]*<build_type>ament_cmake<\/build_type>/);
  });

  it('hardware/sim mappings speak the real robots\' topics', () => {
    for (const scene of ['franka', 'dual_arm']) {
      const m = loadSimMapping(scene);
      const robot = loadRobot(m.robot);
      expect(m.joint_states).toBe(robot.ros.joint_states.topic);
      for (const [cam, topic] of Object.entries(m.cameras)) expect(topic).toBe(robot.ros.cameras[cam]!.image.topic);
      for (const c of robot.ros.commands) expect((m.commands as Record<string, string | undefined>)[c.kind]).toBe(c.topic);
      for (const g of robot.ros.grippers) if (g.kind === 'franka_actions') expect(m.grippers[g.arm]).toEqual({ move: g.move.name, grasp: g.grasp.name });
    }
  });

  it('the CLI drops --ros-args for rcl and `armature node --help` works', async () => {
    expect(withoutRosArgs(['node', 'x', 'node', '--transport', 'rclnodejs', '--ros-args', '-r', '__node:=a', '--params-file', 'f'])).toEqual(['node', 'x', 'node', '--transport', 'rclnodejs']);
    expect(withoutRosArgs(['a', '--ros-args', '-p', 'x:=1', '--', '--json'])).toEqual(['a', '--json']);
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'armature.mjs'), 'node', '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/--transport <kind>/);
    expect(stdout).toMatch(/--input <bag>/);
  }, 30_000);
});
