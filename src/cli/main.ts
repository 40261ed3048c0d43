/**
 * `armature` command line. Each subcommand lives in its own module and is
 * loaded only when used, so `--help` stays fast and optional parts (ROS,
 * browser) are never imported by accident.
 */
import { Command, CommanderError } from 'commander';
import { ArmatureError } from '../errors.ts';
import { registerPolicyCommands } from './policy.ts';
import { registerBenchCommand } from './bench.ts';
import { registerSimCommand } from './sim.ts';
import { registerNodeCommands } from './node.ts';
import { registerEvalCommand, registerRecordCommand, registerTaskCommands } from './eval.ts';
import { registerDatasetCommands, registerTrainCommand } from './train.ts';

export function buildProgram(): Command {
  const program = new Command('armature')
    .description('Armature: run VLA, diffusion and flow policies on robots and in simulation')
    .showHelpAfterError()
    .exitOverride();
  registerPolicyCommands(program);
  registerSimCommand(program);
  registerNodeCommands(program);
  registerTaskCommands(program);
  registerEvalCommand(program);
  registerRecordCommand(program);
  registerDatasetCommands(program);
  registerTrainCommand(program);
  registerBenchCommand(program);
  return program;
}

/** Drop `--ros-args ... [--]` (added by ros2 run/launch): rcl reads them from process.argv itself. */
export function withoutRosArgs(argv: readonly string[]): string[] {
  const at = argv.indexOf('--ros-args');
  if (at < 0) return [...argv];
  const end = argv.indexOf('--', at);
  return [...argv.slice(0, at), ...(end >= 0 ? argv.slice(end + 1) : [])];
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(withoutRosArgs(argv));
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ArmatureError) {
      process.stderr.write(`armature: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
