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
import { registerEvalCommand, registerRecordCommand, registerTaskCommands } from './eval.ts';

export function buildProgram(): Command {
  const program = new Command('armature')
    .description('Armature: run VLA, diffusion and flow policies on robots and in simulation')
    .showHelpAfterError()
    .exitOverride();
  registerPolicyCommands(program);
  registerSimCommand(program);
  registerTaskCommands(program);
  registerEvalCommand(program);
  registerRecordCommand(program);
  registerBenchCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
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
