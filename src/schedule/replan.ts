/**
 * Execute-then-replan: the latest chunk alone drives the robot. A new chunk is wanted
 * once actionsPerChunk ticks of the current one have run; if it is late, the current
 * chunk keeps running past actionsPerChunk up to its horizon, and only then is the last
 * action held (starved).
 */
import { actionAt, type ActionChunk } from '../policy/types.ts';
import { ScheduleBase } from './base.ts';
import type { ReplanOptions } from './types.ts';

export class ReplanSchedule extends ScheduleBase {
  readonly mode = 'replan' as const;
  private chunk: ActionChunk | null = null;
  private start = 0;

  constructor(opts: Omit<ReplanOptions, 'mode'>) {
    super(opts.actionsPerChunk);
  }

  protected accept(chunk: ActionChunk, obsTick: number): void {
    this.chunk = chunk;
    this.start = obsTick;
  }

  protected lookup(tick: number): Float32Array | null {
    const c = this.chunk;
    if (c === null) return null;
    const k = tick - this.start;
    return k >= 0 && k < c.horizon ? actionAt(c, k) : null;
  }

  protected clear(): void {
    this.chunk = null;
  }
}
