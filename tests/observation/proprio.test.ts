import { describe, expect, it } from 'vitest';
import { ObservationError } from '../../src/errors.ts';
import { ProprioAssembler, assembleProprio } from '../../src/observation/proprio.ts';
import type { ProprioSample } from '../../src/observation/types.ts';

const SPEC = {
  fields: [
    { name: 'joint_positions', dim: 3, mean: [0, 1, -1], std: [1, 2, 0.5] },
    { name: 'gripper', dim: 1, mean: [0.02], std: [0.01] },
  ],
};
const sample = (fields: Record<string, number[]>): ProprioSample => ({
  stamp: 0,
  fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Float64Array.from(v)])),
});

describe('ProprioAssembler', () => {
  const a = new ProprioAssembler(SPEC);
  it('concatenates fields in spec order and normalizes', () => {
    expect(a.dim).toBe(4);
    const out = a.run(sample({ gripper: [0.04], joint_positions: [0.5, 3, 0], extra: [9] }));
    expect(Array.from(out)).toEqual([0.5, 1, 2, 2].map(Math.fround));
    const buf = new Float32Array(4);
    expect(a.run(sample({ gripper: [0.02], joint_positions: [0, 1, -1] }), buf)).toBe(buf);
    expect(Array.from(buf)).toEqual([0, 0, 0, 0]);
  });
  it('names a missing field and what the sample has', () => {
    const f = () => a.run(sample({ joint_positions: [0, 0, 0], finger: [0] }));
    expect(f).toThrow(ObservationError);
    expect(f).toThrow(/proprio field 'gripper' is missing from the sample \(it has: joint_positions, finger\)/);
  });
  it('names a field with the wrong dim', () => {
    expect(() => a.run(sample({ joint_positions: [0, 0], gripper: [0] }))).toThrow(/proprio field 'joint_positions' has 2 values, the model expects 3/);
  });
  it('rejects NaN and Inf naming field and index', () => {
    expect(() => a.run(sample({ joint_positions: [0, NaN, 0], gripper: [0] }))).toThrow(/'joint_positions'\[1\] is NaN/);
    expect(() => a.run(sample({ joint_positions: [0, 0, 0], gripper: [-Infinity] }))).toThrow(/'gripper'\[0\] is -Infinity/);
  });
  it('rejects bad specs and buffers', () => {
    expect(() => new ProprioAssembler({ fields: [{ name: 'q', dim: 2, mean: [0], std: [1, 1] }] })).toThrow(/'q': mean\/std need 2 values, got 1\/2/);
    expect(() => new ProprioAssembler({ fields: [{ name: 'q', dim: 1, mean: [0], std: [0] }] })).toThrow(/'q': std\[0\] = 0/);
    expect(() => a.run(sample({ joint_positions: [0, 0, 0], gripper: [0] }), new Float32Array(3))).toThrow(/length 3, expected 4/);
  });
  it('assembleProprio (used per step by model packages) gives the same vector in place', () => {
    const s = sample({ gripper: [0.03], joint_positions: [1, 2, 3] });
    const buf = new Float32Array(4);
    expect(assembleProprio(SPEC, s, buf)).toBe(buf);
    expect(Array.from(buf)).toEqual(Array.from(a.run(s)));
    expect(() => assembleProprio(SPEC, sample({ joint_positions: [0, 0, 0] }), buf)).toThrow(/'gripper' is missing/);
  });
});
