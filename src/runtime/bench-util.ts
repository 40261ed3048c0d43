/** Small helpers shared by the benchmarks: percentiles and observations in sensor form. */
import { join } from 'node:path';
import { loadObservationFile } from '../observation/example.ts';
import { decodeToRaw } from '../observation/image.ts';
import type { CameraFrame, Observation, RawImage } from '../observation/types.ts';

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** Drop the alpha channel of an rgba8 frame. */
function toRgb8(raw: RawImage): RawImage {
  if (raw.encoding === 'rgb8') return raw;
  const { width, height } = raw;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = y * raw.step + x * 4;
      const d = (y * width + x) * 3;
      data[d] = raw.data[s]!;
      data[d + 1] = raw.data[s + 1]!;
      data[d + 2] = raw.data[s + 2]!;
    }
  }
  return { type: 'raw', encoding: 'rgb8', width, height, step: width * 3, data, stamp: raw.stamp };
}

/**
 * A model package's example observation as a camera driver delivers it:
 * raw rgb8 frames (as sensor_msgs/Image from the simulator or a camera node).
 */
export function rawExampleObservation(modelDir: string, file = 'observation.json'): Observation {
  const obs = loadObservationFile(join(modelDir, 'example', file));
  const images: Record<string, CameraFrame> = {};
  for (const [name, frame] of Object.entries(obs.images)) {
    images[name] = frame.type === 'compressed' ? toRgb8(decodeToRaw(frame)) : frame;
  }
  return { ...obs, images };
}

/** The same observation at a later time (stamps moved, data shared). */
export function restamp(obs: Observation, stamp: number): Observation {
  const images: Record<string, CameraFrame> = {};
  for (const [name, frame] of Object.entries(obs.images)) images[name] = { ...frame, stamp };
  return { ...obs, stamp, images, proprio: { ...obs.proprio, stamp } };
}
