/**
 * eval.episodes_per_hour.<suite>: a short evaluation of the bundled policy with
 * 2 worker processes (2 tasks x 1 init state per suite). Worker start-up
 * (model load, scene build) is included, as it is in a real run; long runs amortize it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchEntry } from '../../src/bench/types.ts';
import { evaluate } from './evaluate.ts';
import { MAX_STEPS, SUITES } from '../tasks/suites/index.ts';

export const BUNDLED_POLICY = 'vla-chunk-tiny';

export async function benchEval(): Promise<BenchEntry[]> {
  const out: BenchEntry[] = [];
  for (const suite of SUITES) {
    const dir = mkdtempSync(join(tmpdir(), `armature-bench-eval-${suite}-`));
    try {
      const s = await evaluate(
        {
          suite,
          policy: { type: 'model', dir: join(import.meta.dirname, '..', '..', 'models', BUNDLED_POLICY) },
          episodes: 1,
          tasks: [0, 1],
          workers: 2,
          seed: 0,
          imageSize: 128,
          videosPerTask: 0,
          out: dir,
        },
        { policyName: BUNDLED_POLICY },
      );
      out.push({
        name: `eval.episodes_per_hour.${suite}`,
        value: s.episodes_per_hour,
        unit: 'episodes/h',
        workers: 2,
        model: BUNDLED_POLICY,
        episodes: s.episodes,
        wall_s: s.wall_s,
        mean_steps: s.tasks.reduce((a, t) => a + t.episodes * (t.mean_steps_success ?? MAX_STEPS[suite]), 0) / s.episodes,
        note: 'includes worker start-up; cameras agentview + eye_in_hand at 128x128',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
