// Shared set-up of the end-to-end sync specs: a snapshot from fixture rows, the local Ed-Fi test server,
// `runSync` with credentials from the environment and stderr captured, and readers of the state file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { preloadFromSnapshot } from '../../src/cli/commands/test-server.js';
import { runSync, type SyncOptions } from '../../src/cli/commands/sync.js';
import { naturalKeyOf } from '../../src/plan/paths.js';
import { instanceFromDataPath } from '../../src/plan/plan-options.js';
import { buildPlan } from '../../src/plan/planner.js';
import { loadProfile, type LoadedProfile } from '../../src/profile/load-profile.js';
import { buildSnapshotFromFixture, loadFixture } from '../../src/snapshot/fixture.js';
import { openSnapshot } from '../../src/snapshot/open.js';
import { ErrorLog, type ErrorLogEntry } from '../../src/state/error-log.js';
import { IdentityMap, type IdentityRow } from '../../src/state/identity-map.js';
import { emptyState } from '../../src/state/state-db.js';
import type { ApiFlavor } from '../../src/api/flavor.js';
import { startTestServer, type RequestLogEntry, type TestServer, type TestServerOptions } from '../../src/testserver/server.js';
import type { EdFiStore } from '../../src/testserver/store.js';
import type { JsonObject } from '../../src/types.js';

export const RESOURCE = 'studentCTEProgramAssociations';
export const DATA_PATH = '/data/v3';
/** Every API generation the end-to-end suites run against. */
export const FLAVORS: readonly ApiFlavor[] = ['ods-6', 'ods-7', 'dms'];

/** The Core profile that fits a flavor's Data Standard: core (4.0) for ODS/API 5.x/6.x, core-ds5 for the others. */
export function coreProfileFor(flavor: ApiFlavor): string {
  return flavor === 'ods-6' ? 'core' : 'core-ds5';
}
/** Credentials of these specs: distinctive, so a leak into a file or a log can be searched for. */
export const CLIENT_ID = 'e2e-sync-key';
export const CLIENT_SECRET = 'e2e-Sync-Secret-7c41f09d2b';

/** A row of a Campus table, as fixture YAML states it. */
export type Row = Record<string, string | number | boolean | null>;
export type Tables = Record<string, Row[]>;

/**
 * Fixture rows of a small Campus world on the standard base (district 1234567, school year 2025-26, programs 1 and 2)
 * of a profile (core by default; a profile's own fixture-base.yaml adds its connection).
 */
export function fixtureYaml(tables: Tables, extra: { allowOrphans?: boolean; profile?: string } = {}): string {
  return stringify({ profile: extra.profile ?? 'core', base: 'standard', ...(extra.allowOrphans ? { allowOrphans: true } : {}), tables });
}

/** One student with an enrollment in the 2025-26 calendar and a CTE program record. */
export interface StudentSpec {
  personID: number;
  programID?: number;
  startDate?: string;
  endDate?: string | null;
  noShow?: boolean;
  /** Leave the program record out (deleted in Campus). */
  noParticipation?: boolean;
}

export function participationID(personID: number): number {
  return 1000 + personID;
}

export function stateID(personID: number): string {
  return String(1_000_000_000 + personID);
}

export function sourceKey(personID: number): string {
  return `participationID=${participationID(personID)}`;
}

/** Person, Enrollment and ProgramParticipation rows for a list of students. */
export function studentTables(students: StudentSpec[]): Tables {
  const Person: Row[] = [];
  const Enrollment: Row[] = [];
  const ProgramParticipation: Row[] = [];
  for (const s of students) {
    Person.push({ personID: s.personID, stateID: stateID(s.personID), lastName: `Student${s.personID}`, firstName: 'Test' });
    Enrollment.push({ enrollmentID: 100 + s.personID, personID: s.personID, calendarID: 1, startDate: '2025-08-20', noShow: s.noShow ? 1 : 0 });
    if (!s.noParticipation) {
      ProgramParticipation.push({
        participationID: participationID(s.personID),
        personID: s.personID,
        programID: s.programID ?? 1 + (s.personID % 2),
        startDate: s.startDate ?? '2025-08-25',
        endDate: s.endDate ?? null,
      });
    }
  }
  return { Person, Enrollment, ProgramParticipation };
}

export function students(count: number, first = 1): StudentSpec[] {
  return Array.from({ length: count }, (_, i) => ({ personID: first + i }));
}

export interface SyncRun {
  code: number;
  stderr: string;
  /** The requests the server logged during this run. */
  requests: RequestLogEntry[];
  ms: number;
}

export interface DesiredRecord {
  connection: string;
  sourceKey: string;
  naturalKey: JsonObject;
  body: JsonObject;
}

const profileCache = new Map<string, LoadedProfile>();
export function coreProfile(name = 'core'): LoadedProfile {
  let p = profileCache.get(name);
  if (!p) profileCache.set(name, (p = loadProfile(name)));
  return p;
}

/** Runs a command with its stdout and stderr swallowed; returns what it returned. */
export async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return (await captureStderr(fn)).value;
  } finally {
    process.stdout.write = out;
  }
}

/** Replaces `process.stdout.write` and `process.stderr.write` while `fn` runs; returns what went to each. */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ value: T; text: string; stderr: string }> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    rest.find((r): r is () => void => typeof r === 'function')?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    const r = await captureStderr(fn);
    return { value: r.value, text: chunks.join(''), stderr: r.text };
  } finally {
    process.stdout.write = out;
  }
}

/** Replaces `process.stderr.write` while `fn` runs and returns what was written. */
export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; text: string }> {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r): r is () => void => typeof r === 'function');
    done?.();
    return true;
  };
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    const value = await fn();
    return { value, text: chunks.join('') };
  } finally {
    process.stderr.write = original;
  }
}

/** Writes of the resource (POST/PUT/DELETE) among logged requests. */
export function writes(requests: RequestLogEntry[]): RequestLogEntry[] {
  return requests.filter((r) => r.path.includes(`/ed-fi/${RESOURCE}`) && ['POST', 'PUT', 'DELETE'].includes(r.method));
}

/** The id at the end of an item path such as /data/v3/ed-fi/studentCTEProgramAssociations/{id}. */
export function idOf(r: RequestLogEntry): string {
  return r.path.split('?')[0]!.split('/').pop() ?? '';
}

/**
 * One test's world: a folder with the snapshot and the state file, a test server, and the env credentials.
 * `close()` undoes all of it.
 */
export class SyncHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'edfi-sync-e2e-'));
  readonly snapshot = join(this.dir, 'snapshot.db');
  readonly state = join(this.dir, 'state.db');
  server!: TestServer;
  /** The profile the runs use: the Core profile that fits the server's flavor unless given. */
  profile = 'core';
  /** Everything the runs wrote to stderr. */
  stderr = '';
  private readonly savedEnv = { id: process.env.EDFI_CLIENT_ID, secret: process.env.EDFI_CLIENT_SECRET };

  static async start(options: TestServerOptions & { profile?: string } = {}): Promise<SyncHarness> {
    const h = new SyncHarness();
    const { profile, ...serverOptions } = options;
    h.profile = profile ?? coreProfileFor(options.flavor ?? 'ods-6');
    h.server = await startTestServer({ port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...serverOptions });
    process.env.EDFI_CLIENT_ID = CLIENT_ID;
    process.env.EDFI_CLIENT_SECRET = CLIENT_SECRET;
    return h;
  }

  get store(): EdFiStore {
    return this.server.store;
  }

  /** (Re)writes the snapshot from fixture tables, on the standard world of the connections the profile serves. */
  world(tables: Tables, extra: { allowOrphans?: boolean } = {}): this {
    const serves = coreProfile(this.profile).def.connectionProfile ?? coreProfile(this.profile).def.name;
    buildSnapshotFromFixture(loadFixture(fixtureYaml(tables, { ...extra, profile: serves }), 'e2e fixture'), this.snapshot);
    return this;
  }

  /** Creates the LEAs, students and programs the snapshot's records reference, in each year's instance. */
  async preload(): Promise<void> {
    await preloadFromSnapshot(this.server, this.snapshot, [this.profile]);
  }

  async sync(extra: Partial<SyncOptions> = {}): Promise<SyncRun> {
    const from = this.server.requests.length;
    const started = Date.now();
    const { value, text } = await captureStderr(() =>
      runSync({ profile: this.profile, snapshot: this.snapshot, state: this.state, apiBase: this.server.url, concurrency: 4, quiet: true, ...extra }),
    );
    this.stderr += text;
    return { code: value, stderr: text, requests: this.server.requests.slice(from), ms: Date.now() - started };
  }

  /** What a fresh plan of the current snapshot wants in the ODS (as if nothing had been sent): one record per natural key and instance. */
  async desired(dataPath = DATA_PATH): Promise<DesiredRecord[]> {
    const snapshot = openSnapshot(this.snapshot);
    const state = emptyState();
    const out: DesiredRecord[] = [];
    try {
      await buildPlan({
        profile: coreProfile(this.profile),
        snapshot,
        state,
        instanceOf: instanceFromDataPath(dataPath),
        onDesired: (connection, sourceKey, naturalKey, body) => out.push({ connection, sourceKey, naturalKey, body }),
      });
    } finally {
      snapshot.close();
      state.close();
    }
    return out;
  }

  private withState<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(this.state, { readonly: true, fileMustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  identity(): IdentityRow[] {
    return this.withState((db) => new IdentityMap(db).find({ resource: RESOURCE }));
  }

  identityOf(key: string): IdentityRow | undefined {
    return this.identity().find((r) => r.sourceKey === key);
  }

  /** Every entry of the error log, open and resolved (`resolved` 1 once the record went through). */
  errors(): Array<ErrorLogEntry & { resolved: number }> {
    return this.withState((db) => new ErrorLog(db).list({ state: 'all' }).map((e) => ({ ...e, resolved: e.state === 'resolved' ? 1 : 0 })));
  }

  /** Every text value of every table of the state file. */
  stateTexts(): string[] {
    return this.withState((db) => {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
      const out: string[] = [];
      for (const t of tables) {
        for (const row of db.prepare(`SELECT * FROM "${t.replace(/"/g, '""')}"`).all() as Array<Record<string, unknown>>) {
          for (const v of Object.values(row)) if (typeof v === 'string') out.push(v);
        }
      }
      return out;
    });
  }

  /** The latest run of the run history: its status and the JSON summary it recorded. */
  lastRun(): { status: string; summary: unknown } {
    return this.withState((db) => {
      const r = db.prepare('SELECT status, summary FROM runs ORDER BY run_id DESC LIMIT 1').get() as { status: string; summary: string | null };
      return { status: r.status, summary: r.summary ? (JSON.parse(r.summary) as unknown) : null };
    });
  }

  /** The lock rows of the state file (a run that died leaves its own). */
  locks(): Array<{ name: string; pid: number }> {
    return this.withState((db) => db.prepare('SELECT name, pid FROM lock').all() as Array<{ name: string; pid: number }>);
  }

  /** Stored associations of the ODS, in creation order. */
  stored(store: EdFiStore = this.store): Array<{ id: string; body: JsonObject }> {
    return store.list(RESOURCE).map((i) => ({ id: i.id, body: i.body }));
  }

  private closed = false;

  /** Undoes the world; a second call (an afterEach after a skipped test) does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server?.close();
    restoreEnv('EDFI_CLIENT_ID', this.savedEnv.id);
    restoreEnv('EDFI_CLIENT_SECRET', this.savedEnv.secret);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Forms in which a secret could leak: as is, URL-encoded, and inside an HTTP Basic header. */
export function secretForms(): string[] {
  return [CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET), Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')];
}

/** Canonical text of a natural key, for set comparisons. */
export function keyText(naturalKey: JsonObject): string {
  return JSON.stringify(Object.keys(naturalKey).sort().map((k) => [k, naturalKey[k]]));
}

/** The natural key of a stored body, in the profile's paths. */
export function naturalKeyOfBody(body: JsonObject, profile = 'core'): JsonObject {
  return naturalKeyOf(body, coreProfile(profile).def.naturalKey);
}
