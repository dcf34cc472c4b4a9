// State files written before one owner per ODS record was kept: they open (named migrations), and a sync or a
// resync repairs what they got wrong (two identity rows sharing an Ed-Fi id, ODS records in no plan) without
// deleting anything a district still wants.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { runResync } from '../src/cli/commands/resync.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { MIGRATIONS, openState } from '../src/state/state-db.js';
import { loadFixture } from '../src/snapshot/fixture.js';
import type { JsonObject } from '../src/types.js';
import { captureStderr, fixtureYaml, keyText, naturalKeyOfBody, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes, type Row, type Tables } from './helpers/sync-e2e.js';

const LEGACY = ['initial', 'eval-cache-hashes'];

/** A state file as the engine wrote it before named migrations: the first two migrations, counted in user_version. */
function legacyState(file: string): Database.Database {
  const db = new Database(file);
  for (const name of LEGACY) db.exec(MIGRATIONS.find((m) => m.name === name)!.sql!);
  db.pragma(`user_version = ${LEGACY.length}`);
  return db;
}

/** Identity rows of a state file in the old format (no instance yet), holding this Ed-Fi id. */
function legacyHolders(file: string, edfiId: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT connection FROM identity_map WHERE edfi_id = ? ORDER BY connection').all(edfiId) as Array<{ connection: string }>).map((r) => r.connection);
  } finally {
    db.close();
  }
}

/** Rewrites a state file in the old format, with its identity rows as they are (instance and key hash dropped). */
function downgrade(file: string, change?: (db: Database.Database) => void): void {
  const old = `${file}.legacy`;
  rmSync(old, { force: true });
  const current = new Database(file, { readonly: true });
  const rows = new IdentityMap(current).find({});
  current.close();
  const db = legacyState(old);
  const insert = db.prepare(`INSERT INTO identity_map (connection, resource, source_key, student, edfi_id, natural_key, body, body_hash, last_method, last_status, last_outcome, last_sent_at)
    VALUES (@connection, @resource, @sourceKey, @student, @edfiId, @naturalKey, @body, @bodyHash, @lastMethod, @lastStatus, @lastOutcome, @lastSentAt)`);
  for (const r of rows) insert.run({ ...r, instance: undefined, naturalKey: JSON.stringify(r.naturalKey), body: JSON.stringify(r.body) });
  change?.(db);
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  renameSync(old, file);
}

describe('state files from before named migrations', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-migrate-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('open: the old migrations are recorded by name, the new ones applied once, identity rows keep their data and gain a key hash', function () {
    const file = join(dir, 'old.sqlite');
    const db = legacyState(file);
    const naturalKey: JsonObject = { beginDate: '2025-08-25', 'studentReference.studentUniqueId': '1' };
    db.prepare(`INSERT INTO identity_map (connection, resource, source_key, student, edfi_id, natural_key, body, body_hash, last_outcome)
      VALUES ('1:2026', ?, 'participationID=1', '1', 'abc', ?, '{}', 'h', 'ok')`).run(RESOURCE, JSON.stringify(naturalKey));
    db.close();

    const state = openState(file);
    const applied = (state.prepare('SELECT name FROM migrations ORDER BY rowid').all() as Array<{ name: string }>).map((r) => r.name);
    expect(applied).to.deep.equal(MIGRATIONS.map((m) => m.name));
    const row = new IdentityMap(state).get('1:2026', RESOURCE, 'participationID=1')!;
    expect(row).to.deep.include({ edfiId: 'abc', instance: null, naturalKey });
    const raw = state.prepare('SELECT nk_hash FROM identity_map').get() as { nk_hash: string };
    expect(raw.nk_hash).to.match(/^[0-9a-f]{40}$/);
    expect((state.prepare("SELECT sql FROM sqlite_master WHERE name = 'eval_cache'").get() as { sql: string }).sql).to.match(/WITHOUT ROWID/);
    state.close();
    // Opened again: nothing is applied twice.
    const again = openState(file);
    expect((again.prepare('SELECT COUNT(*) AS n FROM migrations').get() as { n: number }).n).to.equal(MIGRATIONS.length);
    again.close();
  });
});

describe('state files broken before one owner per ODS record was kept, repaired against the test server', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  /** Two school years sending to one ODS; participation 1001 overlaps both. */
  function twoYears(tables: Tables): Tables {
    const prefs = loadFixture(fixtureYaml({})).tables.EdFiResourcePreference ?? [];
    const t = { ...tables };
    t.Enrollment = [...(t.Enrollment ?? []), { enrollmentID: 201, personID: 1, calendarID: 2, startDate: '2024-08-20', noShow: 0 }];
    return {
      ...t,
      SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
      Calendar: [{ calendarID: 2, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
      EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'core' }],
      EdFiResourcePreference: prefs.map((r) => ({ ...r, configID: 2 }) as Row),
    };
  }

  it('one ODS record mapped by two school years (as the old engine mapped shared records): the sync keeps one owner and deletes nothing', async function () {
    h = await SyncHarness.start();
    const world = twoYears(studentTables([{ personID: 1, startDate: '2025-03-01' }, { personID: 2 }, { personID: 3 }]));
    h.world(world);
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const shared = h.identityOf(sourceKey(1))!;
    // The old engine had a row for each year, both holding the one ODS record.
    downgrade(h.state, (db) => {
      db.prepare(`INSERT INTO identity_map (connection, resource, source_key, student, edfi_id, natural_key, body, body_hash, last_method, last_status, last_outcome, last_sent_at)
        SELECT '1:2025', resource, source_key, student, edfi_id, natural_key, body, body_hash, last_method, last_status, last_outcome, '2000-01-01T00:00:00.000Z'
        FROM identity_map WHERE source_key = ?`).run(sourceKey(1));
    });
    expect(legacyHolders(h.state, shared.edfiId!)).to.deep.equal(['1:2025', '1:2026']);

    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests)).to.deep.equal([]);
    const owners = h.identity().filter((r) => r.edfiId === shared.edfiId);
    expect(owners.map((r) => r.connection)).to.deep.equal(['1:2026']);
    expect(h.store.get(RESOURCE, shared.edfiId!)).to.not.equal(undefined);
    expect(h.errors().some((e) => e.catalogueId === 'plan.identity-repaired')).to.equal(true);
  });

  it('resync repairs two identity rows sharing an id and an ODS record in no plan, and deletes only what nobody wants', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(4)));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const a = h.identityOf(sourceKey(1))!;
    const b = h.identityOf(sourceKey(2))!;
    // The old engine's drift: record 2's row points at record 1's ODS record (a key-change POST answered 200 on
    // it), so record 2's own ODS record is in no plan; and an ODS record no Campus record wants at all.
    downgrade(h.state, (db) => {
      db.prepare("UPDATE identity_map SET edfi_id = ?, last_sent_at = '2000-01-01T00:00:00.000Z' WHERE source_key = ?").run(a.edfiId, sourceKey(2));
    });
    const stranger: JsonObject = { ...h.store.get(RESOURCE, a.edfiId!)!.body, beginDate: '2025-09-30' };
    h.server.seed(RESOURCE, stranger);
    expect(legacyHolders(h.state, a.edfiId!)).to.have.length(2);

    const { value: code } = await captureStderr(async () => {
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        return await runResync({ profile: 'core', snapshot: h.snapshot, state: h.state, apiBase: h.server.url, dataPath: '/data/v3', concurrency: 4, quiet: true });
      } finally {
        process.stdout.write = write;
      }
    });
    expect(code).to.equal(EXIT.ok);
    const identity = h.identity();
    expect(new Set(identity.map((r) => r.edfiId)).size).to.equal(identity.length);
    expect(h.identityOf(sourceKey(2))!.edfiId).to.equal(b.edfiId);
    expect(h.store.get(RESOURCE, b.edfiId!), 'record 2 is still in the ODS').to.not.equal(undefined);
    const desired = await h.desired();
    expect(h.stored().map((s) => keyText(naturalKeyOfBody(s.body))).sort()).to.deep.equal(desired.map((d) => keyText(d.naturalKey)).sort());
  });
});
