/**
 * Soak: node + simulator in one process (in-process bus, manual clock, lockstep)
 * for a wall-clock duration, sampling heap and RSS, to catch leaks in the
 * node, transports, control loop and simulator.
 */
import { createSimSession } from './session.ts';

export interface SoakOptions {
  /** wall-clock duration, min */
  minutes: number;
  scene?: string;
  /** model package (default: the scripted joint sweep) */
  modelDir?: string;
  /** render cameras in Chromium (default: synthetic frames) */
  render?: boolean;
  /** control ticks run before the baseline sample (default 400) */
  warmupTicks?: number;
  /** called with each sample */
  onSample?: (s: SoakSample) => void;
}

export interface SoakSample {
  /** wall time since the baseline, s */
  t: number;
  ticks: number;
  /** MiB */
  rssMiB: number;
  /** MiB */
  heapMiB: number;
}

export interface SoakResult {
  /** measured duration after warm-up, min */
  minutes: number;
  ticks: number;
  /** sim seconds per wall second */
  realtimeFactor: number;
  baseline: SoakSample;
  final: SoakSample;
  rssGrowthPct: number;
  heapGrowthPct: number;
  /** largest RSS seen, MiB */
  peakRssMiB: number;
  samples: SoakSample[];
}

const MiB = 1024 * 1024;

function sample(t: number, ticks: number): SoakSample {
  const m = process.memoryUsage();
  return { t, ticks, rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB };
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  if (!(opts.minutes > 0)) throw new RangeError(`soak minutes must be > 0, got ${opts.minutes}`);
  const s = await createSimSession({
    scene: opts.scene ?? 'franka',
    ...(opts.modelDir ? { modelDir: opts.modelDir } : {}),
    render: opts.render ?? false,
    log: () => {},
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    await s.run(opts.warmupTicks ?? 400);
    gc?.();
    const t0 = performance.now();
    let ticks = 0;
    const baseline = sample(0, 0);
    const samples: SoakSample[] = [baseline];
    const endMs = t0 + opts.minutes * 60_000;
    let nextSample = t0 + 5_000;
    while (performance.now() < endMs) {
      await s.run(20);
      ticks += 20;
      const now = performance.now();
      if (now >= nextSample) {
        const x = sample((now - t0) / 1000, ticks);
        samples.push(x);
        opts.onSample?.(x);
        nextSample = now + 5_000;
      }
    }
    gc?.();
    const wallS = (performance.now() - t0) / 1000;
    const final = sample(wallS, ticks);
    samples.push(final);
    return {
      minutes: wallS / 60,
      ticks,
      realtimeFactor: ticks / s.rateHz / wallS,
      baseline,
      final,
      rssGrowthPct: ((final.rssMiB - baseline.rssMiB) / baseline.rssMiB) * 100,
      heapGrowthPct: ((final.heapMiB - baseline.heapMiB) / baseline.heapMiB) * 100,
      peakRssMiB: Math.max(...samples.map((x) => x.rssMiB)),
      samples,
    };
  } finally {
    await s.close();
  }
}
