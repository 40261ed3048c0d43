/**
 * The node offline on a recorded bag: McapReplayTransport feeds the bag's topics
 * on bag time, the node runs unchanged, and everything it publishes (commands,
 * gripper widths, diagnostics) goes to a new bag.
 */
import type { Policy } from '../policy/types.ts';
import { McapReplayTransport, type ReplayStats } from './mcap.ts';
import { ArmatureNode, type NodeCounters } from './node.ts';
import type { ParameterValue } from './transport.ts';

export interface OfflineRunOptions {
  input: string;
  output: string;
  /** model package (sets model_dir) unless `policy` is given */
  modelDir?: string;
  policy?: Policy;
  /** node parameters (from the launch YAML); model_dir from `modelDir` wins */
  parameters?: Readonly<Record<string, ParameterValue>>;
  /** 'max' (default) = as fast as possible; x = x times real time */
  rate?: number | 'max';
  name?: string;
  log?: (line: string) => void;
}

export interface OfflineRunResult extends ReplayStats {
  counters: NodeCounters;
  /** messages written to the output bag */
  written: number;
}

/**
 * Defaults that differ from a live robot, because a bag has no one to answer:
 * inference is synchronous (bag time stands still while the model runs, so the
 * result is reproducible), and gripper widths go to /armature/gripper_command
 * (there is no gripper action server to send goals to).
 */
export const OFFLINE_DEFAULTS: Readonly<Record<string, ParameterValue>> = {
  async_inference: false,
  gripper_topic: '/armature/gripper_command',
};

export async function runOffline(opts: OfflineRunOptions): Promise<OfflineRunResult> {
  const name = opts.name ?? 'armature';
  const parameters: Record<string, ParameterValue> = { ...OFFLINE_DEFAULTS, ...(opts.parameters ?? {}) };
  if (opts.modelDir) parameters['model_dir'] = opts.modelDir;
  const transport = await McapReplayTransport.open({ input: opts.input, output: opts.output, name, parameters });
  const node = new ArmatureNode({ transport, ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.log ? { log: opts.log } : {}) });
  try {
    await node.start();
    const stats = await transport.run({ rate: opts.rate ?? 'max' });
    return { ...stats, counters: node.counters, written: transport.recorder?.messageCount ?? 0 };
  } finally {
    await node.close();
    await transport.close();
  }
}
