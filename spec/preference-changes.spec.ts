// Core's "Changes to Resource Preferences mappings do NOT trigger. A manual resync must be performed on the resource
// if mappings are changed." (core.resync.preference-changes), end to end against the local Ed-Fi test server: a
// preference change alone sends nothing (no PUT, and above all no DELETE of a district's records), every run warns
// until a resync, the resync sends it, and a record sent again for another reason goes with today's preferences
// without being sent again every night after.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { repoPath } from '../src/util/repo-root.js';
import { runPlan } from '../src/cli/commands/plan.js';
import { runResync } from '../src/cli/commands/resync.js';
import type { JsonObject } from '../src/types.js';
import { captureStderr, captureStdout, FLAVORS, quiet, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes, type Tables } from './helpers/sync-e2e.js';

/** Four students: 2 and 4 in Welding (program 1, WELD), 1 and 3 in Nursing (program 2, NURSA). */
function world(extra: Tables = {}): Tables {
  return { ...studentTables(students(4)), ...extra };
}
const WELD_PATHWAY = { EdFiResourcePreference: [{ $merge: true, configID: 1, resource: RESOURCE, element: 'careerPathwayDescriptor', campusValue: 'WELD', edfiCode: 'Architecture and Construction' }] };
const NURSA_UNMAPPED = { EdFiResourcePreference: [{ $delete: true, configID: 1, resource: 'programs', element: 'programTypeDescriptor', campusValue: 'NURSA' }] };

/** A harness whose first sync sent the four students' records. */
async function synced(options: { flavor?: (typeof FLAVORS)[number] } = {}): Promise<SyncHarness> {
  const h = await SyncHarness.start(options);
  h.world(world());
  await h.preload();
  expect((await h.sync()).code).to.equal(0);
  return h;
}

/** A sync while a preference change waits: nothing sent, the warning shown, every record still in the ODS. */
async function expectChangeWaits(h: SyncHarness, records: number): Promise<void> {
  const run = await h.sync();
  expect(run.code, run.stderr).to.equal(0);
  expect(writes(run.requests)).to.deep.equal([]);
  expect(run.stderr).to.include('plan.preferences-changed');
  expect(run.stderr).to.include('run `edfi-sync resync`');
  expect(h.store.count(RESOURCE)).to.equal(records);
}

/** `edfi-sync resync` against the harness's server, its output swallowed; the exit code. */
async function resyncOf(h: SyncHarness, extra: { dryRun?: boolean; connection?: string[] } = {}): Promise<number> {
  return quiet(() => runResync({ profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true, ...extra }));
}

function pathwayOf(body: JsonObject | undefined): unknown {
  return ((body?.ctePrograms as JsonObject[] | undefined)?.[0] ?? {}).careerPathwayDescriptor;
}

for (const flavor of FLAVORS) describe(`Resource Preferences changes wait for a resync (core, ${flavor})`, function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  beforeEach(async function () {
    h = await synced({ flavor });
    expect(h.store.count(RESOURCE)).to.equal(4);
  });

  it('a program loses its Programs mapping: its records are not deleted by the nightly sync, only by the resync', async function () {
    h.world(world(NURSA_UNMAPPED));
    await expectChangeWaits(h, 4);
    expect(h.identityOf(sourceKey(1))?.edfiId, 'the identity row stays').to.be.a('string');

    // resync --dry-run says what the resync will send (the sync after the reconciliation included), and sends nothing.
    const previewFrom = h.server.requests.length;
    const preview = await captureStdout(() => runResync({ profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true, dryRun: true }));
    expect(preview.value).to.equal(0);
    expect(writes(h.server.requests.slice(previewFrom))).to.deep.equal([]);
    // The report on stderr, the operations alone on stdout (JSON lines, for a pipe).
    expect(preview.stderr).to.include('would send 2 operation(s)');
    const previewed = preview.text.trim().split('\n').map((l) => JSON.parse(l) as { method: string; sourceKey: string });
    expect(previewed.map((op) => `${op.method} ${op.sourceKey}`).sort()).to.deep.equal([`DELETE ${sourceKey(1)}`, `DELETE ${sourceKey(3)}`]);
    await expectChangeWaits(h, 4);

    const from = h.server.requests.length;
    expect(await resyncOf(h)).to.equal(0);
    expect(writes(h.server.requests.slice(from)).map((r) => r.method)).to.deep.equal(['DELETE', 'DELETE']);
    expect(h.store.count(RESOURCE)).to.equal(2);
    expect(h.identityOf(sourceKey(1))).to.equal(undefined);
    expect(h.identityOf(sourceKey(3))).to.equal(undefined);
  });
});

// careerPathwayDescriptor lives in ctePrograms, which Data Standard 5.x dropped: Core on Data Standard 4.0 only.
describe('Resource Preferences changes: a remapped pathway (core, Data Standard 4.0)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  beforeEach(async function () {
    h = await synced();
  });

  it('a remapped pathway: nothing sent and a warning, night after night; a resync --dry-run changes nothing; the resync PUTs it; then quiet', async function () {
    const before = h.stored().map((r) => pathwayOf(r.body));
    h.world(world(WELD_PATHWAY));
    for (let night = 0; night < 2; night++) {
      const run = await h.sync();
      expect(run.code).to.equal(0);
      expect(writes(run.requests), 'nothing sent for a preference change alone').to.deep.equal([]);
      expect(run.stderr).to.include('run `edfi-sync resync`');
    }
    const waiting = h.errors().filter((e) => e.catalogueId === 'plan.preferences-changed');
    expect(waiting.map((e) => e.resolved), 'the error log holds one open warning for the connection').to.deep.equal([0]);
    expect(await resyncOf(h, { dryRun: true })).to.equal(0);
    const afterPreview = await h.sync();
    expect(writes(afterPreview.requests), 'a preview of the resync sends nothing, and the next night neither').to.deep.equal([]);
    expect(h.stored().map((r) => pathwayOf(r.body))).to.deep.equal(before);

    const from = h.server.requests.length;
    expect(await resyncOf(h)).to.equal(0);
    const sent = writes(h.server.requests.slice(from));
    expect(sent.map((r) => r.method)).to.deep.equal(['PUT', 'PUT']);
    expect(h.stored().filter((r) => pathwayOf(r.body) === 'uri://ed-fi.org/CareerPathwayDescriptor#Architecture and Construction')).to.have.length(2);

    const next = await h.sync();
    expect(writes(next.requests)).to.deep.equal([]);
    expect(next.stderr).to.not.include('run `edfi-sync resync`');
    expect(h.errors().filter((e) => e.catalogueId === 'plan.preferences-changed').map((e) => e.resolved), 'resolved once the resync sent it').to.deep.equal([1]);
  });

});

describe('Resource Preferences changes: records sent for another reason go with the preferences in effect (core)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());
  const MANUFACTURING = 'uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing';
  const ARCHITECTURE = 'uri://ed-fi.org/CareerPathwayDescriptor#Architecture and Construction';

  it('a Campus change after a preference change is sent with the preferences in effect; the resync sends the change', async function () {
    h = await synced();
    const changed = world(WELD_PATHWAY);
    (changed.ProgramParticipation as Array<Record<string, unknown>>).find((r) => r.participationID === 1002)!.endDate = '2026-05-01';
    h.world(changed);
    const run = await h.sync();
    expect(writes(run.requests).map((r) => r.method)).to.deep.equal(['PUT']);
    const body = h.store.get(RESOURCE, h.identityOf(sourceKey(2))!.edfiId!)!.body;
    expect(body.endDate).to.equal('2026-05-01');
    expect(pathwayOf(body)).to.equal(MANUFACTURING);
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
    expect(await resyncOf(h)).to.equal(0);
    expect([2, 4].map((p) => pathwayOf(h.store.get(RESOURCE, h.identityOf(sourceKey(p))!.edfiId!)!.body))).to.deep.equal([ARCHITECTURE, ARCHITECTURE]);
  });

  it('a record whose POST failed is sent with the preferences in effect when it is retried, and only once', async function () {
    h = await SyncHarness.start();
    h.world(world());
    await h.preload();
    // No record reaches the ODS on the first night.
    h.server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'POST', pathIncludes: RESOURCE } });
    await h.sync();
    h.server.faults.clear();
    const missing = [1, 2, 3, 4].filter((p) => !h.identityOf(sourceKey(p))?.edfiId);
    expect(missing).to.have.length(4);
    h.world(world(WELD_PATHWAY));
    const retry = await h.sync();
    expect(retry.code).to.equal(0);
    expect(writes(retry.requests).map((r) => r.method)).to.deep.equal(['POST', 'POST', 'POST', 'POST']);
    expect(pathwayOf(h.store.get(RESOURCE, h.identityOf(sourceKey(2))!.edfiId!)!.body)).to.equal(MANUFACTURING);
    const again = await h.sync();
    expect(writes(again.requests), 'sent once: the next night finds it in step').to.deep.equal([]);
  });

  it('a short preferences export one night, with Campus edits and a new record: nothing deleted, the new record sent; the next night, preferences back, no warning', async function () {
    h = await synced();
    // Nursing (NURSA: students 1 and 3) loses its Programs mapping for one night; student 1's record is edited and a
    // new Nursing student (5) is entered that same night.
    const night2 = world();
    night2.Person!.push({ personID: 5, stateID: '1000000005', lastName: 'Student5', firstName: 'Test' });
    night2.Enrollment!.push({ enrollmentID: 105, personID: 5, calendarID: 1, startDate: '2025-08-20', noShow: 0 });
    night2.ProgramParticipation!.push({ participationID: 1005, personID: 5, programID: 2, startDate: '2025-08-25', endDate: null });
    (night2.ProgramParticipation as Array<Record<string, unknown>>).find((r) => r.participationID === 1001)!.endDate = '2026-05-01';
    h.world(night2);
    // The new student is in the ODS (the Students resource is sent before this one); then the mapping goes.
    await h.preload();
    const edit = new Database(h.snapshot);
    edit.exec("DELETE FROM EdFiResourcePreference WHERE configID = 1 AND resource = 'programs' AND campusValue = 'NURSA'");
    edit.close();
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(0);
    expect(writes(run.requests).map((r) => r.method).sort()).to.deep.equal(['POST', 'PUT']);
    expect(run.stderr).to.include('plan.preferences-changed');
    expect(h.store.count(RESOURCE)).to.equal(5);
    const night3 = world();
    night3.Person!.push({ personID: 5, stateID: '1000000005', lastName: 'Student5', firstName: 'Test' });
    night3.Enrollment!.push({ enrollmentID: 105, personID: 5, calendarID: 1, startDate: '2025-08-20', noShow: 0 });
    night3.ProgramParticipation!.push({ participationID: 1005, personID: 5, programID: 2, startDate: '2025-08-25', endDate: null });
    (night3.ProgramParticipation as Array<Record<string, unknown>>).find((r) => r.participationID === 1001)!.endDate = '2026-05-01';
    h.world(night3);
    const back = await h.sync();
    expect(writes(back.requests)).to.deep.equal([]);
    expect(back.stderr).to.not.include('plan.preferences-changed');
    expect(h.store.count(RESOURCE)).to.equal(5);
  });

  it('a profile file edited while a change waits (every record evaluated again): still nothing deleted', async function () {
    h = await synced();
    h.world(world(NURSA_UNMAPPED));
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
    // The same profile, one comment longer: its version changes, so no cache entry is a hit.
    const project = join(h.dir, 'project');
    for (const folder of ['profiles', 'rules', 'mappings', 'schemas']) cpSync(repoPath(folder), join(project, folder), { recursive: true });
    const edited = join(project, 'profiles', 'core', 'profile.yaml');
    writeFileSync(edited, `${readFileSync(edited, 'utf8')}\n# edited\n`);
    const run = await h.sync({ profile: edited });
    expect(run.code, run.stderr).to.equal(0);
    expect(writes(run.requests)).to.deep.equal([]);
    expect(h.store.count(RESOURCE)).to.equal(4);
  });
});

// Two school years, one ODS: a resync of one connection does not apply another connection's waiting change.
describe('Resource Preferences changes: a resync of one connection leaves the other\'s change waiting (core)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('2024-25 loses its Nursing mapping; resync --connection 1:2026; the next sync deletes nothing of 2024-25 and still warns', async function () {
    h = await SyncHarness.start();
    const people = [80, 81];
    const tables = (): Tables => ({
      SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
      Calendar: [{ calendarID: 9, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
      EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'core', apiBase: 'https://edfi.example.org/api' }],
      Person: people.map((p) => ({ personID: p, stateID: `10000000${p}`, lastName: `Student${p}`, firstName: 'Test' })),
      Enrollment: people.flatMap((p) => [
        { enrollmentID: p * 10, personID: p, calendarID: 9, startDate: '2024-08-20', endDate: '2025-05-30' },
        { enrollmentID: p * 10 + 1, personID: p, calendarID: 1, startDate: '2025-08-20', endDate: null },
      ]),
      // A Nursing program record of 2024-25 only, and a Welding one of 2025-26 only.
      ProgramParticipation: people.flatMap((p) => [
        { participationID: 1000 + p, personID: p, programID: 2, startDate: '2024-09-01', endDate: '2025-05-30' },
        { participationID: 2000 + p, personID: p, programID: 1, startDate: '2025-09-01', endDate: null },
      ]),
    });
    const copyPreferences = (): void => {
      const db = new Database(h.snapshot);
      db.exec('INSERT INTO EdFiResourcePreference SELECT 2, resource, element, campusValue, edfiCode FROM EdFiResourcePreference WHERE configID = 1');
      db.close();
    };
    h.world(tables());
    copyPreferences();
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    expect(h.store.count(RESOURCE)).to.equal(4);
    h.world(tables());
    copyPreferences();
    const db = new Database(h.snapshot);
    db.exec("DELETE FROM EdFiResourcePreference WHERE configID = 2 AND resource = 'programs' AND campusValue = 'NURSA'");
    db.close();
    const night2 = await h.sync();
    expect(writes(night2.requests)).to.deep.equal([]);
    expect(night2.stderr).to.include('connection 1:2025');
    expect(await resyncOf(h, { connection: ['1:2026'] })).to.equal(0);
    expect(h.store.count(RESOURCE)).to.equal(4);
    const night3 = await h.sync();
    expect(writes(night3.requests), '2024-25 still waits for its own resync').to.deep.equal([]);
    expect(night3.stderr).to.include('connection 1:2025');
    expect(h.store.count(RESOURCE)).to.equal(4);
  });
});

describe('Resource Preferences in effect: what may not move them, and exports that differ in form only (core)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());
  const snapshotSql = (sql: string): void => {
    const db = new Database(h.snapshot);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };

  it('a resync the mass-delete guard refuses keeps the preferences of the last one: mapping back, the next sync deletes nothing and sends the new record', async function () {
    h = await SyncHarness.start();
    // 14 students: the odd ones (7) in Nursing, whose mapping goes missing.
    h.world(studentTables(students(15)));
    await h.preload();
    h.world(studentTables(students(14)));
    expect((await h.sync()).code).to.equal(0);
    expect(h.store.count(RESOURCE)).to.equal(14);
    h.world({ ...studentTables(students(14)), ...NURSA_UNMAPPED });
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
    const refused = await resyncOf(h);
    expect(refused, 'the guard refuses 7 deletes of 14').to.equal(5);
    expect(h.store.count(RESOURCE)).to.equal(14);
    // The mapping is back, and a 15th student is enrolled.
    h.world(studentTables(students(15)));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(0);
    expect(writes(run.requests).map((r) => r.method)).to.deep.equal(['POST']);
    expect(run.stderr).to.not.include('plan.preferences-changed');
    expect(h.store.count(RESOURCE)).to.equal(15);
  });

  it('a column of the export nobody reads (a timestamp) changing every night is no change: no warning', async function () {
    h = await SyncHarness.start();
    h.world(world());
    await h.preload();
    snapshotSql("ALTER TABLE EdFiResourcePreference ADD COLUMN exportedAt TEXT; UPDATE EdFiResourcePreference SET exportedAt = '2026-01-01T02:00'");
    expect((await h.sync()).code).to.equal(0);
    h.world(world());
    snapshotSql("ALTER TABLE EdFiResourcePreference ADD COLUMN exportedAt TEXT; UPDATE EdFiResourcePreference SET exportedAt = '2026-01-02T02:00'");
    const run = await h.sync();
    expect(writes(run.requests)).to.deep.equal([]);
    expect(run.stderr).to.not.include('plan.preferences-changed');
  });

  it('an export that spells the key column CONFIGID is read the same way: a missing mapping deletes nothing', async function () {
    h = await SyncHarness.start();
    h.world(world());
    await h.preload();
    snapshotSql('ALTER TABLE EdFiResourcePreference RENAME COLUMN configID TO CONFIGID');
    expect((await h.sync()).code).to.equal(0);
    h.world(world(NURSA_UNMAPPED));
    snapshotSql('ALTER TABLE EdFiResourcePreference RENAME COLUMN configID TO CONFIGID');
    await expectChangeWaits(h, 4);
  });

  it('plan and sync --dry-run keep no Resource Preferences: after a change, only a resync makes them the ones in effect', async function () {
    h = await synced();
    h.world(world(NURSA_UNMAPPED));
    const out = join(h.dir, 'plan.jsonl');
    expect((await captureStderr(() => runPlan({ profile: h.profile, snapshot: h.snapshot, state: h.state, out, quiet: true }))).value).to.equal(0);
    expect(readFileSync(out, 'utf8').trim(), 'plan: nothing to send').to.equal('');
    expect((await h.sync({ dryRun: true })).code).to.equal(0);
    await expectChangeWaits(h, 4);
  });

  it('a value an earlier version kept (not a list of rows) is taken as none kept: the run plans with today\'s, no crash', async function () {
    h = await synced();
    const db = new Database(h.state);
    db.prepare("UPDATE eval_scopes SET preferences = '235a06ad86790a2ac227d3934c32a4947ee384c1'").run();
    db.close();
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(0);
    expect(writes(run.requests)).to.deep.equal([]);
    const after = new Database(h.state, { readonly: true });
    const kept = (after.prepare('SELECT preferences FROM eval_scopes').pluck().all() as string[]);
    after.close();
    expect(kept.every((v) => v.startsWith('['))).to.equal(true);
  });
});
