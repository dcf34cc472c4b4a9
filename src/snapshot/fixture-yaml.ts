// Reads fixture YAML into typed rows. Values are converted by the column's declared type, from the YAML
// source text where needed: an unquoted district number 0480101 or CIP code 01.0101 in a TEXT column stays
// exactly as written instead of becoming the number 480101 or 1.0101.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import { FixtureError } from './fixture-error.js';
import type { Row, SqlValue } from './rows.js';
import { campusSchema } from './schema.js';
import type { ColumnInfo, TableInfo } from './schema.js';

/** What a fixture row asks for: a plain row, removal of a base row, or changes to a base row. */
export type RowOp = 'row' | 'delete' | 'merge';

export interface ParsedRow {
  op: RowOp;
  values: Row;
  /** "file.yaml line 12", for messages. */
  origin: string;
}

export type ParsedTables = Map<string, ParsedRow[]>;

/** A parsed YAML document plus what turns node offsets into "file line N". */
export interface YamlSource {
  name: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function parseYaml(text: string, name: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first) throw new FixtureError(name, `invalid YAML: ${first.message}`);
  return { name, text, doc, lines };
}

export function originOf(src: YamlSource, node: Node | null | undefined): string {
  const offset = node?.range?.[0];
  return offset === undefined ? src.name : `${src.name} line ${src.lines.linePos(offset).line}`;
}

/** The top-level mapping as key -> value node; rejects keys outside `allowed`. */
export function topLevel(src: YamlSource, allowed: readonly string[]): Map<string, Node | null> {
  const root = src.doc.contents;
  const out = new Map<string, Node | null>();
  if (root === null) return out;
  if (!isMap(root)) throw new FixtureError(src.name, 'the top level must be a mapping (description, base, profile, tables, ...)');
  for (const pair of root.items) {
    const key = keyOf(src, pair);
    if (!allowed.includes(key)) {
      throw new FixtureError(src.name, `${originOf(src, pair.key as Node)}: unknown key '${key}'. Allowed: ${allowed.join(', ')}`);
    }
    out.set(key, (pair.value as Node | null) ?? null);
  }
  return out;
}

export function scalarString(src: YamlSource, node: Node | null | undefined, what: string): string | undefined {
  if (node === null || node === undefined) return undefined;
  const resolved = resolve(src, node);
  if (!isScalar(resolved) || resolved.value === null) return undefined;
  if (typeof resolved.value === 'object') throw new FixtureError(src.name, `${originOf(src, node)}: ${what} must be a single value`);
  return String(resolved.value);
}

export function scalarBoolean(src: YamlSource, node: Node | null | undefined, what: string): boolean | undefined {
  if (node === null || node === undefined) return undefined;
  const resolved = resolve(src, node);
  if (isScalar(resolved) && typeof resolved.value === 'boolean') return resolved.value;
  throw new FixtureError(src.name, `${originOf(src, node)}: ${what} must be true or false`);
}

/** `tables:` -> rows per table, with table and column names checked against campus-schema.sql. */
export function parseTables(src: YamlSource, node: Node | null | undefined): ParsedTables {
  const out: ParsedTables = new Map();
  if (node === null || node === undefined) return out;
  const tables = resolve(src, node);
  if (!isMap(tables)) throw new FixtureError(src.name, `${originOf(src, node)}: tables must map table names to lists of rows`);
  const schema = campusSchema();
  for (const pair of tables.items) {
    const name = keyOf(src, pair);
    const table = schema.byName.get(name);
    if (!table) {
      throw new FixtureError(src.name, `${originOf(src, pair.key as Node)}: unknown table '${name}'${didYouMean(name, [...schema.byName.keys()])}. ` +
        `Valid tables: ${[...schema.byName.keys()].join(', ')}`);
    }
    const list = pair.value === null || pair.value === undefined ? null : resolve(src, pair.value as Node);
    if (list !== null && !(isScalar(list) && list.value === null) && !isSeq(list)) {
      throw new FixtureError(src.name, `${originOf(src, pair.value as Node)}, table ${name}: expected a list of rows`);
    }
    const rows = out.get(name) ?? [];
    if (list !== null && isSeq(list)) {
      for (const item of list.items) rows.push(parseRow(src, table, item as Node));
    }
    out.set(name, rows);
  }
  return out;
}

function parseRow(src: YamlSource, table: TableInfo, node: Node): ParsedRow {
  const origin = originOf(src, node);
  const map = resolve(src, node);
  if (!isMap(map)) throw new FixtureError(src.name, `${origin}, table ${table.name}: each row must be a mapping of column: value`);
  const values: Row = {};
  let del = false;
  let merge = false;
  for (const pair of (map as YAMLMap).items) {
    const key = keyOf(src, pair);
    const valueNode = pair.value as Node | null;
    if (key === '$delete' || key === '$merge') {
      const flag = scalarBoolean(src, valueNode, key) ?? false;
      if (key === '$delete') del = flag;
      else merge = flag;
      continue;
    }
    const column = table.columns.find((c) => c.name === key);
    if (!column) throw new FixtureError(src.name, `${originOf(src, pair.key as Node)}, table ${table.name}: ${unknownColumnMessage(table, key)}`);
    values[key] = convertValue(src, valueNode, column, `${originOf(src, valueNode ?? (pair.key as Node))}, table ${table.name}`);
  }
  if (del && merge) throw new FixtureError(src.name, `${origin}, table ${table.name}: a row cannot both $delete and $merge`);
  return { op: del ? 'delete' : merge ? 'merge' : 'row', values, origin };
}

export function unknownColumnMessage(table: TableInfo, key: string): string {
  const names = table.columns.map((c) => c.name);
  return `unknown column '${key}'${didYouMean(key, names)}. Valid columns: ${names.join(', ')}`;
}

function convertValue(src: YamlSource, node: Node | null, column: ColumnInfo, where: string): SqlValue {
  if (node === null) return null;
  const resolved = resolve(src, node);
  if (!isScalar(resolved)) throw new FixtureError(src.name, `${where}: column ${column.name} needs a single value, not a list or mapping`);
  const value: unknown = resolved.value;
  if (value === null || value === undefined) return null;
  if (column.type === 'TEXT') {
    if (typeof value === 'string') return value;
    // A plain scalar that YAML read as a number or boolean: keep the characters the author typed.
    if (resolved.type === Scalar.PLAIN && resolved.range) return src.text.slice(resolved.range[0], resolved.range[1]);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'string') return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  throw new FixtureError(src.name, `${where}: column ${column.name} has an unsupported value`);
}

function keyOf(src: YamlSource, pair: Pair): string {
  const key = pair.key as Node | null;
  if (key === null || !isScalar(key) || key.value === null || typeof key.value === 'object') {
    throw new FixtureError(src.name, `${originOf(src, key)}: keys must be plain names`);
  }
  return String(key.value);
}

function resolve(src: YamlSource, node: Node): Node {
  if (!isAlias(node)) return node;
  const target = node.resolve(src.doc);
  if (!target) throw new FixtureError(src.name, `${originOf(src, node)}: unresolved alias *${node.source}`);
  return target;
}

function didYouMean(name: string, candidates: readonly string[]): string {
  const lower = name.toLowerCase();
  const hit = candidates.find((c) => c.toLowerCase() === lower);
  return hit ? ` (did you mean '${hit}'?)` : '';
}
