// Synthetic Campus snapshots for demos, tests and benchmarks. Same options and seed -> the same rows,
// so a benchmark or a failing test can be reproduced anywhere from two numbers.
import { buildConfig } from './generate-config.js';
import { profileList, type GenerateProfile } from './generate-config.js';
import { buildOrg } from './generate-org.js';
import { buildStudents } from './generate-students.js';
import { insertRows } from './insert-rows.js';
import { createSnapshot } from './open.js';
import { Prng } from './prng.js';
import type { TableRows } from './rows.js';
import { campusSchema } from './schema.js';

export type { GenerateProfile } from './generate-config.js';

export interface GenerateOptions {
  students: number;
  /** Any 32-bit integer; default 1. */
  seed?: number;
  /** Snapshot file to write; replaced if it exists. */
  out: string;
  /** Configured school years (2026 = 2025-26); default [2025, 2026]. The year before the first is generated too, unconfigured. */
  endYears?: number[];
  /** Which EdFiConfiguration profiles: a comma list taken in turn by district, or 'both' / 'all' (every profile). */
  profile?: GenerateProfile;
}

export interface GenerateSummary {
  out: string;
  seed: number;
  students: number;
  endYears: number[];
  profile: GenerateProfile;
  /** Rows written per table, in DDL order. */
  counts: Record<string, number>;
  elapsedMs: number;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_END_YEARS: readonly number[] = [2025, 2026];

export function generateSnapshot(opts: GenerateOptions): GenerateSummary {
  const started = Date.now();
  const { students, seed, endYears, profile } = normalize(opts);
  const tables = buildTables(students, seed, endYears, profile);

  const db = createSnapshot(opts.out, { overwrite: true });
  const counts: Record<string, number> = {};
  try {
    // A generated file is disposable until written completely, so durability settings can go.
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    for (const table of campusSchema().tables) counts[table.name] = insertRows(db, table.name, tables[table.name] ?? []);
  } finally {
    db.close();
  }
  return { out: opts.out, seed, students, endYears, profile, counts, elapsedMs: Date.now() - started };
}

/** All rows of a synthetic snapshot, without touching the disk. */
export function buildTables(students: number, seed: number, endYears: readonly number[], profile: GenerateProfile): TableRows {
  const rng = new Prng(seed);
  // Profiles take districts in turn: one district at least for each.
  const org = buildOrg(rng, students, endYears, profileList(profile).length);
  const people = buildStudents(rng, org, students);
  const config = buildConfig(rng, org, endYears, profile);
  return { ...org.rows, ...people, ...config };
}

function normalize(opts: GenerateOptions): { students: number; seed: number; endYears: number[]; profile: GenerateProfile } {
  const { students } = opts;
  if (!Number.isInteger(students) || students < 1) throw new Error(`students must be a positive integer, got ${String(students)}`);
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new Error(`seed must be a 32-bit integer, got ${String(seed)}`);
  }
  const endYears = [...new Set(opts.endYears ?? DEFAULT_END_YEARS)].sort((a, b) => a - b);
  if (endYears.length === 0) throw new Error('endYears must name at least one school year');
  for (const y of endYears) {
    if (!Number.isInteger(y) || y < 1901 || y > 2999) throw new Error(`endYears must be school end years like 2026, got ${String(y)}`);
  }
  const profile = opts.profile ?? 'both';
  profileList(profile);
  if (!opts.out) throw new Error('out must name the snapshot file to write');
  return { students, seed, endYears, profile };
}
