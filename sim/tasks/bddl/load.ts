import { readFileSync } from 'node:fs';
import type { BddlTask } from '../task.ts';
import { BddlError } from './error.ts';
import { parseBddl, type ParseOptions } from './parser.ts';

/** Reads and parses a .bddl file; errors name the path (for `armature tasks parse <file.bddl>`). */
export function readBddlFile(path: string, options: ParseOptions = {}): BddlTask {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BddlError(`cannot read the task file (${(e as Error).message}): check the path`, path);
  }
  return parseBddl(text, path, options);
}
