/**
 * Example observations on disk (model packages' example/ folders, fixtures):
 *
 *   { "instruction": "pick up the cube", "stamp": 12.5,
 *     "proprio": { "joint_positions": [0.1, ...] },
 *     "images": { "agentview": "agentview.png",
 *                 "wrist": { "file": "wrist.raw", "encoding": "bgr8", "width": 64, "height": 48, "step": 192 } } }
 *
 * Paths are relative to the JSON file; .png/.jpg/.jpeg become compressed frames, raw files
 * need the object form (step defaults to width * bytes per pixel, big_endian to false).
 * Every frame and the proprio get the file's stamp.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { ObservationError } from '../errors.ts';
import { bytesPerPixel, validateRawImage } from './image.ts';
import { RAW_ENCODINGS, type CameraFrame, type Observation } from './types.ts';

const rawRef = z
  .object({
    file: z.string().min(1),
    encoding: z.enum(RAW_ENCODINGS),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    step: z.number().int().positive().optional(),
    big_endian: z.boolean().optional(),
  })
  .strict();

const exampleSchema = z
  .object({
    instruction: z.string().default(''),
    stamp: z.number().finite().default(0),
    proprio: z.record(z.string(), z.array(z.number())),
    images: z.record(z.string(), z.union([z.string().min(1), rawRef])).default({}),
  })
  .strict();

function readBytes(file: string, what: string, source: string): Uint8Array {
  try {
    const b = readFileSync(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    throw new ObservationError(`${source}: ${what} file ${file} cannot be read (${(cause as Error).message}): check the path, which is relative to the JSON file`, { cause });
  }
}

/** Read an example observation JSON file and the image files it names. */
export function loadObservationFile(path: string): Observation {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ObservationError(`cannot read observation file ${path}: check the path`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ObservationError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = exampleSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ObservationError(`${path} is not a valid example observation:\n${lines.join('\n')}`);
  }
  const ex = parsed.data;
  const dir = dirname(path);
  const stamp = ex.stamp;
  const images: Record<string, CameraFrame> = {};
  for (const [camera, ref] of Object.entries(ex.images)) {
    if (typeof ref === 'string') {
      const ext = extname(ref).toLowerCase();
      const format = ext === '.png' ? 'png' : ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : null;
      if (format === null) {
        throw new ObservationError(
          `${path}: images.${camera}: '${ref}' is neither .png nor .jpg/.jpeg; for raw pixels use {"file", "encoding", "width", "height"}`,
        );
      }
      images[camera] = { type: 'compressed', format, data: readBytes(resolve(dir, ref), `images.${camera}`, path), stamp };
    } else {
      const data = readBytes(resolve(dir, ref.file), `images.${camera}`, path);
      const frame: CameraFrame = {
        type: 'raw',
        encoding: ref.encoding,
        width: ref.width,
        height: ref.height,
        step: ref.step ?? ref.width * bytesPerPixel(ref.encoding),
        bigEndian: ref.big_endian ?? false,
        data,
        stamp,
      };
      try {
        validateRawImage(frame);
      } catch (cause) {
        throw new ObservationError(`${path}: images.${camera} (${ref.file}): ${(cause as Error).message}`, { cause });
      }
      images[camera] = frame;
    }
  }
  const fields: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(ex.proprio)) fields[name] = Float64Array.from(v);
  return { stamp, images, proprio: { fields, stamp }, instruction: ex.instruction };
}
