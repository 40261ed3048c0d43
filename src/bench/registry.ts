/**
 * Every benchmark in the project, in one list. Each suite is imported lazily so
 * a failing optional suite (e.g. no Chromium) is reported without hiding the others.
 */
import type { BenchEntry } from './types.ts';

export interface BenchSuite {
  /** entry-name prefix the suite produces, e.g. 'runtime' */
  readonly name: string;
  run(): Promise<BenchEntry[]>;
}

export const BENCH_SUITES: readonly BenchSuite[] = [
  { name: 'preprocess', run: async () => (await import('../observation/preprocess-bench.ts')).benchPreprocess() },
  { name: 'runtime', run: async () => (await import('../runtime/bench.ts')).benchRuntime() },
  { name: 'diffusion', run: async () => (await import('../policy/sampler-bench.ts')).benchSamplers() },
  { name: 'sim.physics', run: async () => (await import('../../sim/physics/bench.ts')).benchPhysics() },
  { name: 'sim.render', run: async () => (await import('../../sim/render/bench.ts')).benchRender() },
  { name: 'sim.control', run: async () => (await import('../../sim/env/bench.ts')).benchSimControl() },
  { name: 'ros', run: async () => (await import('../ros/bench.ts')).benchRosTick() },
  { name: 'soak', run: async () => (await import('../ros/bench.ts')).benchSoak() },
  { name: 'eval', run: async () => (await import('../../sim/eval/bench.ts')).benchEval() },
];
