#!/usr/bin/env node
/**
 * Evaluate a model package on suites (LIBERO protocol, fixed init states) with one or more
 * samplers, optionally on another robot, keep each run under
 * models/<name>/eval/<suite>[-<sampler>][-<robot model>][-i<episodes> unless 10]/ (results.json,
 * results.md, report.html, episodes.ndjson; resumable), and write the combined table to
 * models/<name>/eval/results.json.
 *
 *   node scripts/eval-package.mjs diffusion-small --suites spatial,object,goal,long \
 *        --samplers default,streaming --episodes 10 [--workers 2] [--collect-only]
 *   node scripts/eval-package.mjs uniact-small --robot universal_robots/ur5e --episodes 10
 *   node scripts/eval-package.mjs flow-base --samplers truncated --schedule replan --replan 8
 *   node scripts/eval-package.mjs flow-base --samplers truncated --noise-scale 1
 *   node scripts/eval-package.mjs diffusion-small --samplers streaming --eta 0
 *
 * --schedule / --replan / --blend-steps choose chunk execution over the package's own (folder
 * suffix e.g. -replan-r8), --noise-scale a flow package's sampling noise scale (suffix -ns1), --eta a
 * diffusion package's DDIM eta (suffix -eta0); runs record what they ran with.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const name = args[0];
if (!name || name.startsWith('-')) {
  process.stderr.write('usage: node scripts/eval-package.mjs <model> [--suites a,b] [--samplers default,streaming] [--episodes 10] [--workers 2] [--robot <id>] [--collect-only]\n');
  process.exit(2);
}
const opt = (flag, dflt) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : dflt;
};
const suites = opt('--suites', 'spatial,object,goal,long').split(',');
const samplers = opt('--samplers', 'default').split(',');
const episodes = opt('--episodes', '10');
const workers = opt('--workers', '2');
/** robot description id instead of each suite's own, e.g. universal_robots/ur5e */
const robot = opt('--robot', null);
/** chunk execution over the package's own: mode, actions per chunk, blend steps */
const schedule = opt('--schedule', null);
const replan = opt('--replan', null);
const blendSteps = opt('--blend-steps', null);
/** flow: sampling noise scale over the package's own */
const noiseScale = opt('--noise-scale', null);
/** diffusion: DDIM eta over the sampler's default */
const eta = opt('--eta', null);
const scheduleTag = [schedule, replan ? `r${replan}` : null, blendSteps ? `b${blendSteps}` : null, noiseScale !== null ? `ns${noiseScale}` : null, eta !== null ? `eta${eta}` : null].filter(Boolean).join('-');
const pkg = path.join(ROOT, 'models', name);
const evalDir = path.join(pkg, 'eval');

if (!args.includes('--collect-only')) {
  for (const sampler of samplers) {
    for (const suite of suites) {
      const folder = [suite, ...(sampler === 'default' ? [] : [sampler]), ...(robot ? [robot.split('/')[1]] : []), ...(scheduleTag ? [scheduleTag] : []), ...(episodes === '10' ? [] : [`i${episodes}`])].join('-');
      const out = path.join(evalDir, folder);
      const cli = [path.join(ROOT, 'bin', 'armature.mjs'), 'eval', '--suite', suite, '--model', path.relative(ROOT, pkg), '--episodes', episodes, '--workers', workers, '--videos', '1', '--out', path.relative(ROOT, out), '--no-progress'];
      if (sampler !== 'default') cli.push('--sampler', sampler);
      if (robot) cli.push('--robot', robot);
      if (schedule) cli.push('--schedule', schedule);
      if (replan) cli.push('--replan', replan);
      if (blendSteps) cli.push('--blend-steps', blendSteps);
      if (noiseScale !== null) cli.push('--noise-scale', noiseScale);
      if (eta !== null) cli.push('--eta', eta);
      process.stderr.write(`$ node ${cli.join(' ')}\n`);
      const r = spawnSync(process.execPath, cli, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  }
}

const runs = [];
for (const dir of existsSync(evalDir) ? readdirSync(evalDir).sort() : []) {
  const file = path.join(evalDir, dir, 'results.json');
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  runs.push({
    suite: r.suite,
    sampler: r.config?.policy?.sampler ?? 'default',
    robot: r.config?.robot ?? null,
    steps: r.config?.policy?.steps ?? null,
    ...(r.config?.policy?.rtiTail ? { rti_tail: r.config.policy.rtiTail } : {}),
    // flow sampling noise scale chosen over the package's (absent: the package's own at the time of the run)
    ...(r.config?.policy?.noiseScale !== undefined ? { noise_scale: r.config.policy.noiseScale } : {}),
    // diffusion DDIM eta chosen over the sampler's default (absent: the default at the time of the run)
    ...(r.config?.policy?.eta !== undefined ? { eta: r.config.policy.eta } : {}),
    // chunk execution chosen over the package's (absent: the package's own at the time of the run)
    ...(r.config?.schedule ? { schedule: r.config.schedule } : {}),
    ...(r.config?.replan ? { replan: r.config.replan } : {}),
    ...(r.note ? { note: r.note } : {}),
    episodes: r.episodes,
    init_states_per_task: r.config?.episodes ?? null,
    success_rate: r.success_rate,
    nfe_per_action: r.nfe_per_action ?? null,
    tasks: r.tasks.map((t) => ({ task: t.task, success_rate: t.success_rate, episodes: t.episodes })),
    folder: path.relative(pkg, path.join(evalDir, dir)),
    wall_s: r.wall_s,
  });
}
const summary = {
  model: name,
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
  protocol: 'LIBERO-style: fixed init states 0..n-1 per task, 20 Hz, 10 settling steps, suite max steps; success from physics state',
  runs,
};
writeFileSync(path.join(evalDir, 'results.json'), JSON.stringify(summary, null, 1) + '\n');
for (const r of runs) process.stdout.write(`${r.suite}\t${r.robot ?? ''}\t${r.sampler}${r.rti_tail ? ` (tail ${r.rti_tail})` : ''}${r.schedule ? ` ${r.schedule.mode ?? ''}` : ''}${r.replan ? ` r${r.replan}` : ''}${r.noise_scale !== undefined ? ` ns${r.noise_scale}` : ''}${r.eta !== undefined ? ` eta${r.eta}` : ''}\t${(100 * r.success_rate).toFixed(1)} %\t${r.episodes} episodes\tnfe/action ${r.nfe_per_action?.toFixed(2) ?? '-'}\n`);
