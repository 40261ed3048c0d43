/**
 * Where a control step's time outside onnxruntime goes: the JS segments before the first graph
 * call, between calls and after the last (p50 over 1,200 steps, inference on every tick, as
 * `runtime.overhead_ratio_p50` runs it). The ratio's numerator minus its denominator is about the
 * sum printed last.
 *
 *   node --import tsx scripts/profile-step.mts flow-small
 */
import { join } from 'node:path';
import { loadModelPackage } from '../src/policy/model-package.ts';
import { policyFromPackage } from '../src/policy/load.ts';
import { loadRobot } from '../src/embodiment/registry.ts';
import { ControlLoop } from '../src/runtime/control-loop.ts';
import { percentile, rawExampleObservation, restamp } from '../src/runtime/bench-util.ts';

const name = process.argv[2] ?? 'flow-small';
const dir = join(import.meta.dirname, '..', 'models', name);
const pkg = await loadModelPackage(dir);

// timestamp every graph call and its completion (the native session's synchronous run, or the
// public session's promise on the fallback)
let marks: Array<[string, number]> = [];
for (const [graph, g] of pkg.graphs) {
  const session = (g.native ?? (g as unknown as { publicSession: unknown }).publicSession) as { run: (...args: unknown[]) => unknown };
  const run = session.run.bind(session);
  session.run = (...args: unknown[]) => {
    marks.push([`call ${graph}`, performance.now()]);
    const r = run(...args);
    if (!(r instanceof Promise)) {
      marks.push([`done ${graph}`, performance.now()]);
      return r;
    }
    return r.then((v) => {
      marks.push([`done ${graph}`, performance.now()]);
      return v;
    });
  };
}
console.log(`${name}: graphs run on the ${[...pkg.graphs.values()].map((g) => g.sessionKind).join(', ')} session(s)`);

const policy = policyFromPackage(pkg, { seed: 0 });
const [embodiment, spec] = Object.entries(pkg.manifest.embodiments)[0]!;
const loop = new ControlLoop({ policy, robot: loadRobot(spec.robot), embodiment, schedule: { mode: 'replan', actionsPerChunk: 1 } });
const obs0 = rawExampleObservation(dir);
const rate = pkg.manifest.control_rate_hz;

const samples: number[][] = [];
let labels: string[] = [];
for (let tick = 0; tick < 1300; tick++) {
  const obs = restamp(obs0, tick / rate);
  marks = [['start', performance.now()]];
  await loop.step(obs, tick);
  marks.push(['end', performance.now()]);
  // JS segments: from the step's start or a call's completion to the next call or the step's end
  const gaps: number[] = [];
  labels = [];
  for (let k = 0; k + 1 < marks.length; k++) {
    const [a, ta] = marks[k]!;
    const [b, tb] = marks[k + 1]!;
    if ((a === 'start' || a.startsWith('done')) && (b === 'end' || b.startsWith('call'))) {
      gaps.push((tb - ta) * 1000);
      labels.push(`${a} -> ${b}`);
    }
  }
  if (tick >= 100) samples.push(gaps);
}
let total = 0;
for (const [k, label] of labels.entries()) {
  const us = percentile(samples.map((g) => g[k]!), 50);
  total += us;
  console.log(`${label.padEnd(40)} ${us.toFixed(1)} us`);
}
console.log(`${name}: JS outside onnxruntime per step (sum of p50s) ${total.toFixed(1)} us`);
