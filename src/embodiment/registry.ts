/**
 * Robot registry: robot ids are paths under hardware/ without the .yaml extension
 * ('franka/fr3', 'agibot/dual_arm'). Descriptions are validated once and cached.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { EmbodimentError } from '../errors.ts';
import { parseRobotDescription, type RobotDescription } from './description.ts';

/** hardware/ at the repository root. */
export const DEFAULT_HARDWARE_DIR = fileURLToPath(new URL('../../hardware/', import.meta.url));

export interface RegistryOptions {
  /** folder holding <vendor>/<robot>.yaml files; defaults to the repository's hardware/ */
  hardwareDir?: string;
}

const cache = new Map<string, RobotDescription>();

/** Ids of every robot description under the hardware folder, sorted. */
export function listRobots(opts: RegistryOptions = {}): string[] {
  const root = resolve(opts.hardwareDir ?? DEFAULT_HARDWARE_DIR);
  const ids: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.yaml')) ids.push(relative(root, p).slice(0, -'.yaml'.length).split(sep).join('/'));
    }
  };
  walk(root);
  return ids.sort();
}

/** Load, validate and cache the description with this id. */
export function loadRobot(id: string, opts: RegistryOptions = {}): RobotDescription {
  const root = resolve(opts.hardwareDir ?? DEFAULT_HARDWARE_DIR);
  const key = `${root}\0${id}`;
  const hit = cache.get(key);
  if (hit) return hit;

  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(id)) {
    throw new EmbodimentError(`robot id '${id}' is malformed: use a path under hardware/ without extension, e.g. 'franka/fr3'`);
  }
  const file = join(root, `${id}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const known = listRobots({ hardwareDir: root });
    throw new EmbodimentError(
      `unknown robot '${id}': no ${file}. Known robots: [${known.join(', ')}]; add hardware/${id}.yaml to define it`,
      { cause },
    );
  }
  const robot = parseRobotText(text, { id, source: file });
  cache.set(key, robot);
  return robot;
}

/** Parse YAML text as a robot description (used by loadRobot; handy for tests and tools). */
export function parseRobotText(text: string, opts: { id: string; source: string }): RobotDescription {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? ` at line ${cause.linePos[0].line}` : '';
    throw new EmbodimentError(`${opts.source} is not valid YAML${where}: ${(cause as Error).message}`, { cause });
  }
  return parseRobotDescription(raw, opts);
}

/** Forget cached descriptions (after editing files in a long-running process, or in tests). */
export function clearRobotCache(): void {
  cache.clear();
}
