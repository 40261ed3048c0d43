/**
 * ROS 2 parameter files (`<node>: ros__parameters: {...}` or `/**: ros__parameters:`),
 * read for the non-ROS transports and checked against what the node declares.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { RosError } from './errors.ts';
import { NODE_PARAMETERS } from './node.ts';
import { sameParameterKind, type ParameterValue } from './transport.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parameters for `nodeName` from YAML text: `/**` entries first, the node's own entries win. */
export function parseParameterYaml(text: string, nodeName: string, source = 'parameter file'): Record<string, ParameterValue> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RosError('ros.parameter', `${source} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (!isRecord(raw)) throw new RosError('ros.parameter', `${source}: expected '${nodeName}: ros__parameters: ...' at the top level`);
  const out: Record<string, ParameterValue> = {};
  let found = false;
  for (const key of ['/**', nodeName, `/${nodeName}`]) {
    const entry = raw[key];
    if (entry === undefined) continue;
    if (!isRecord(entry) || !isRecord(entry['ros__parameters'])) {
      throw new RosError('ros.parameter', `${source}: '${key}' must hold a 'ros__parameters' mapping`);
    }
    found = true;
    for (const [k, v] of Object.entries(entry['ros__parameters'])) {
      const ok = ['boolean', 'number', 'string'].includes(typeof v) || (Array.isArray(v) && v.every((x) => ['boolean', 'number', 'string'].includes(typeof x)));
      if (!ok) throw new RosError('ros.parameter', `${source}: parameter '${k}' must be a bool, number, string or a list of one of those (nested maps are not ROS parameters)`);
      out[k] = v as ParameterValue;
    }
  }
  if (!found) throw new RosError('ros.parameter', `${source} has no '${nodeName}:' or '/**:' section: start it with '${nodeName}:\\n  ros__parameters:'`);
  return out;
}

export function loadParameterFile(path: string, nodeName: string): Record<string, ParameterValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RosError('ros.parameter', `cannot read parameter file '${path}': ${(err as Error).message}`, { cause: err });
  }
  return parseParameterYaml(text, nodeName, path);
}

/**
 * Problems of a parameter set against the node's declarations: unknown keys,
 * values of the wrong kind, and (with `requireAll`) missing keys. Empty = fine.
 */
export function checkNodeParameters(params: Readonly<Record<string, ParameterValue>>, opts: { requireAll?: boolean } = {}): string[] {
  const problems: string[] = [];
  const declared = NODE_PARAMETERS as Readonly<Record<string, { default: ParameterValue }>>;
  for (const [k, v] of Object.entries(params)) {
    const spec = declared[k];
    if (!spec) problems.push(`unknown parameter '${k}' (declared: ${Object.keys(declared).join(', ')})`);
    else if (!sameParameterKind(spec.default, v)) problems.push(`parameter '${k}' = ${JSON.stringify(v)} is not of the declared kind (default ${JSON.stringify(spec.default)})`);
  }
  if (opts.requireAll) for (const k of Object.keys(declared)) if (!(k in params)) problems.push(`missing parameter '${k}'`);
  return problems;
}
