/**
 * Word tokenizer for language instructions, matching the Python training side:
 *
 *   text = text.lower() if lowercase else text
 *   pieces = [p for p in re.split(r'[^a-z0-9]+', text) if p]
 *   ids = [vocab.get(p, vocab[unk]) for p in pieces][:max_length]
 *   mask = [1.0] * len(ids) + [0.0] * (max_length - len(ids));  ids padded with vocab[pad]
 *
 * The split class is [a-z0-9] even when lowercase is off, so upper-case letters then act as
 * separators (as they do in Python with that regex).
 */
import { readFileSync } from 'node:fs';
import { ObservationError } from '../errors.ts';
import type { LanguageSpec } from '../policy/manifest.ts';

/** The parts of the manifest LanguageSpec the tokenizer needs. */
export type WordTokenizerSpec = Pick<LanguageSpec, 'max_length' | 'lowercase' | 'pad_token' | 'unk_token'>;

export interface TokenEncoding {
  /** token ids, int64 [max_length], padded with the pad id */
  readonly ids: BigInt64Array;
  /** 1 for real tokens, 0 for padding, float32 [max_length] */
  readonly mask: Float32Array;
}

const SPLIT = /[^a-z0-9]+/;

/** Split text into word pieces as the Python side does (lowercasing when asked). */
export function splitWords(text: string, lowercase: boolean): string[] {
  const t = lowercase ? text.toLowerCase() : text;
  return t.split(SPLIT).filter((p) => p.length > 0);
}

/** Parse a vocab file's text: one token per line, line index = id ('\n' or '\r\n'; one trailing newline ignored). */
export function parseVocab(text: string, source = 'vocab'): Map<string, number> {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((line, i) => {
    const tok = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (tok === '') return;
    const prev = vocab.get(tok);
    if (prev !== undefined) {
      throw new ObservationError(`${source}: token '${tok}' appears on lines ${prev + 1} and ${i + 1}: each token must appear once`);
    }
    vocab.set(tok, i);
  });
  return vocab;
}

export class WordTokenizer {
  readonly maxLength: number;
  readonly lowercase: boolean;
  readonly padId: number;
  readonly unkId: number;
  /** number of ids (lines in the vocab file) */
  readonly vocabSize: number;
  private readonly vocab: ReadonlyMap<string, number>;
  private cachedText: string | null = null;
  private cached: TokenEncoding | null = null;

  constructor(vocab: ReadonlyMap<string, number>, spec: WordTokenizerSpec, source = 'vocab') {
    if (!Number.isInteger(spec.max_length) || spec.max_length <= 0) {
      throw new ObservationError(`language max_length ${spec.max_length} must be a positive integer`);
    }
    const pad = vocab.get(spec.pad_token);
    const unk = vocab.get(spec.unk_token);
    if (pad === undefined) throw new ObservationError(`${source} lacks the pad token '${spec.pad_token}': add it as a line, or set language.pad_token to one it has`);
    if (unk === undefined) throw new ObservationError(`${source} lacks the unk token '${spec.unk_token}': add it as a line, or set language.unk_token to one it has`);
    this.vocab = vocab;
    this.maxLength = spec.max_length;
    this.lowercase = spec.lowercase;
    this.padId = pad;
    this.unkId = unk;
    let size = 0;
    for (const id of vocab.values()) size = Math.max(size, id + 1);
    this.vocabSize = size;
  }

  /** Load a vocab file (one token per line, line index = id). */
  static fromFile(path: string, spec: WordTokenizerSpec): WordTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ObservationError(`cannot read vocab file ${path}: check language.vocab in the manifest`, { cause });
    }
    return new WordTokenizer(parseVocab(text, path), spec, path);
  }

  /**
   * Encode one instruction. With `ids`/`mask` given (length max_length) they are filled and
   * returned; otherwise the returned arrays are shared with the tokenizer's cache of the last
   * instruction and must be treated as read-only. Repeating the last instruction re-tokenizes nothing.
   */
  encode(text: string, ids?: BigInt64Array, mask?: Float32Array): TokenEncoding {
    const n = this.maxLength;
    if (ids !== undefined && ids.length !== n) throw new ObservationError(`token id buffer has length ${ids.length}, expected max_length ${n}`);
    if (mask !== undefined && mask.length !== n) throw new ObservationError(`token mask buffer has length ${mask.length}, expected max_length ${n}`);
    let enc = this.cached;
    if (enc === null || this.cachedText !== text) {
      enc = this.tokenize(text);
      this.cached = enc;
      this.cachedText = text;
    }
    if (ids === undefined && mask === undefined) return enc;
    const outIds = ids ?? new BigInt64Array(n);
    const outMask = mask ?? new Float32Array(n);
    outIds.set(enc.ids);
    outMask.set(enc.mask);
    return { ids: outIds, mask: outMask };
  }

  private tokenize(text: string): TokenEncoding {
    const n = this.maxLength;
    const ids = new BigInt64Array(n).fill(BigInt(this.padId));
    const mask = new Float32Array(n);
    const pieces = splitWords(text, this.lowercase);
    const count = Math.min(n, pieces.length);
    for (let i = 0; i < count; i++) {
      ids[i] = BigInt(this.vocab.get(pieces[i]) ?? this.unkId);
      mask[i] = 1;
    }
    return { ids, mask };
  }
}
