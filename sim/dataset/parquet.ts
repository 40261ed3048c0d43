/**
 * Parquet column schemas for LeRobot files, written with hyparquet-writer so
 * that pyarrow/pandas/HF datasets read them with the types LeRobot expects:
 * scalars, LIST columns (3-level, element named 'element' as pyarrow writes),
 * and HF `Image` structs {bytes, path}.
 */
import type { SchemaElement } from 'hyparquet';

export type LeafType = 'FLOAT' | 'DOUBLE' | 'INT64' | 'STRING' | 'BINARY';

/** How one column is laid out. */
export type ColumnLayout =
  | { readonly kind: 'scalar'; readonly leaf: LeafType }
  /** nested lists, `depth` levels deep (1 = list<leaf>, 3 = list<list<list<leaf>>>) */
  | { readonly kind: 'list'; readonly leaf: LeafType; readonly depth: number }
  /** HF datasets Image(): struct<bytes: binary, path: string> */
  | { readonly kind: 'image' };

export interface ColumnDef {
  readonly name: string;
  readonly layout: ColumnLayout;
}

function leafElement(name: string, leaf: LeafType): SchemaElement {
  if (leaf === 'STRING') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  if (leaf === 'BINARY') return { name, type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' };
  return { name, type: leaf, repetition_type: 'OPTIONAL' };
}

function listElements(name: string, leaf: LeafType, depth: number): SchemaElement[] {
  const out: SchemaElement[] = [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ];
  if (depth === 1) out.push(leafElement('element', leaf));
  else out.push(...listElements('element', leaf, depth - 1));
  return out;
}

/** Flat (pre-order) parquet schema for the given columns, all nullable as pyarrow writes them. */
export function parquetSchema(columns: readonly ColumnDef[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'schema', num_children: columns.length }];
  for (const { name, layout } of columns) {
    if (layout.kind === 'scalar') schema.push(leafElement(name, layout.leaf));
    else if (layout.kind === 'list') schema.push(...listElements(name, layout.leaf, layout.depth));
    else {
      schema.push(
        { name, repetition_type: 'OPTIONAL', num_children: 2 },
        leafElement('bytes', 'BINARY'),
        leafElement('path', 'STRING'),
      );
    }
  }
  return schema;
}

/** pandas metadata that makes `pd.read_parquet` restore `indexColumn` as the DataFrame index. */
export function pandasIndexMetadata(
  columns: ReadonlyArray<{ name: string; pandasType: 'int64' | 'unicode' | 'float64' }>,
  indexColumn: string,
): { key: string; value: string } {
  const numpyType = (t: string): string => (t === 'unicode' ? 'object' : t);
  return {
    key: 'pandas',
    value: JSON.stringify({
      index_columns: [indexColumn],
      column_indexes: [
        { name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } },
      ],
      columns: columns.map((c) => ({
        name: c.name,
        field_name: c.name,
        pandas_type: c.pandasType,
        numpy_type: numpyType(c.pandasType),
        metadata: null,
      })),
      creator: { library: 'armature', version: '0.1.0' },
      pandas_version: '2.2.3',
    }),
  };
}

function bigints(v: unknown): unknown {
  if (typeof v === 'number') return BigInt(v);
  if (Array.isArray(v)) return v.map(bigints);
  return v;
}

/** Convert a column's JS values to what hyparquet-writer expects (INT64 leaves as bigint). */
export function columnValues(def: ColumnDef, values: readonly unknown[]): unknown[] {
  if (def.layout.kind !== 'image' && def.layout.leaf === 'INT64') return values.map(bigints);
  return [...values];
}
