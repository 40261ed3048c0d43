/**
 * Universal action codebook (UniAct): a shared table of atomic behaviours that
 * every embodiment's decoder reads. The backbone scores codes; this module picks
 * one (or a softmax mixture) and returns its embedding.
 */
import { readFileSync } from 'node:fs';
import { ManifestError } from '../errors.ts';

export type TokenSelection = { type: 'argmax' } | { type: 'softmax'; temperature: number };

export class UniversalCodebook {
  private constructor(
    /** row-major [size x dim] */
    readonly table: Float32Array,
    readonly size: number,
    readonly dim: number,
  ) {}

  static fromFile(file: string, size: number, dim: number): UniversalCodebook {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (cause) {
      throw new ManifestError(`cannot read universal action codebook ${file}`, { cause });
    }
    if (buf.byteLength !== size * dim * 4) {
      throw new ManifestError(
        `codebook ${file} has ${buf.byteLength} bytes, manifest universal_action says ${size} x ${dim} float32 = ${size * dim * 4}`,
      );
    }
    const table = new Float32Array(size * dim);
    new Uint8Array(table.buffer).set(buf);
    return new UniversalCodebook(table, size, dim);
  }

  /**
   * Select from logits [size] and write the embedding into `out` [dim].
   * Returns the chosen (argmax) token index.
   */
  embed(logits: Float32Array, selection: TokenSelection, out: Float32Array): number {
    if (logits.length !== this.size) {
      throw new ManifestError(`universal action logits have ${logits.length} entries, codebook has ${this.size}`);
    }
    const best = argmax(logits);
    if (selection.type === 'argmax') {
      out.set(this.table.subarray(best * this.dim, (best + 1) * this.dim));
      return best;
    }
    // softmax mixture of code embeddings (the Gumbel-softmax training target without noise)
    const t = selection.temperature;
    const m = logits[best]!;
    out.fill(0);
    let z = 0;
    for (let i = 0; i < this.size; i++) z += Math.exp((logits[i]! - m) / t);
    for (let i = 0; i < this.size; i++) {
      const w = Math.exp((logits[i]! - m) / t) / z;
      if (w < 1e-8) continue;
      const row = i * this.dim;
      for (let j = 0; j < this.dim; j++) out[j]! += w * this.table[row + j]!;
    }
    return best;
  }
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
