/**
 * diffusion.nfe_per_action.<mode> and diffusion.step_p50_ms.<mode>: the shipped
 * diffusion and flow packages driven through the control loop for a fixed number
 * of ticks, each mode with its natural execution horizon.
 */
import { join } from 'node:path';
import type { BenchEntry } from '../bench/types.ts';
import { loadPolicy } from './load.ts';
import { loadManifest } from './manifest.ts';
import { loadRobot } from '../embodiment/registry.ts';
import { ControlLoop } from '../runtime/control-loop.ts';
import { percentile, rawExampleObservation, restamp } from '../runtime/bench-util.ts';
import type { ScheduleOptions } from '../schedule/index.ts';

const MODELS_DIR = join(import.meta.dirname, '..', '..', 'models');

interface ModeCase {
  mode: string;
  model: string;
  sampler: string;
  steps?: number;
  schedule: ScheduleOptions;
  note: string;
}

/** Chunk modes execute 8 actions per chunk (LIBERO baselines use 5 or 8); streaming emits one clean action per step. */
const EXECUTE = 8;
export const SAMPLER_CASES: readonly ModeCase[] = [
  { mode: 'ddpm', model: 'diffusion-tiny', sampler: 'ddpm', schedule: { mode: 'replan', actionsPerChunk: EXECUTE }, note: 'all T=100 steps per chunk' },
  { mode: 'ddim', model: 'diffusion-tiny', sampler: 'ddim', steps: 10, schedule: { mode: 'replan', actionsPerChunk: EXECUTE }, note: 'DDIM-10 per chunk' },
  { mode: 'streaming', model: 'diffusion-tiny', sampler: 'streaming', steps: 1, schedule: { mode: 'replan', actionsPerChunk: 1 }, note: '1 denoiser call per action (SDP buffer)' },
  { mode: 'rti', model: 'diffusion-tiny', sampler: 'rti', steps: 4, schedule: { mode: 'replan', actionsPerChunk: 4 }, note: 'last 4 of 10 DDIM steps every 4 actions, warm-started from the shifted previous chunk (uncovered rows from noise)' },
  { mode: 'truncated', model: 'flow-tiny', sampler: 'truncated', schedule: { mode: 'replan', actionsPerChunk: EXECUTE }, note: 'A1 early exit over 3 exits, 10 Euler steps cold' },
];

export async function benchSamplerMode(c: ModeCase, ticks = 160): Promise<BenchEntry[]> {
  const dir = join(MODELS_DIR, c.model);
  const policy = await loadPolicy(dir, { sampler: c.sampler, steps: c.steps, seed: 0 });
  try {
    const manifest = loadManifest(dir);
    const [embodiment, spec] = Object.entries(manifest.embodiments)[0]!;
    const robot = loadRobot(spec.robot);
    const loop = new ControlLoop({ policy, robot, embodiment, schedule: c.schedule });
    const obs0 = rawExampleObservation(dir);
    const rate = policy.metadata.controlRateHz;
    // first chunk includes session warm-up (and the streaming buffer's staircase fill): not counted
    let nfe = 0;
    let exits = 0;
    let chunks = 0;
    const inferSteps: number[] = [];
    const allSteps: number[] = [];
    let lastStamp = -1;
    for (let tick = 0; tick < ticks + EXECUTE; tick++) {
      const t0 = performance.now();
      const r = await loop.step(restamp(obs0, tick / rate), tick);
      const dt = performance.now() - t0;
      if (r.error) throw r.error;
      if (tick < EXECUTE) continue;
      allSteps.push(dt);
      if (r.inferred) inferSteps.push(dt);
      const chunk = loop.executor.lastChunk;
      if (r.inferred && chunk && chunk.stamp !== lastStamp) {
        lastStamp = chunk.stamp;
        nfe += chunk.stats.nfe ?? 0;
        exits += chunk.stats.exitIndex ?? 0;
        chunks++;
      }
    }
    const details = { model: c.model, note: c.note, ticks: allSteps.length, chunks, mean_step_ms: allSteps.reduce((a, b) => a + b, 0) / allSteps.length };
    const entries: BenchEntry[] = [
      { name: `diffusion.nfe_per_action.${c.mode}`, value: nfe / allSteps.length, unit: 'evaluations/action', ...details },
      { name: `diffusion.step_p50_ms.${c.mode}`, value: percentile(inferSteps, 50), unit: 'ms', p99_ms: percentile(inferSteps, 99), measured_over: 'control steps that ran inference', ...details },
    ];
    if (c.mode === 'truncated') entries[0]!['mean_exit_index'] = exits / chunks;
    return entries;
  } finally {
    await policy.dispose();
  }
}

export async function benchSamplers(): Promise<BenchEntry[]> {
  const out: BenchEntry[] = [];
  for (const c of SAMPLER_CASES) out.push(...(await benchSamplerMode(c)));
  return out;
}
