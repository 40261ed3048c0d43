import { ArmatureError } from '../../../src/errors.ts';

/** Where a problem sits in a BDDL file; line and column are 1-based. */
export interface SourcePos {
  line: number;
  col: number;
}

/**
 * A BDDL task file (or a task built in code) is malformed.
 * With a position the message reads `file:line:col: what was expected, what was found`.
 */
export class BddlError extends ArmatureError {
  constructor(
    /** what is wrong and how to fix it, without the location prefix */
    readonly detail: string,
    /** file name (or '<bddl>' when parsing a string) */
    readonly source: string = '<bddl>',
    pos?: SourcePos,
  ) {
    super('task.bddl', pos ? `${source}:${pos.line}:${pos.col}: ${detail}` : `${source}: ${detail}`);
    // copy: callers pass tokens, which carry more than the position
    this.pos = pos ? { line: pos.line, col: pos.col } : undefined;
  }

  readonly pos: SourcePos | undefined;
}
