import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObservationError } from '../../src/errors.ts';
import { WordTokenizer, parseVocab, splitWords } from '../../src/observation/language.ts';

const VOCAB = ['<pad>', '<unk>', 'pick', 'up', 'the', 'red', 'cube', 'put', 'it', 'in', 'bowl', '2'];
const SPEC = { max_length: 6, lowercase: true, pad_token: '<pad>', unk_token: '<unk>' };

function writeVocab(lines: string[], eol = '\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
  const file = join(dir, 'vocab.txt');
  writeFileSync(file, lines.join(eol) + eol);
  return file;
}

const ids = (t: WordTokenizer, text: string): number[] => Array.from(t.encode(text).ids, Number);
const mask = (t: WordTokenizer, text: string): number[] => Array.from(t.encode(text).mask);

describe('splitWords', () => {
  it('splits on runs of non [a-z0-9] and drops empty pieces', () => {
    expect(splitWords('  Pick-up the RED cube!!  ', true)).toEqual(['pick', 'up', 'the', 'red', 'cube']);
    expect(splitWords("it's 2 o'clock, café", true)).toEqual(['it', 's', '2', 'o', 'clock', 'caf']);
    expect(splitWords('', true)).toEqual([]);
    expect(splitWords('...', true)).toEqual([]);
  });
  it('without lowercasing, upper-case letters are separators (same regex as Python)', () => {
    expect(splitWords('Pick UP', false)).toEqual(['ick']);
  });
});

describe('WordTokenizer', () => {
  const tok = WordTokenizer.fromFile(writeVocab(VOCAB), SPEC);

  it('maps words to line indices, pads with the pad id and masks padding', () => {
    expect(ids(tok, 'Pick up the red cube.')).toEqual([2, 3, 4, 5, 6, 0]);
    expect(mask(tok, 'Pick up the red cube.')).toEqual([1, 1, 1, 1, 1, 0]);
    expect(tok.vocabSize).toBe(VOCAB.length);
  });
  it('maps unknown words to the unk id', () => {
    expect(ids(tok, 'pick up the GREEN cube')).toEqual([2, 3, 4, 1, 6, 0]);
  });
  it('punctuation and digits', () => {
    expect(ids(tok, 'put it in bowl #2!')).toEqual([7, 8, 9, 10, 11, 0]);
  });
  it('truncates to max_length', () => {
    expect(ids(tok, 'pick up the red cube put it in the bowl')).toEqual([2, 3, 4, 5, 6, 7]);
    expect(mask(tok, 'pick up the red cube put it in the bowl')).toEqual([1, 1, 1, 1, 1, 1]);
  });
  it('empty instruction is all padding', () => {
    expect(ids(tok, '')).toEqual([0, 0, 0, 0, 0, 0]);
    expect(mask(tok, '?!')).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it('caches the last instruction and fills caller buffers', () => {
    const a = tok.encode('pick up the cube');
    expect(tok.encode('pick up the cube')).toBe(a);
    const b = tok.encode('put it in the bowl');
    expect(b).not.toBe(a);
    expect(Array.from(a.ids, Number)).toEqual([2, 3, 4, 6, 0, 0]); // earlier result untouched
    const outIds = new BigInt64Array(6);
    const outMask = new Float32Array(6);
    const c = tok.encode('put it in the bowl', outIds, outMask);
    expect(c.ids).toBe(outIds);
    expect(c.mask).toBe(outMask);
    expect(Array.from(outIds, Number)).toEqual([7, 8, 9, 4, 10, 0]);
    expect(Array.from(outMask)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(() => tok.encode('x', new BigInt64Array(5))).toThrow(/length 5, expected max_length 6/);
  });
  it('reads CRLF vocab files and honours custom pad/unk tokens', () => {
    const t = WordTokenizer.fromFile(writeVocab(['[UNK]', 'cube', '[PAD]'], '\r\n'), { ...SPEC, pad_token: '[PAD]', unk_token: '[UNK]', max_length: 3 });
    expect(ids(t, 'cube sphere')).toEqual([1, 0, 2]);
  });
  it('errors when the vocab lacks pad or unk', () => {
    const noPad = writeVocab(['<unk>', 'a']);
    expect(() => WordTokenizer.fromFile(noPad, SPEC)).toThrow(ObservationError);
    expect(() => WordTokenizer.fromFile(noPad, SPEC)).toThrow(/lacks the pad token '<pad>'/);
    expect(() => WordTokenizer.fromFile(writeVocab(['<pad>', 'a']), SPEC)).toThrow(/lacks the unk token '<unk>'/);
    expect(() => WordTokenizer.fromFile('/nonexistent/vocab.txt', SPEC)).toThrow(/cannot read vocab file \/nonexistent\/vocab.txt/);
  });
  it('rejects duplicate tokens, keeps ids of blank lines', () => {
    expect(() => parseVocab('a\nb\na\n', 'v.txt')).toThrow(/v.txt: token 'a' appears on lines 1 and 3/);
    expect(parseVocab('a\n\nb\n').get('b')).toBe(2);
  });
});

describe('conformance with the Python tokenizer (models/tokenizer_cases.json)', () => {
  it('reproduces ids and masks of every case', () => {
    const root = join(import.meta.dirname, '..', '..', 'models');
    const cases = JSON.parse(readFileSync(join(root, 'tokenizer_cases.json'), 'utf8')) as {
      max_length: number;
      vocab_size: number;
      cases: { text: string; ids: number[]; mask: number[] }[];
    };
    const t = WordTokenizer.fromFile(join(root, 'vla-chunk-tiny', 'vocab.txt'), { ...SPEC, max_length: cases.max_length });
    expect(t.vocabSize).toBe(cases.vocab_size);
    expect(cases.cases.length).toBeGreaterThan(0);
    for (const c of cases.cases) {
      expect(ids(t, c.text), c.text).toEqual(c.ids);
      expect(mask(t, c.text), c.text).toEqual(c.mask);
    }
  });
});
