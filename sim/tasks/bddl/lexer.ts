/**
 * BDDL tokenizer and s-expression reader with line/column tracking.
 *
 * The token rules follow LIBERO's reader (bddl.parsing.scan_tokens): `;` starts a
 * comment to the end of the line, `(` and `)` are tokens, and any other run of
 * non-space characters is an atom. Case is kept here; the parser decides what to fold.
 */
import { BddlError, type SourcePos } from './error.ts';

export type Token =
  | ({ type: '(' } & SourcePos)
  | ({ type: ')' } & SourcePos)
  | ({ type: 'atom'; text: string } & SourcePos);

export interface SAtom extends SourcePos {
  type: 'atom';
  text: string;
}

export interface SList extends SourcePos {
  type: 'list';
  items: SExpr[];
  /** position of the closing ')' */
  end: SourcePos;
}

export type SExpr = SAtom | SList;

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDelimiter = (c: string): boolean => c === '(' || c === ')' || c === ';' || isSpace(c);

/** Splits BDDL text into tokens; comments and whitespace are dropped. Columns count UTF-16 code units. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (isSpace(c)) {
      i++;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, line, col: i - lineStart + 1 });
      i++;
    } else {
      const start = i;
      while (i < text.length && !isDelimiter(text[i])) i++;
      tokens.push({ type: 'atom', text: text.slice(start, i), line, col: start - lineStart + 1 });
    }
  }
  return tokens;
}

/** Position just past the last character of the text: where "end of file" is reported. */
export function endOfText(text: string): SourcePos {
  const lines = text.split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

/**
 * Reads exactly one top-level list (the `(define ...)` form).
 * A stray `)` is reported where it stands. A missing `)` only shows at end of file,
 * where the outer `(define` is what is left open, so it is reported at the first list
 * whose indentation says it should have closed: a `(` that starts a line while a list
 * that started a line at the same or a deeper column is still open. Without such a
 * hint it is reported at the innermost `(` left open.
 */
export function readForm(text: string, source = '<bddl>'): SList {
  const tokens = tokenize(text);
  if (tokens.length === 0) {
    throw new BddlError("expected '(define (problem NAME) ...)', found an empty file", source, endOfText(text));
  }
  const first = tokens[0];
  if (first.type !== '(') {
    throw new BddlError(`expected '(' to start '(define ...)', found ${describeToken(first)}`, source, first);
  }
  const stack: SList[] = [];
  /** lists whose '(' was the first token on its line */
  const startsLine = new WeakSet<SList>();
  let suspect: { open: SList; sibling: SourcePos } | undefined;
  let top: SList | undefined;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const firstOnLine = k === 0 || tokens[k - 1].line !== t.line;
    if (top) {
      throw new BddlError(
        `expected end of file after the closing ')' of '(define ...)' at ${top.end.line}:${top.end.col}, found ${describeToken(t)}`,
        source,
        t,
      );
    }
    if (t.type === '(') {
      const open = stack[stack.length - 1];
      if (!suspect && firstOnLine && open && stack.length > 1 && startsLine.has(open) && open.col >= t.col) {
        suspect = { open, sibling: { line: t.line, col: t.col } };
      }
      const list: SList = { type: 'list', items: [], line: t.line, col: t.col, end: { line: t.line, col: t.col } };
      if (firstOnLine) startsLine.add(list);
      stack.push(list);
    } else if (t.type === ')') {
      const closed = stack.pop();
      if (!closed) throw new BddlError("unexpected ')' with no matching '(': remove it", source, t);
      closed.end = { line: t.line, col: t.col };
      const parent = stack[stack.length - 1];
      if (parent) parent.items.push(closed);
      else top = closed;
    } else {
      // Only reachable inside a list: the first token is '(' and `top` stops the loop after it closes.
      stack[stack.length - 1].items.push({ type: 'atom', text: t.text, line: t.line, col: t.col });
    }
  }
  if (!top) {
    const eof = endOfText(text);
    if (suspect) {
      throw new BddlError(
        `expected ')' to close this '(' before the '(' at ${suspect.sibling.line}:${suspect.sibling.col}, which is indented as its sibling; found end of file at ${eof.line}:${eof.col} with ${stack.length} list${stack.length > 1 ? 's' : ''} open`,
        source,
        suspect.open,
      );
    }
    throw new BddlError(
      `expected ')' to close this '(', found end of file at ${eof.line}:${eof.col} with ${stack.length} list${stack.length > 1 ? 's' : ''} open`,
      source,
      stack[stack.length - 1],
    );
  }
  return top;
}

function describeToken(t: Token): string {
  return t.type === 'atom' ? `'${t.text}'` : `'${t.type}'`;
}

/** Human description of an s-expression for "found ..." in messages. */
export function describe(e: SExpr | undefined): string {
  if (!e) return 'nothing';
  if (e.type === 'atom') return `'${e.text}'`;
  const head = e.items[0];
  return head && head.type === 'atom' ? `'(${head.text} ...)'` : e.items.length === 0 ? "'()'" : "a list";
}
