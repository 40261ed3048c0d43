/**
 * Recorded-episode file for the viewer: scene description + per-step state,
 * joints, instruction and the current action chunk's end-effector path.
 * JSON (one object with `steps`) or NDJSON (header line, then one step a line).
 * Pure module: the viewer page imports it too.
 */
import {
  packArray,
  RenderSceneError,
  stateLayout,
  unpackArray,
  type PackedArray,
  type RenderScene,
} from '../render/scene-description.ts';

export const EPISODE_FORMAT = 'armature.episode/1';

/** One step, as streamed live (server push) or stored in an episode file. */
export interface ViewerFrame {
  /** sim time, s */
  readonly t: number;
  /** render state from extractState: plain numbers or packed float32 */
  readonly state: readonly number[] | PackedArray;
  /** joint positions, rad (or m for prismatic), in EpisodeHeader.jointNames order */
  readonly joints?: readonly number[];
  /** instruction in force at this step (falls back to the header's) */
  readonly instruction?: string;
  /** planned end-effector path of the current action chunk, world frame, m: [[x, y, z], ...] */
  readonly chunkPath?: readonly (readonly [number, number, number])[];
}

export interface EpisodeHeader {
  readonly format: typeof EPISODE_FORMAT;
  readonly scene: RenderScene;
  readonly jointNames: readonly string[];
  readonly instruction?: string;
  /** control period, s (replay speed) */
  readonly dt?: number;
}

export interface Episode extends EpisodeHeader {
  readonly steps: readonly ViewerFrame[];
}

/** An episode file cannot be read. */
export class EpisodeFileError extends RenderSceneError {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkHeader(h: unknown, where: string): EpisodeHeader {
  if (!isObject(h) || h.format !== EPISODE_FORMAT) {
    throw new EpisodeFileError(`${where}: expected an object with format '${EPISODE_FORMAT}': write episodes with episodeToNdjson / episodeToJson`);
  }
  if (!isObject(h.scene) || h.scene.format !== 'armature.scene/1') {
    throw new EpisodeFileError(`${where}: field 'scene' is not an armature.scene/1 description: include describeScene(model)`);
  }
  if (!Array.isArray(h.jointNames) || !h.jointNames.every((n) => typeof n === 'string')) {
    throw new EpisodeFileError(`${where}: field 'jointNames' must be an array of strings (may be empty)`);
  }
  return h as unknown as EpisodeHeader;
}

/** The state of a frame as float32, checked against the scene. */
export function frameState(scene: RenderScene, f: ViewerFrame, where = 'frame'): Float32Array {
  const s = Array.isArray(f.state) ? Float32Array.from(f.state as readonly number[]) : (unpackArray(f.state as PackedArray) as Float32Array);
  const n = stateLayout(scene).length;
  if (s.length !== n) {
    throw new EpisodeFileError(`${where}: state has ${s.length} floats, the scene needs ${n}: record it with extractState for the same scene`);
  }
  return s;
}

function checkStep(scene: RenderScene, nJoints: number, v: unknown, where: string): ViewerFrame {
  if (!isObject(v) || typeof v.t !== 'number' || v.state === undefined) {
    throw new EpisodeFileError(`${where}: a step needs numeric 't' and 'state'`);
  }
  const f = v as unknown as ViewerFrame;
  frameState(scene, f, where);
  if (f.joints !== undefined && f.joints.length !== nJoints) {
    throw new EpisodeFileError(`${where}: 'joints' has ${f.joints.length} values, header names ${nJoints} joints`);
  }
  return f;
}

/** Parse an episode from JSON or NDJSON text; errors name the line. */
export function parseEpisode(text: string, source = 'episode'): Episode {
  const trimmed = text.trim();
  if (trimmed === '') throw new EpisodeFileError(`${source}: file is empty`);
  let whole: unknown = undefined;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    // not one JSON document: NDJSON
  }
  if (whole !== undefined) {
    const h = checkHeader(whole, source);
    const steps = (whole as { steps?: unknown }).steps;
    if (!Array.isArray(steps)) throw new EpisodeFileError(`${source}: field 'steps' must be an array`);
    return { ...h, steps: steps.map((s, i) => checkStep(h.scene, h.jointNames.length, s, `${source} step ${i}`)) };
  }
  const lines = trimmed.split('\n');
  const parseLine = (i: number): unknown => {
    try {
      return JSON.parse(lines[i]);
    } catch (e) {
      throw new EpisodeFileError(`${source} line ${i + 1}: not valid JSON (${String(e)})`, { cause: e });
    }
  };
  const h = checkHeader(parseLine(0), `${source} line 1`);
  const steps: ViewerFrame[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    steps.push(checkStep(h.scene, h.jointNames.length, parseLine(i), `${source} line ${i + 1}`));
  }
  return { ...h, steps };
}

/** A frame with its state packed (compact JSON). */
export function packFrame(f: Omit<ViewerFrame, 'state'> & { state: Float32Array }): ViewerFrame {
  return { ...f, state: packArray(f.state) };
}

export function episodeToNdjson(e: Episode): string {
  const { steps, ...header } = e;
  return [JSON.stringify(header), ...steps.map((s) => JSON.stringify(s))].join('\n') + '\n';
}

export function episodeToJson(e: Episode): string {
  return JSON.stringify(e);
}
