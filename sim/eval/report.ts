/** Success-rate tables (Markdown) and a self-contained HTML report (inline CSS and SVG, no scripts or assets). */
import type { EpisodeResult, EvalSummary } from './types.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** What sets a run apart from the protocol's defaults: validation layouts, a chosen schedule. */
function runNotes(s: EvalSummary): string {
  const c = s.config;
  const notes = [
    c.layouts !== undefined ? `validation layouts from seed ${c.layouts} (not the fixed init states)` : '',
    c.schedule ? `schedule ${[c.schedule.mode ?? "the package's", c.schedule.blendSteps !== undefined ? `blend steps ${c.schedule.blendSteps}` : '', c.schedule.decay !== undefined ? `decay ${c.schedule.decay}` : ''].filter(Boolean).join(', ')}` : '',
    c.replan !== undefined ? `${c.replan} actions per chunk` : '',
  ].filter(Boolean);
  return notes.length ? `; ${notes.join('; ')}` : '';
}

export function renderMarkdown(s: EvalSummary): string {
  const lines = [
    `# ${s.suite}: ${s.policy}`,
    '',
    `Success ${pct(s.success_rate)} (${s.successes}/${s.episodes} episodes), seed ${s.seed}, ${s.workers} worker(s)${s.nfe_per_action > 0 ? `, ${s.nfe_per_action.toFixed(2)} denoiser evaluations per action` : ''}${runNotes(s)}.`,
    '',
    '| # | task | instruction | success | episodes | timeouts | errors | mean steps (success) |',
    '|---|---|---|---|---|---|---|---|',
    ...s.tasks.map(
      (t, i) =>
        `| ${i} | ${t.task} | ${t.instruction} | ${pct(t.success_rate)} | ${t.episodes} | ${t.timeouts} | ${t.errors} | ${t.mean_steps_success === null ? '-' : t.mean_steps_success.toFixed(1)} |`,
    ),
    `| | **${s.suite}** | | **${pct(s.success_rate)}** | ${s.episodes} | ${s.tasks.reduce((a, t) => a + t.timeouts, 0)} | ${s.tasks.reduce((a, t) => a + t.errors, 0)} | |`,
    '',
  ];
  return lines.join('\n');
}

const esc = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bar chart of per-task success rates. */
function successChart(s: EvalSummary): string {
  const rowH = 22;
  const labelW = 300;
  const barW = 360;
  const h = s.tasks.length * rowH + 30;
  const bars = s.tasks
    .map((t, i) => {
      const y = 20 + i * rowH;
      const w = Math.max(0, t.success_rate * barW);
      const color = t.success_rate >= 0.9 ? '#2e7d32' : t.success_rate >= 0.5 ? '#f9a825' : '#c62828';
      const label = t.task.length > 38 ? `${t.task.slice(0, 36)}…` : t.task;
      return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end"><title>${esc(t.task)}</title>${i}: ${esc(label)}</text><rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}"/><text x="${labelW + w + 4}" y="${y + 14}">${pct(t.success_rate)}</text>`;
    })
    .join('');
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${labelW + f * barW}" y1="14" x2="${labelW + f * barW}" y2="${h - 6}" stroke="#ddd"/><text x="${labelW + f * barW}" y="11" text-anchor="middle" fill="#777">${f * 100}%</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 70}" height="${h}" font-family="sans-serif" font-size="12">${grid}${bars}</svg>`;
}

/** Histogram of episode lengths for successes and failures. */
function stepsChart(results: readonly EpisodeResult[]): string {
  if (results.length === 0) return '';
  const max = Math.max(...results.map((r) => r.steps), 1);
  const bins = 20;
  const ok = new Array<number>(bins).fill(0);
  const bad = new Array<number>(bins).fill(0);
  for (const r of results) (r.success ? ok : bad)[Math.min(bins - 1, Math.floor((r.steps / (max + 1)) * bins))]!++;
  const top = Math.max(...ok.map((v, i) => v + bad[i]!), 1);
  const W = 600;
  const H = 140;
  const bw = W / bins;
  const rects = ok
    .map((v, i) => {
      const hOk = (v / top) * (H - 20);
      const hBad = (bad[i]! / top) * (H - 20);
      const x = i * bw;
      return `<rect x="${x}" y="${H - hOk}" width="${bw - 2}" height="${hOk}" fill="#2e7d32"/><rect x="${x}" y="${H - hOk - hBad}" width="${bw - 2}" height="${hBad}" fill="#c62828"/>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 16}" font-family="sans-serif" font-size="11">${rects}<text x="0" y="${H + 14}">0</text><text x="${W}" y="${H + 14}" text-anchor="end">${max} steps</text></svg>`;
}

export function renderHtmlReport(s: EvalSummary, results: readonly EpisodeResult[]): string {
  const rows = s.tasks
    .map((t) => `<tr><td>${esc(t.task)}</td><td>${esc(t.instruction)}</td><td>${pct(t.success_rate)}</td><td>${t.successes}/${t.episodes}</td><td>${t.timeouts}</td><td>${t.errors}</td></tr>`)
    .join('');
  const videos = results
    .filter((r) => r.video_file)
    .map((r) => `<figure><video src="${esc(r.video_file!)}" controls muted width="192"></video><figcaption>${esc(r.task)} #${r.init}: ${r.success ? 'success' : esc(r.reason)}</figcaption></figure>`)
    .join('');
  const failures = results
    .filter((r) => !r.success)
    .slice(0, 200)
    .map((r) => `<tr><td>${esc(r.task)}</td><td>${r.init}</td><td>${r.outcome}</td><td>${esc(r.reason)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Armature evaluation: ${esc(s.suite)} / ${esc(s.policy)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}th{background:#f4f4f4}figure{display:inline-block;margin:4px}figcaption{font-size:11px;max-width:192px}.big{font-size:1.6em}</style></head>
<body>
<h1>${esc(s.suite)} suite: ${esc(s.policy)}</h1>
<p class="big">Success ${pct(s.success_rate)} <small>(${s.successes}/${s.episodes} episodes)</small></p>
<p>Seed ${s.seed}; ${s.workers} worker(s); ${s.wall_s.toFixed(1)} s wall; ${s.episodes_per_hour.toFixed(0)} episodes/hour.</p>
<h2>Success rate per task</h2>
${successChart(s)}
<table><tr><th>task</th><th>instruction</th><th>success</th><th>n</th><th>timeouts</th><th>errors</th></tr>${rows}</table>
<h2>Episode lengths</h2><p>green: successes, red: failures</p>
${stepsChart(results)}
<h2>Rollout videos</h2>${videos || '<p>none recorded</p>'}
<h2>Failures</h2><table><tr><th>task</th><th>init</th><th>outcome</th><th>reason</th></tr>${failures}</table>
<h2>Configuration</h2><pre>${esc(JSON.stringify(s.config, null, 2))}</pre>
</body></html>
`;
}
