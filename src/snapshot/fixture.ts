// Fixture snapshots: tiny Campus worlds written as YAML, so a test or an analyst states only the rows
// that matter and `base: standard` supplies the district, school, year and connection around them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { FixtureError } from './fixture-error.js';
import { mergeTables } from './fixture-merge.js';
import { originOf, parseTables, parseYaml, scalarBoolean, scalarString, topLevel, unknownColumnMessage } from './fixture-yaml.js';
import type { ParsedTables, YamlSource } from './fixture-yaml.js';
import { insertRows, RowInsertError } from './insert-rows.js';
import { createSnapshot } from './open.js';
import type { Row } from './rows.js';
import { campusSchema, quoteIdent } from './schema.js';
import { repoPath } from '../util/repo-root.js';

export { FixtureError } from './fixture-error.js';

export interface Fixture {
  /** File name or label used in messages. */
  name?: string;
  description?: string;
  /** The profile whose connection the base world has (profiles/<profile>/fixture-base.yaml); none: no connection. */
  profile?: string;
  /** Accept rows that point at missing parents (for fixtures about orphaned Campus data). */
  allowOrphans?: boolean;
  /** Final rows per table, base included. */
  tables: Record<string, Row[]>;
  /** Where each row came from ("no-show.yaml line 12"), for messages. */
  origins?: ReadonlyMap<Row, string>;
}

export const FIXTURE_KEYS = ['description', 'base', 'profile', 'allowOrphans', 'tables'] as const;

/**
 * Parses fixture YAML text, or the file given as `{ file }`, and applies its base. The profile's fixture base is
 * looked up under `projectRoot` first (a project folder of its own), then in this package.
 */
export function loadFixture(source: string | { file: string }, name?: string, opts: { projectRoot?: string } = {}): Fixture {
  const text = typeof source === 'string' ? source : readFileSync(source.file, 'utf8');
  const label = name ?? (typeof source === 'string' ? 'fixture' : source.file);
  return fixtureFromYaml(parseYaml(text, label), opts.projectRoot);
}

export function loadFixtureFile(file: string): Fixture {
  return loadFixture({ file });
}

function fixtureFromYaml(src: YamlSource, projectRoot?: string): Fixture {
  const top = topLevel(src, FIXTURE_KEYS);
  const description = scalarString(src, top.get('description'), 'description');
  const baseName = scalarString(src, top.get('base'), 'base');
  const profile = scalarString(src, top.get('profile'), 'profile');
  const allowOrphans = scalarBoolean(src, top.get('allowOrphans'), 'allowOrphans') ?? false;
  const own = parseTables(src, top.get('tables'));

  let base: ParsedTables | undefined;
  if (baseName !== undefined) {
    if (baseName !== 'standard') throw new FixtureError(src.name, `${originOf(src, top.get('base'))}: unknown base '${baseName}'. Known bases: standard`);
    base = standardBase(profile, src.name, projectRoot);
  }
  const merged = mergeTables(src.name, base, own);
  const tables: Record<string, Row[]> = {};
  const origins = new Map<Row, string>();
  for (const [table, m] of merged) {
    tables[table] = m.rows;
    m.rows.forEach((row, i) => origins.set(row, m.origins[i] as string));
  }
  return { name: src.name, ...(description !== undefined ? { description } : {}), ...(profile !== undefined ? { profile } : {}), allowOrphans, tables, origins };
}

/**
 * The standard world: the shared tables of fixture-base.yaml, plus, when a profile is named, its connection and
 * Resource Preferences from profiles/<profile>/fixture-base.yaml (looked up in `projectRoot` first, then in this
 * project). Without a profile the world has no Ed-Fi connection: the fixture gives its own.
 */
export function standardBase(profile: string | undefined, fixtureName: string, projectRoot?: string): ParsedTables {
  const file = 'fixture-base.yaml';
  const src = parseYaml(readFileSync(repoPath('src', 'snapshot', file), 'utf8'), file);
  const tables = parseTables(src, topLevel(src, ['description', 'tables']).get('tables'));
  if (profile === undefined) return tables;
  const candidates = [projectRoot, repoPath()].filter((r): r is string => Boolean(r)).map((r) => join(r, 'profiles', profile, file));
  const profileFile = candidates.find((f) => existsSync(f));
  if (!profileFile) {
    throw new FixtureError(fixtureName, `the standard base has no connection for profile '${profile}' (no profiles/${profile}/${file})`);
  }
  const own = parseYaml(readFileSync(profileFile, 'utf8'), `profiles/${profile}/${file}`);
  const extra = parseTables(own, topLevel(own, ['description', 'tables']).get('tables'));
  for (const [table, rows] of extra) tables.set(table, [...(tables.get(table) ?? []), ...rows]);
  return tables;
}

/** Writes the fixture's rows into a new snapshot file (replacing it) and returns the row count per table. */
export function buildSnapshotFromFixture(fixture: Fixture, outFile: string): Record<string, number> {
  const name = fixture.name ?? 'fixture';
  const schema = campusSchema();
  for (const [table, rows] of Object.entries(fixture.tables)) {
    const info = schema.byName.get(table);
    if (!info) throw new FixtureError(name, `unknown table '${table}'. Valid tables: ${[...schema.byName.keys()].join(', ')}`);
    for (const row of rows) {
      const bad = Object.keys(row).find((c) => !info.columns.some((col) => col.name === c));
      if (bad !== undefined) throw new FixtureError(name, `${fixture.origins?.get(row) ?? name}, table ${table}: ${unknownColumnMessage(info, bad)}`);
    }
  }

  const db = createSnapshot(outFile, { overwrite: true });
  const counts: Record<string, number> = {};
  try {
    // Checked once at the end instead, so the message can say which row points where.
    db.pragma('foreign_keys = OFF');
    for (const table of schema.tables) {
      const rows = fixture.tables[table.name] ?? [];
      try {
        counts[table.name] = insertRows(db, table.name, rows);
      } catch (err) {
        if (!(err instanceof RowInsertError)) throw err;
        const row = rows[err.index];
        const where = (row && fixture.origins?.get(row)) ?? `row ${err.index + 1}`;
        throw new FixtureError(name, `${where}, table ${table.name}: ${err.detail}`);
      }
    }
    if (!fixture.allowOrphans) checkReferences(db, fixture, name);
  } catch (err) {
    db.close();
    throw err;
  }
  db.close();
  return counts;
}

interface ForeignKeyViolation {
  table: string;
  rowid: number;
  parent: string;
  fkid: number;
}

interface ForeignKeyInfo {
  id: number;
  from: string;
  to: string | null;
}

function checkReferences(db: Database.Database, fixture: Fixture, name: string): void {
  const violations = db.prepare<[], ForeignKeyViolation>('PRAGMA foreign_key_check').all();
  if (violations.length === 0) return;
  const problems = violations.slice(0, 20).map((v) => {
    const fk = db.prepare<[], ForeignKeyInfo>(`PRAGMA foreign_key_list(${quoteIdent(v.table)})`).all().find((f) => f.id === v.fkid);
    const column = fk?.from ?? '?';
    const row = db.prepare<[number], Record<string, unknown>>(`SELECT * FROM ${quoteIdent(v.table)} WHERE rowid = ?`).get(v.rowid) ?? {};
    const info = campusSchema().byName.get(v.table);
    const key = info?.primaryKey.map((k) => `${k} ${JSON.stringify(row[k] ?? null)}`).join(', ') ?? `rowid ${v.rowid}`;
    const origin = originForKey(fixture, v.table, info?.primaryKey ?? [], row);
    return `${origin ? `${origin}, ` : ''}table ${v.table} (${key}): ${column} ${JSON.stringify(row[column] ?? null)} has no ${v.parent} row`;
  });
  const more = violations.length > problems.length ? `\n  ... and ${violations.length - problems.length} more` : '';
  throw new FixtureError(name, `rows refer to missing parents (set 'allowOrphans: true' if that is the point):\n  - ${problems.join('\n  - ')}${more}`);
}

function originForKey(fixture: Fixture, table: string, pk: readonly string[], row: Record<string, unknown>): string | undefined {
  const match = (fixture.tables[table] ?? []).find((r) => pk.length > 0 && pk.every((k) => String(r[k]) === String(row[k])));
  return match ? fixture.origins?.get(match) : undefined;
}
