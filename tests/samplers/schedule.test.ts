import { describe, expect, it } from 'vitest';
import {
  addNoise,
  alphaBarAt,
  cosineAlphaBar,
  ddimTimesteps,
  ddimUpdate,
  ddimUpdateRows,
  ddpmUpdate,
  makeSchedule,
} from '../../src/policy/samplers/schedule.ts';
import { SamplerError } from '../../src/policy/samplers/types.ts';

const linear = (T: number) =>
  makeSchedule({ type: 'ddpm', num_train_timesteps: T, beta_schedule: 'linear', beta_start: 1e-4, beta_end: 0.02, prediction: 'epsilon' });
const cosine = (T: number) =>
  makeSchedule({ type: 'ddpm', num_train_timesteps: T, beta_schedule: 'squaredcos_cap_v2', beta_start: 1e-4, beta_end: 0.02, prediction: 'epsilon' });

describe('noise schedules', () => {
  it('linear betas and alphas_cumprod match diffusers (float32 torch/numpy values)', () => {
    const s = linear(1000);
    expect(s.betas[0]).toBeCloseTo(1e-4, 12);
    expect(s.betas[999]).toBeCloseTo(0.02, 12);
    expect(s.betas[1] - s.betas[0]).toBeCloseTo((0.02 - 1e-4) / 999, 12);
    // values from np.cumprod(1 - np.linspace(1e-4, 0.02, 1000, dtype=float32))
    expect(s.alphasCumprod[0]).toBeCloseTo(0.9999, 7);
    expect(s.alphasCumprod[499] / 0.07858724).toBeCloseTo(1, 5);
    expect(s.alphasCumprod[999] / 4.0358325e-5).toBeCloseTo(1, 4);
    const s100 = linear(100);
    expect(s100.alphasCumprod[10]).toBeCloseTo(0.98790914, 6);
    expect(s100.alphasCumprod[50]).toBeCloseTo(0.7692913, 6);
    expect(s100.alphasCumprod[99]).toBeCloseTo(0.36356324, 6);
  });

  it('squaredcos_cap_v2 alphas_cumprod follow the closed form alpha_bar((t+1)/T)/alpha_bar(0), capped at the end', () => {
    const T = 100;
    const s = cosine(T);
    for (const t of [0, 1, 10, 50, 90, 98]) {
      const expected = cosineAlphaBar((t + 1) / T) / cosineAlphaBar(0);
      expect(s.alphasCumprod[t] / expected).toBeCloseTo(1, 9);
    }
    // closed form at t = 50: cos((0.51 + 0.008)/1.008 * pi/2)^2 / cos(0.008/1.008 * pi/2)^2
    const c = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(s.alphasCumprod[50]).toBeCloseTo(c(0.51) / c(0), 12);
    // the last beta would be 1 (alpha_bar(1) = 0): capped at max_beta 0.999
    expect(s.betas[T - 1]).toBe(0.999);
    expect(s.alphasCumprod[T - 1] / (s.alphasCumprod[T - 2] * 0.001)).toBeCloseTo(1, 9);
    for (let t = 0; t < T; t++) expect(s.betas[t]).toBeLessThanOrEqual(0.999);
  });

  it('alphas and alphaBarAt are consistent; t < 0 is clean', () => {
    const s = linear(50);
    expect(s.alphas[7]).toBeCloseTo(1 - s.betas[7], 15);
    expect(alphaBarAt(s, -1)).toBe(1);
    expect(alphaBarAt(s, 3)).toBe(s.alphasCumprod[3]);
    expect(() => alphaBarAt(s, 50)).toThrow(SamplerError);
    expect(() => alphaBarAt(s, 2.5)).toThrow(SamplerError);
  });

  it('rejects a linear schedule with betas >= 1', () => {
    expect(() =>
      makeSchedule({ type: 'ddpm', num_train_timesteps: 10, beta_schedule: 'linear', beta_start: 0.5, beta_end: 1.5, prediction: 'epsilon' }),
    ).toThrow(/beta_start\/beta_end/);
  });

  it("DDIM timesteps use diffusers' leading spacing with steps_offset 0", () => {
    expect(ddimTimesteps(100, 3)).toEqual([66, 33, 0]);
    expect(ddimTimesteps(100, 10)).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect(ddimTimesteps(1000, 7)).toEqual([852, 710, 568, 426, 284, 142, 0]);
    expect(ddimTimesteps(100, 1)).toEqual([0]);
    const all = ddimTimesteps(100, 100);
    expect(all.length).toBe(100);
    expect(all[0]).toBe(99);
    expect(() => ddimTimesteps(100, 101)).toThrow(/1\.\.100/);
    expect(() => ddimTimesteps(100, 0)).toThrow(SamplerError);
  });

  it('one DDIM and one DDPM update match hand-computed values', () => {
    const s = linear(100);
    const ab = s.alphasCumprod[50];
    const abPrev = s.alphasCumprod[40];
    const x = Float32Array.of(0.7);
    const eps = Float32Array.of(0.3);
    const out = new Float32Array(1);
    ddimUpdate({ schedule: s, x, model: eps, out, alphaBar: ab, alphaBarPrev: abPrev, eta: 0 });
    const x0 = (0.7 - Math.sqrt(1 - ab) * 0.3) / Math.sqrt(ab);
    expect(out[0]).toBeCloseTo(Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * 0.3, 6);

    // DDPM step t=50 -> 49 with noise z = 0.5
    const abP = s.alphasCumprod[49];
    const z = Float32Array.of(0.5);
    ddpmUpdate({ schedule: s, x, model: eps, out, alphaBar: ab, alphaBarPrev: abP, noise: z });
    const beta = 1 - ab / abP;
    const mean = (Math.sqrt(abP) * beta / (1 - ab)) * x0 + (Math.sqrt(1 - beta) * (1 - abP) / (1 - ab)) * 0.7;
    const variance = ((1 - abP) / (1 - ab)) * beta;
    expect(out[0]).toBeCloseTo(mean + Math.sqrt(variance) * 0.5, 6);
    // beta here equals the schedule's beta_50
    expect(beta).toBeCloseTo(s.betas[50], 10);
  });

  it('clip_sample clamps the predicted clean sample but keeps epsilon, as diffusers does', () => {
    const s = makeSchedule({ type: 'ddpm', num_train_timesteps: 100, beta_schedule: 'linear', beta_start: 1e-4, beta_end: 0.02, prediction: 'epsilon', clip_sample: 1 });
    const ab = s.alphasCumprod[30];
    const x = Float32Array.of(3);
    const eps = Float32Array.of(-0.2);
    const out = new Float32Array(1);
    ddimUpdate({ schedule: s, x, model: eps, out, alphaBar: ab, alphaBarPrev: 1, eta: 0 });
    expect(out[0]).toBeCloseTo(1, 6); // x0 = (3 + ...)/sqrt(ab) > 1, clipped; last step returns x0
    const sample = makeSchedule({ type: 'ddpm', num_train_timesteps: 100, beta_schedule: 'linear', beta_start: 1e-4, beta_end: 0.02, prediction: 'sample', clip_sample: 0.5 });
    ddimUpdate({ schedule: sample, x, model: Float32Array.of(-2), out, alphaBar: ab, alphaBarPrev: 1, eta: 0 });
    expect(out[0]).toBeCloseTo(-0.5, 6);
  });

  it('addNoise implements q(x_t | x_0) over a range', () => {
    const x0 = Float32Array.of(1, 2, 3);
    const noise = Float32Array.of(0.5, -1, 2);
    const out = new Float32Array(3);
    addNoise({ x0, noise, alphaBar: 0.64, out, start: 1, end: 3 });
    expect(Array.from(out)).toEqual([0, expect.closeTo(0.8 * 2 - 0.6, 6), expect.closeTo(0.8 * 3 + 1.2, 6)]);
  });

  it('ddimUpdateRows moves each row between its own timesteps, to clean below 0, and leaves the rest', () => {
    const s = cosine(100);
    const x = Float32Array.of(0.3, -0.2, 1.5, 0.7, -1, 2);
    const model = Float32Array.of(0.1, 0.4, -0.3, 0.2, 0.5, -0.6);
    const rows = x.slice();
    ddimUpdateRows({ schedule: s, x: rows, model, actionDim: 2, from: [30, 90, 40], to: [20, -1, 40], eta: 0 });
    const want = x.slice();
    ddimUpdate({ schedule: s, x, model, out: want, alphaBar: alphaBarAt(s, 30), alphaBarPrev: alphaBarAt(s, 20), eta: 0, start: 0, end: 2 });
    ddimUpdate({ schedule: s, x, model, out: want, alphaBar: alphaBarAt(s, 90), alphaBarPrev: 1, eta: 0, start: 2, end: 4 });
    expect(Array.from(rows)).toEqual(Array.from(want));
    expect(Array.from(rows.subarray(4))).toEqual(Array.from(x.subarray(4))); // to >= from: untouched
  });
});
