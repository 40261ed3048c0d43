import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, outcomeConfig, planEpisodes, portablePath, readEpisodes, summarize, EPISODES_FILE, RUN_FILE } from '../../sim/eval/evaluate.ts';
import { renderHtmlReport, renderMarkdown } from '../../sim/eval/report.ts';
import { episodeKey, type EpisodeResult, type EvalConfig } from '../../sim/eval/types.ts';
import { parseRanges, parseRtiTail, parseScheduleMode } from '../../src/cli/eval.ts';
import { evalSchedule } from '../../sim/eval/worker.ts';
import { freshLayouts } from '../../sim/tasks/task-scene.ts';
import { loadSuite } from '../../sim/tasks/suites.ts';
import type { Policy } from '../../src/policy/types.ts';
import { defaultRobotFor, embodimentFor } from '../../sim/eval/episode.ts';

const base: EvalConfig = {
  suite: 'spatial',
  policy: { type: 'expert' },
  episodes: 4,
  workers: 0,
  seed: 0,
  imageSize: 128,
  videosPerTask: 0,
  out: '',
};

function fakeResult(task: string, taskIndex: number, init: number, success: boolean): EpisodeResult {
  return {
    suite: 'spatial', task, taskIndex, init, video: false, outcome: success ? 'success' : 'timeout', success,
    steps: success ? 50 + init : 220, reason: success ? 'goal reached' : 'max steps 220 reached', wallS: 1, instruction: `do ${task}`,
    safety_interventions: 0, inferences: 10, model_evaluations: 10 * 5,
  };
}

describe('evaluation planning, sharding and reports', () => {
  it('plans tasks x init states and shards them into disjoint, covering sets', () => {
    const all = planEpisodes({ ...base, tasks: [0, 1, 2] });
    expect(all).toHaveLength(12);
    const shards = [0, 1, 2].map((index) => planEpisodes({ ...base, tasks: [0, 1, 2], shard: { index, count: 3 } }));
    const keys = shards.flat().map(episodeKey);
    expect(new Set(keys).size).toBe(12);
    expect(keys.sort()).toEqual(all.map(episodeKey).sort());
    expect(() => planEpisodes({ ...base, episodes: 51 })).toThrow(/50 fixed init states, --episodes asks for 51/);
  });

  it('parses task ranges', () => {
    expect(parseRanges('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(() => parseRanges('a-b')).toThrow(/cannot read range/);
  });

  it('keys a run by its RTI tail only when one is asked for, so earlier folders still resume', () => {
    expect(parseRtiTail('repeat')).toBe('repeat');
    expect(() => parseRtiTail('ramp')).toThrow(/--rti-tail must be one of repeat, noise, predict/);
    const model = (rtiTail?: 'repeat' | 'noise') => outcomeConfig({ ...base, policy: { type: 'model', dir: '/m', sampler: 'rti', rtiTail } }, 'sha');
    expect(model().policy).toEqual({ type: 'model', sampler: 'rti', steps: null, model_sha256: 'sha' });
    expect(model('repeat').policy).toEqual({ type: 'model', sampler: 'rti', steps: null, rti_tail: 'repeat', model_sha256: 'sha' });
  });

  it('writes the model folder relative to the working directory, so stored results do not name this machine', () => {
    expect(portablePath('/work/repo/models/flow-small', '/work/repo')).toBe('models/flow-small');
    expect(portablePath('/elsewhere/flow-small', '/work/repo')).toBe('/elsewhere/flow-small');
    const s = summarize({ ...base, policy: { type: 'model', dir: join(process.cwd(), 'models', 'flow-small') } }, [fakeResult('a', 0, 0, true)], { wallS: 1, ran: 1, policyName: 'flow-small' });
    expect(s.config.policy).toEqual({ type: 'model', dir: join('models', 'flow-small') });
  });

  it('aggregates per-task success and writes Markdown and self-contained HTML', () => {
    const results = [fakeResult('a', 0, 0, true), fakeResult('a', 0, 1, false), fakeResult('b', 1, 0, true), fakeResult('b', 1, 1, true)];
    const s = summarize(base, results, { wallS: 10, ran: 4, policyName: 'p' });
    expect(s.success_rate).toBeCloseTo(0.75, 10);
    expect(s.tasks.map((t) => [t.task, t.success_rate, t.timeouts])).toEqual([['a', 0.5, 1], ['b', 1, 0]]);
    expect(s.episodes_per_hour).toBeCloseTo(1440, 6);
    // 4 episodes x 50 evaluations over 50 + 220 + 50 + 51 executed actions
    expect(s.nfe_per_action).toBeCloseTo(200 / 371, 10);
    const md = renderMarkdown(s);
    expect(md).toContain('| 0 | a | do a | 50.0 % | 2 | 1 | 0 | 50.0 |');
    expect(md).toContain('0.54 denoiser evaluations per action');
    const html = renderHtmlReport(s, results);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
  });
});

describe('armature eval end to end (expert, rendered cameras)', () => {
  it('runs episodes, resumes without repeating them, and writes results, report and video', async () => {
    const out = mkdtempSync(join(tmpdir(), 'armature-eval-'));
    const config: EvalConfig = { ...base, tasks: [0], episodes: 1, videosPerTask: 1, out };
    const first = await evaluate(config, { policyName: 'expert' });
    expect(first.episodes).toBe(1);
    for (const f of ['results.json', 'results.md', 'report.html', EPISODES_FILE]) expect(existsSync(join(out, f))).toBe(true);
    const ep = readEpisodes(out)[0]!;
    expect(['success', 'timeout']).toContain(ep.outcome);
    expect(ep.video_file).toBeDefined();
    expect(existsSync(join(out, ep.video_file!))).toBe(true);
    // a second run with one more init state runs only the new one
    const second = await evaluate({ ...config, episodes: 2 }, { policyName: 'expert' });
    expect(second.episodes).toBe(2);
    expect(readFileSync(join(out, EPISODES_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
    // same seed, same init state: deterministic outcome and length
    const again = mkdtempSync(join(tmpdir(), 'armature-eval-'));
    await evaluate({ ...config, out: again }, { policyName: 'expert' });
    const rep = readEpisodes(again)[0]!;
    expect([rep.outcome, rep.steps]).toEqual([ep.outcome, ep.steps]);
    // episodes of another configuration are never reused: the folder is refused, naming the difference
    await expect(evaluate({ ...config, episodes: 2, seed: 7 }, { policyName: 'expert' })).rejects.toThrow(
      /holds 2 episodes of another configuration \(seed: 0 -> 7\): use another --out/,
    );
    await expect(evaluate({ ...config, policy: { type: 'expert', noise: 0.01 } }, { policyName: 'expert' })).rejects.toThrow(/policy\.noise: 0 -> 0\.01/);
    // a folder with episodes but no record of what made them is refused too
    rmSync(join(out, RUN_FILE));
    rmSync(join(out, 'results.json'));
    await expect(evaluate(config, { policyName: 'expert' })).rejects.toThrow(/no run\.json saying which configuration produced them/);
  }, 180_000);
});

describe('episodes with a stochastic policy reused across episodes (as a worker does)', () => {
  it('give the same rollout whatever ran before them', async () => {
    const { loadPolicy } = await import('../../src/policy/load.ts');
    const { loadSuite } = await import('../../sim/tasks/suites.ts');
    const { TaskEnv } = await import('../../sim/tasks/task-env.ts');
    const { runEpisode } = await import('../../sim/eval/episode.ts');
    const suite = loadSuite('spatial');
    const t = suite.tasks[0]!;
    const env = await TaskEnv.create({ task: t.task, name: t.name, initStates: t.initStates, robotCommandMode: 'ee_delta', imageSize: 128, seed: 0 });
    // DDIM with eta > 0 would be needed for fresh noise per step; plain DDIM still draws the initial noise from the policy's RNG
    const policy = await loadPolicy(join(import.meta.dirname, '..', '..', 'models', 'diffusion-tiny'), { sampler: 'ddim', steps: 3, seed: 5 });
    try {
      const ctx = { env, policy, robot: env.taskRobot.description, schedule: { mode: 'replan' as const, actionsPerChunk: 8 }, maxSteps: 24, out: '', fps: 20, seed: 5 };
      const spec = { suite: 'spatial', task: t.name, taskIndex: 0, init: 0, video: false };
      const tcp = () => Array.from(env.robot.sim.sitePose('tcp').pos);
      await runEpisode(ctx, spec);
      const first = tcp();
      await runEpisode(ctx, { ...spec, init: 1 }); // something else in between
      await runEpisode(ctx, spec);
      expect(tcp()).toEqual(first);
      // and the rollout did depend on the noise: another evaluation seed moves the arm elsewhere
      await runEpisode({ ...ctx, seed: 6 }, spec);
      expect(tcp()).not.toEqual(first);
    } finally {
      await policy.dispose();
      await env.close();
    }
  }, 60_000);
});

describe('embodimentFor: which head acts for the simulated robot', () => {
  const meta = (robots: Record<string, string>) => ({
    metadata: {
      name: 'm', kind: 'universal_action' as const, horizon: 8, controlRateHz: 20, cameras: [], proprioFields: {},
      embodiments: Object.fromEntries(Object.keys(robots).map((k) => [k, {} as never])),
      embodimentRobots: robots,
    },
  });
  const ur5e = { id: 'universal_robots/ur5e', embodiment: 'universal_robots' };

  it('matches the robot id first, then the embodiment key, then a single-robot policy\'s only head', () => {
    expect(embodimentFor(meta({ franka: 'franka/fr3', agibot: 'agibot/dual_arm', ur5e: 'universal_robots/ur5e' }), ur5e)).toBe('ur5e');
    expect(embodimentFor(meta({ franka: 'franka/fr3', agibot: 'agibot/dual_arm' }), { id: 'franka/panda', embodiment: 'franka' })).toBe('franka');
    expect(embodimentFor(meta({ franka: 'franka/fr3' }), ur5e)).toBe('franka');
  });

  it('refuses to drive a robot with another robot\'s head when the policy has several', () => {
    expect(() => embodimentFor(meta({ franka: 'franka/fr3', agibot: 'agibot/dual_arm' }), ur5e)).toThrow(
      /model m has heads for franka \(franka\/fr3\), agibot \(agibot\/dual_arm\) but none for robot 'universal_robots\/ur5e'/,
    );
  });
});

describe('defaultRobotFor: the robot a model evaluates a suite with when none is asked for', () => {
  const sim = (id: string) => ['franka/fr3', 'agibot/dual_arm', 'universal_robots/ur5e'].includes(id);
  it('keeps the suite\'s robot when the model has a head for it', () => {
    expect(defaultRobotFor({ franka: { robot: 'franka/fr3' }, ur5e: { robot: 'universal_robots/ur5e' } }, 'franka/fr3', sim)).toBeUndefined();
    expect(defaultRobotFor({ franka: { robot: 'franka/panda' } }, 'franka/fr3', sim)).toBeUndefined();
  });
  it('uses a single-robot model\'s own robot when it is simulated, else leaves the suite\'s', () => {
    expect(defaultRobotFor({ ur5e: { robot: 'universal_robots/ur5e' } }, 'franka/fr3', sim)).toBe('universal_robots/ur5e');
    expect(defaultRobotFor({ ur10: { robot: 'universal_robots/ur10' } }, 'franka/fr3', sim)).toBeUndefined();
    expect(defaultRobotFor({ a: { robot: 'universal_robots/ur5e' }, b: { robot: 'x/y' } }, 'franka/fr3', sim)).toBeUndefined();
  });
});

describe('validation layouts (--layouts) and chunk schedules (--schedule)', () => {
  it('plans as many validation episodes as asked and keys a folder by the layout seed', () => {
    expect(planEpisodes({ ...base, tasks: [0], episodes: 60, layouts: 9000 })).toHaveLength(60);
    expect(outcomeConfig(base, 'sha')).not.toHaveProperty('layouts');
    expect(outcomeConfig({ ...base, layouts: 9000 }, 'sha')).toMatchObject({ layouts: 9000 });
    expect(outcomeConfig({ ...base, schedule: { mode: 'ensemble' } }, 'sha')).toMatchObject({ schedule: { mode: 'ensemble' } });
  });

  it('draws the recorder\'s layouts for a seed, none of them a fixed evaluation state', () => {
    const t = loadSuite('goal').tasks[3]!;
    const a = freshLayouts(t.task, 9000, 3, 5);
    expect(freshLayouts(t.task, 9000, 3, 3)).toEqual(a.slice(0, 3));
    expect(freshLayouts(t.task, 9001, 3, 5)).not.toEqual(a);
    const fixed = new Set(t.initStates.map((s) => JSON.stringify(s)));
    for (const l of a) expect(fixed.has(JSON.stringify(l))).toBe(false);
  });

  it('runs the expert on validation layouts, and they are other scenes than the fixed ones', async () => {
    const run = async (layouts?: number) => {
      const out = mkdtempSync(join(tmpdir(), 'armature-eval-val-'));
      await evaluate({ ...base, tasks: [0], episodes: 1, out, layouts }, { policyName: 'expert' });
      return readEpisodes(out)[0]!;
    };
    const [fixed, val] = [await run(), await run(9000)];
    const md = renderMarkdown(summarize({ ...base, layouts: 9000, replan: 4, schedule: { mode: 'blend', blendSteps: 4 } }, [val], { wallS: 1, ran: 1, policyName: 'expert' }));
    expect(md).toContain('; validation layouts from seed 9000 (not the fixed init states); schedule blend, blend steps 4; 4 actions per chunk.');
    expect(val.success).toBe(true);
    // the same expert on another layout takes another number of steps
    expect(val.steps).not.toBe(fixed.steps);
  }, 120_000);

  it('builds each schedule with its defaults: the manifest execute length, ACT every tick with the gripper from the newest chunk', () => {
    const policy = { metadata: { name: 'm', kind: 'flow' as const, horizon: 16, executeLength: 8, controlRateHz: 20, cameras: [], proprioFields: {}, embodiments: { franka: { gripper_dims: [6] } as never } } } as unknown as Policy;
    expect(evalSchedule({}, policy, 'franka')).toEqual({ mode: 'replan', actionsPerChunk: 8 });
    expect(evalSchedule({ replan: 20 }, policy, 'franka')).toEqual({ mode: 'replan', actionsPerChunk: 16 });
    expect(evalSchedule({ schedule: { mode: 'ensemble' } }, policy, 'franka')).toEqual({ mode: 'ensemble', actionsPerChunk: 1, decay: undefined, gripperDims: [6] });
    expect(evalSchedule({ replan: 4, schedule: { mode: 'blend', blendSteps: 3 } }, policy, 'franka')).toEqual({ mode: 'blend', actionsPerChunk: 4, blendSteps: 3, ramp: undefined });
    expect(parseScheduleMode('blend')).toBe('blend');
    expect(() => parseScheduleMode('average')).toThrow(/--schedule must be one of replan, ensemble, blend, got 'average'/);
  });
});
