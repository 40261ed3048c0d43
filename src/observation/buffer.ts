/**
 * Latest-sample store for the inputs of one policy: each camera, the proprio and the
 * instruction. Never a queue: a newer stamp replaces the held sample, an older one is dropped.
 * Time is whatever clock the stamps use (seconds); `now` is passed in, so tests are deterministic.
 */
import { ObservationError, StaleInputError } from '../errors.ts';
import type { CameraFrame, Observation, ProprioSample } from './types.ts';

/** Input names used in errors, `maxAgeS` and `staleness`: `images.<camera>`, `proprio`, `instruction`. */
export const imageInput = (camera: string): string => `images.${camera}`;

export interface ObservationBufferOptions {
  /** cameras the policy needs; each must be fresh for `assemble` */
  cameras: readonly string[];
  /** default max age of a camera frame, s (default 0.2) */
  cameraMaxAgeS?: number;
  /** max age of the proprio sample, s (default 0.1) */
  proprioMaxAgeS?: number;
  /** per-input overrides by input name (`images.<camera>` or `proprio`), s */
  maxAgeS?: Readonly<Record<string, number>>;
  /** initial instruction; the instruction is never stale */
  instruction?: string;
  /** throw from `assemble` while no instruction was set (default true) */
  requireInstruction?: boolean;
}

export interface InputAge {
  /** now - stamp of the held sample, s; Infinity if never received */
  readonly ageS: number;
  /** allowed age, s; Infinity for the instruction */
  readonly maxAgeS: number;
  readonly stale: boolean;
}

export class ObservationBuffer {
  private readonly cameras: readonly string[];
  private readonly images = new Map<string, CameraFrame>();
  private readonly cameraMaxAge: Map<string, number>;
  private readonly proprioMaxAge: number;
  private readonly requireInstruction: boolean;
  private proprio: ProprioSample | null = null;
  private instruction: string | null;
  private instructionStamp = -Infinity;

  constructor(opts: ObservationBufferOptions) {
    const cameraDefault = opts.cameraMaxAgeS ?? 0.2;
    const overrides = opts.maxAgeS ?? {};
    const known = new Set([...opts.cameras.map(imageInput), 'proprio']);
    for (const [name, v] of Object.entries(overrides)) {
      if (!known.has(name)) throw new ObservationError(`maxAgeS names unknown input '${name}': inputs are ${[...known].join(', ')}`);
      checkAge(name, v);
    }
    checkAge('cameraMaxAgeS', cameraDefault);
    this.cameras = [...opts.cameras];
    this.cameraMaxAge = new Map(opts.cameras.map((c) => [c, overrides[imageInput(c)] ?? cameraDefault]));
    this.proprioMaxAge = overrides.proprio ?? opts.proprioMaxAgeS ?? 0.1;
    checkAge('proprioMaxAgeS', this.proprioMaxAge);
    this.instruction = opts.instruction ?? null;
    this.requireInstruction = opts.requireInstruction ?? true;
  }

  /** Hold `frame` for `camera` unless an equally new or newer frame is held; returns whether it was taken. */
  putImage(camera: string, frame: CameraFrame): boolean {
    if (!this.cameraMaxAge.has(camera)) {
      throw new ObservationError(`camera '${camera}' is not an input of this buffer (cameras: ${this.cameras.join(', ') || 'none'}): check the camera mapping`);
    }
    const held = this.images.get(camera);
    if (held !== undefined && held.stamp >= frame.stamp) return false;
    this.images.set(camera, frame);
    return true;
  }

  /** Hold `sample` unless an equally new or newer one is held; returns whether it was taken. */
  putProprio(sample: ProprioSample): boolean {
    if (this.proprio !== null && this.proprio.stamp >= sample.stamp) return false;
    this.proprio = sample;
    return true;
  }

  /** Set the instruction (never stale); `stamp` (s) only orders updates. */
  setInstruction(text: string, stamp = 0): boolean {
    if (this.instruction !== null && stamp < this.instructionStamp) return false;
    this.instruction = text;
    this.instructionStamp = stamp;
    return true;
  }

  /** Ages of every input at `now` (s), without throwing; for diagnostics and watchdogs. */
  staleness(now: number): Record<string, InputAge> {
    const r: Record<string, InputAge> = {};
    for (const c of this.cameras) {
      const f = this.images.get(c);
      r[imageInput(c)] = age(now, f?.stamp, this.cameraMaxAge.get(c)!);
    }
    r.proprio = age(now, this.proprio?.stamp, this.proprioMaxAge);
    const haveInstr = this.instruction !== null;
    r.instruction = { ageS: haveInstr ? 0 : Infinity, maxAgeS: Infinity, stale: !haveInstr && this.requireInstruction };
    return r;
  }

  /**
   * The latest sample of every input, stamped `now` (s). Throws StaleInputError for the first
   * required input (cameras in order, then proprio, then instruction) that is missing or older
   * than its max age.
   */
  assemble(now: number): Observation {
    const images: Record<string, CameraFrame> = {};
    for (const c of this.cameras) {
      const f = this.images.get(c);
      const maxAge = this.cameraMaxAge.get(c)!;
      if (f === undefined) throw new StaleInputError(imageInput(c), Infinity, maxAge);
      if (now - f.stamp > maxAge) throw new StaleInputError(imageInput(c), now - f.stamp, maxAge);
      images[c] = f;
    }
    const p = this.proprio;
    if (p === null) throw new StaleInputError('proprio', Infinity, this.proprioMaxAge);
    if (now - p.stamp > this.proprioMaxAge) throw new StaleInputError('proprio', now - p.stamp, this.proprioMaxAge);
    if (this.instruction === null && this.requireInstruction) throw new StaleInputError('instruction', Infinity, Infinity);
    return { stamp: now, images, proprio: p, instruction: this.instruction ?? '' };
  }

  /** Forget all held samples (e.g. between episodes); the instruction is kept. */
  clear(): void {
    this.images.clear();
    this.proprio = null;
  }
}

function checkAge(name: string, v: number): void {
  if (!(v > 0)) throw new ObservationError(`${name} = ${v}: a max age must be a positive number of seconds`);
}

function age(now: number, stamp: number | undefined, maxAgeS: number): InputAge {
  if (stamp === undefined) return { ageS: Infinity, maxAgeS, stale: true };
  const ageS = now - stamp;
  return { ageS, maxAgeS, stale: ageS > maxAgeS };
}
