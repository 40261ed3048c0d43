/**
 * ros.tick_p99_ms.inprocess: wall time of one node tick, from assembling the
 * observation to the command published, with the bundled policy (vla-chunk-tiny)
 * driving the simulator through the in-process transport (synthetic camera frames).
 * soak.rss_growth_pct.10min: RSS growth of node + simulator over a soak; the bench
 * runs a shorter soak (ARMATURE_SOAK_MINUTES, default 1) and says so in its details.
 */
import { join } from 'node:path';
import type { BenchEntry } from '../bench/types.ts';
import { percentile } from '../runtime/bench-util.ts';
import { createSimSession } from './session.ts';
import { runSoak } from './soak.ts';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'vla-chunk-tiny');

async function tickLatencies(asyncInference: boolean, ticks: number): Promise<number[]> {
  const s = await createSimSession({ scene: 'franka', modelDir: MODEL, parameters: { async_inference: asyncInference }, log: () => {} });
  const lat: number[] = [];
  try {
    await s.run(40); // warm-up
    s.node.onTick = (r) => void lat.push(r.latencyMs);
    await s.run(ticks);
  } finally {
    await s.close();
  }
  return lat;
}

export async function benchRosTick(ticks = 400): Promise<BenchEntry[]> {
  const asyncLat = await tickLatencies(true, ticks);
  const syncLat = await tickLatencies(false, ticks);
  return [
    {
      name: 'ros.tick_p99_ms.inprocess',
      value: percentile(asyncLat, 99),
      unit: 'ms',
      p50: percentile(asyncLat, 50),
      ticks: asyncLat.length,
      sync_p50_ms: percentile(syncLat, 50),
      sync_p99_ms: percentile(syncLat, 99),
      note: 'observation assembled -> command published, node default (background inference, lockstep with the bus); sync_* = inference inside the tick. vla-chunk-tiny, 2 synthetic 64x64 rgb8 cameras, franka scene, 20 Hz',
    },
  ];
}

export async function benchSoak(minutes = Number(process.env['ARMATURE_SOAK_MINUTES'] ?? 1)): Promise<BenchEntry[]> {
  const r = await runSoak({ minutes, modelDir: MODEL });
  return [
    {
      name: 'soak.rss_growth_pct.10min',
      value: r.rssGrowthPct,
      unit: '%',
      target: '< 5',
      measured_minutes: +r.minutes.toFixed(2),
      note: r.minutes < 9.5 ? `shorter soak than the name says: ${r.minutes.toFixed(1)} min (set ARMATURE_SOAK_MINUTES=10 or run armature soak --minutes 10)` : '10-minute soak',
      ticks: r.ticks,
      realtime_factor: +r.realtimeFactor.toFixed(1),
      rss_start_mib: +r.baseline.rssMiB.toFixed(1),
      rss_end_mib: +r.final.rssMiB.toFixed(1),
      rss_peak_mib: +r.peakRssMiB.toFixed(1),
      heap_growth_pct: +r.heapGrowthPct.toFixed(2),
    },
  ];
}

export async function benchRos(): Promise<BenchEntry[]> {
  return [...(await benchRosTick()), ...(await benchSoak())];
}
