import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObservationError } from '../../src/errors.ts';
import { loadObservationFile } from '../../src/observation/example.ts';
import { ImagePreprocessor, encodePng } from '../../src/observation/image.ts';
import type { RawImage } from '../../src/observation/types.ts';

function folder(files: Record<string, string | Uint8Array | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'example-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content instanceof Uint8Array || typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const raw: RawImage = { type: 'raw', encoding: 'rgb8', width: 4, height: 2, step: 12, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10), stamp: 0 };

describe('loadObservationFile', () => {
  it('reads instruction, proprio, PNG and raw frames relative to the JSON file', () => {
    const bgr = Uint8Array.from({ length: 2 * 14 }, (_, i) => i); // 4x2 bgr8 with step 14
    const dir = folder({
      'front.png': encodePng(raw),
      'wrist.raw': bgr,
      'obs.json': {
        instruction: 'open the drawer',
        stamp: 3.5,
        proprio: { joint_positions: [0.1, 0.2], gripper: [0.04] },
        images: { front: 'front.png', wrist: { file: 'wrist.raw', encoding: 'bgr8', width: 4, height: 2, step: 14 } },
      },
    });
    const obs = loadObservationFile(join(dir, 'obs.json'));
    expect(obs.instruction).toBe('open the drawer');
    expect(obs.stamp).toBe(3.5);
    expect(obs.proprio.stamp).toBe(3.5);
    expect(Array.from(obs.proprio.fields.joint_positions)).toEqual([0.1, 0.2]);
    expect(obs.proprio.fields.gripper).toBeInstanceOf(Float64Array);
    expect(obs.images.front).toMatchObject({ type: 'compressed', format: 'png', stamp: 3.5 });
    expect(obs.images.wrist).toMatchObject({ type: 'raw', encoding: 'bgr8', width: 4, height: 2, step: 14, stamp: 3.5, bigEndian: false });
    const pre = new ImagePreprocessor({ height: 2, width: 4, channels: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(pre.run(obs.images.front))).toEqual(Array.from(pre.run(raw)));
  });

  it('defaults step from the encoding', () => {
    const dir = folder({ 'd.raw': new Uint8Array(8), 'o.json': { proprio: {}, images: { depth: { file: 'd.raw', encoding: '16UC1', width: 2, height: 2 } } } });
    expect(loadObservationFile(join(dir, 'o.json')).images.depth).toMatchObject({ step: 4, stamp: 0 });
  });

  it('errors name the missing or bad file', () => {
    const dir = folder({
      'a.json': { proprio: {}, images: { front: 'missing.png' } },
      'b.json': { proprio: {}, images: { front: 'front.bmp' } },
      'c.json': { proprio: {}, images: { front: { file: 'short.raw', encoding: 'rgb8', width: 4, height: 4 } } },
      'short.raw': new Uint8Array(10),
      'd.json': { proprio: { q: 'x' } },
      'e.json': '{not json',
    });
    const check = (file: string, re: RegExp) => {
      const f = () => loadObservationFile(join(dir, file));
      expect(f).toThrow(ObservationError);
      expect(f).toThrow(re);
    };
    check('a.json', /a.json: images.front file .*missing.png cannot be read/);
    check('b.json', /'front.bmp' is neither .png nor .jpg/);
    check('c.json', /c.json: images.front \(short.raw\): camera frame data is too short: 10 bytes/);
    check('d.json', /d.json is not a valid example observation:\n  proprio.q/);
    check('e.json', /e.json is not valid JSON/);
    check('nope.json', /cannot read observation file .*nope.json/);
  });
});
