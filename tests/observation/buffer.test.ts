import { describe, expect, it } from 'vitest';
import { StaleInputError } from '../../src/errors.ts';
import { ObservationBuffer } from '../../src/observation/buffer.ts';
import type { CameraFrame, ProprioSample } from '../../src/observation/types.ts';

const frame = (stamp: number): CameraFrame => ({ type: 'raw', encoding: 'mono8', width: 1, height: 1, step: 1, data: new Uint8Array(1), stamp });
const proprio = (stamp: number): ProprioSample => ({ stamp, fields: { q: Float64Array.of(stamp) } });

function staleError(f: () => unknown): StaleInputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StaleInputError);
    return e as StaleInputError;
  }
  throw new Error('expected a StaleInputError');
}

describe('ObservationBuffer', () => {
  const make = () => new ObservationBuffer({ cameras: ['front', 'wrist'], maxAgeS: { 'images.wrist': 0.05 }, instruction: 'pick' });

  it('reports missing inputs as never received', () => {
    const b = make();
    const e = staleError(() => b.assemble(10));
    expect(e.input).toBe('images.front');
    expect(e.message).toMatch(/input 'images.front' has never been received/);
    const s = b.staleness(10);
    expect(s['images.front']).toEqual({ ageS: Infinity, maxAgeS: 0.2, stale: true });
    expect(s['images.wrist'].maxAgeS).toBe(0.05);
    expect(s.proprio).toEqual({ ageS: Infinity, maxAgeS: 0.1, stale: true });
    expect(s.instruction.stale).toBe(false);
  });

  it('keeps only the latest sample per source', () => {
    const b = make();
    expect(b.putImage('front', frame(1.0))).toBe(true);
    expect(b.putImage('front', frame(1.1))).toBe(true);
    expect(b.putImage('front', frame(1.05))).toBe(false); // out of order: dropped
    b.putImage('wrist', frame(1.1));
    b.putProprio(proprio(1.12));
    expect(b.putProprio(proprio(1.0))).toBe(false);
    const obs = b.assemble(1.14);
    expect(obs.stamp).toBe(1.14);
    expect(obs.images.front.stamp).toBe(1.1);
    expect(obs.proprio.stamp).toBe(1.12);
    expect(obs.instruction).toBe('pick');
  });

  it('throws for the first input older than its max age, with its age', () => {
    const b = make();
    b.putImage('front', frame(1.0));
    b.putImage('wrist', frame(1.0));
    b.putProprio(proprio(1.0));
    expect(b.assemble(1.04).stamp).toBe(1.04);
    let e = staleError(() => b.assemble(1.06));
    expect(e.input).toBe('images.wrist');
    expect(e.ageS).toBeCloseTo(0.06, 9);
    expect(e.maxAgeS).toBe(0.05);
    expect(e.message).toMatch(/input 'images.wrist' is 60.0 ms old, older than its max age 50.0 ms/);
    b.putImage('wrist', frame(1.09));
    e = staleError(() => b.assemble(1.11));
    expect(e.input).toBe('proprio');
    const s = b.staleness(1.11);
    expect(s['images.front']).toMatchObject({ stale: false });
    expect(s['images.front'].ageS).toBeCloseTo(0.11, 9);
    expect(s.proprio.stale).toBe(true);
    e = staleError(() => b.assemble(1.25));
    expect(e.input).toBe('images.front');
  });

  it('the instruction is never stale, but required unless disabled', () => {
    const b = new ObservationBuffer({ cameras: [], proprioMaxAgeS: 1 });
    b.putProprio(proprio(0));
    expect(staleError(() => b.assemble(0.5)).input).toBe('instruction');
    b.setInstruction('stack the cubes', 0);
    expect(b.assemble(0.5).instruction).toBe('stack the cubes');
    expect(b.setInstruction('old', -1)).toBe(false);
    const c = new ObservationBuffer({ cameras: [], requireInstruction: false });
    c.putProprio(proprio(0));
    expect(c.assemble(0).instruction).toBe('');
  });

  it('rejects unknown cameras and bad ages; clear forgets samples', () => {
    const b = make();
    expect(() => b.putImage('side', frame(0))).toThrow(/camera 'side' is not an input of this buffer \(cameras: front, wrist\)/);
    expect(() => new ObservationBuffer({ cameras: ['a'], maxAgeS: { 'images.b': 1 } })).toThrow(/unknown input 'images.b'/);
    expect(() => new ObservationBuffer({ cameras: ['a'], proprioMaxAgeS: 0 })).toThrow(/proprioMaxAgeS = 0/);
    b.putProprio(proprio(5));
    b.clear();
    expect(b.staleness(5).proprio.ageS).toBe(Infinity);
  });
});
