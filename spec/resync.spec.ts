import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { runDelete } from '../src/cli/commands/delete.js';
import { runResync } from '../src/cli/commands/resync.js';
import { runSync, type SyncOptions } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ErrorLog } from '../src/state/error-log.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { openState } from '../src/state/state-db.js';
import type { TestServer } from '../src/testserver/server.js';
import { useServerWorld } from './helpers/server-world.js';
import Database from 'better-sqlite3';
import { captureStderr, captureStdout, coreProfileFor, FLAVORS, idOf, RESOURCE, stateID, SyncHarness, writes, type Row } from './helpers/sync-e2e.js';
import type { RequestLogEntry } from '../src/testserver/server.js';
import type { JsonObject } from '../src/types.js';

const WORLD = `
base: standard
profile: core
tables:
  Person:
${[10, 11, 12, 13].map((p) => `    - { personID: ${p}, stateID: '10000000${p}' }`).join('\n')}
  Enrollment:
${[10, 11, 12, 13].map((p) => `    - { enrollmentID: ${p}0, personID: ${p}, calendarID: 1, startDate: '2025-08-20' }`).join('\n')}
  ProgramParticipation:
${[10, 11, 12, 13].map((p) => `    - { participationID: ${p}00, personID: ${p}, programID: 1, startDate: '2025-08-25' }`).join('\n')}
`;

for (const flavor of FLAVORS) describe(`resync and the delete tool, against the local Ed-Fi test server (${flavor})`, function () {
  const w = useServerWorld('each', 'resync', 'rk', 'resync-secret', { flavor });
  const profile = coreProfileFor(flavor);
  let dir: string;
  let server: TestServer;
  let o: SyncOptions;
  const associations = (): JsonObject[] => server.store.list('studentCTEProgramAssociations').map((i) => i.body as JsonObject);
  const quietly = async <T>(f: () => Promise<T>): Promise<T> => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      return await f();
    } finally {
      process.stdout.write = write;
    }
  };

  beforeEach(async function () {
    ({ dir, server } = w);
    const snapshot = join(dir, 'snap.sqlite');
    buildSnapshotFromFixture(loadFixture(WORLD), snapshot);
    await preloadFromSnapshot(server, snapshot, [profile]);
    o = { profile, snapshot, state: join(dir, 'state.sqlite'), apiBase: server.url, concurrency: 4, quiet: true };
    expect(await runSync(o)).to.equal(0);
    expect(associations()).to.have.length(4);
  });

  it('forgets a mapping whose record the ODS lost, and sends the record again', async function () {
    const lost = server.store.list('studentCTEProgramAssociations')[0]!;
    server.store.delete('studentCTEProgramAssociations', lost.id);
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(associations()).to.have.length(4);
    const db = openState(o.state);
    const ids = new IdentityMap(db).find({}).map((r) => r.edfiId);
    db.close();
    expect(ids).to.not.include(lost.id);
    expect(new Set(ids)).to.deep.equal(new Set(server.store.list('studentCTEProgramAssociations').map((i) => i.id)));
  });

  it('deletes an ODS record of the connection that neither Campus nor the identity mapping knows', async function () {
    const stranger: JsonObject = { ...associations()[0]!, beginDate: '2025-09-30' };
    delete stranger.id;
    server.seed('studentCTEProgramAssociations', stranger);
    expect(associations()).to.have.length(5);
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(associations().map((b) => b.beginDate)).to.not.include('2025-09-30');
    expect(associations()).to.have.length(4);
  });

  it('recovers a lost state file: adopts every record by natural key, no duplicate, no delete of wanted data', async function () {
    const before = server.store.list('studentCTEProgramAssociations').map((i) => i.id).sort();
    rmSync(o.state);
    for (const suffix of ['-wal', '-shm']) rmSync(o.state + suffix, { force: true });
    server.requests.length = 0;
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(server.store.list('studentCTEProgramAssociations').map((i) => i.id).sort()).to.deep.equal(before);
    expect(server.requests.filter((r) => r.method !== 'GET' && r.path.includes('studentCTEProgramAssociations'))).to.deep.equal([]);
    const db = openState(o.state);
    const rows = new IdentityMap(db).find({});
    db.close();
    expect(rows.map((r) => r.edfiId).sort()).to.deep.equal(before);
    // Each adopted row names its student, so `identity --student` and `delete --student` find it after a recovery.
    expect(rows.map((r) => r.student).sort()).to.deep.equal(['1000000010', '1000000011', '1000000012', '1000000013']);
  });

  it('an ODS in step stays untouched however it answers (empty collections as [], items in its own order), also after a lost state file', async function () {
    const nonGet = (): unknown[] => server.requests.filter((r) => r.method !== 'GET' && r.path.includes('studentCTEProgramAssociations'));
    server.requests.length = 0;
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(nonGet()).to.deep.equal([]);
    // Lost state: the records are adopted as they are in the ODS, and the next nights send nothing either.
    for (const suffix of ['', '-wal', '-shm']) rmSync(o.state + suffix, { force: true });
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(await runSync(o)).to.equal(0);
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(nonGet()).to.deep.equal([]);
  });

  it("puts back what someone changed in the ODS (the body is compared with today's mapping)", async function () {
    const item = server.store.list('studentCTEProgramAssociations')[0]!;
    server.store.put('studentCTEProgramAssociations', item.id, { ...(item.body as JsonObject), privateCTEProgram: true });
    server.requests.length = 0;
    expect(await quietly(() => runResync(o))).to.equal(0);
    expect(server.requests.filter((r) => r.method === 'PUT')).to.have.length(1);
    expect((server.store.get('studentCTEProgramAssociations', item.id)!.body as JsonObject).privateCTEProgram).to.equal(false);
  });

  it('--dry-run changes nothing', async function () {
    server.store.delete('studentCTEProgramAssociations', server.store.list('studentCTEProgramAssociations')[0]!.id);
    server.requests.length = 0;
    expect(await quietly(() => runResync({ ...o, dryRun: true }))).to.equal(0);
    expect(server.requests.filter((r) => r.method !== 'GET' && r.path.includes('/ed-fi/'))).to.deep.equal([]);
    expect(associations()).to.have.length(3);
  });

  it('--dry-run with the state file lost: shows the adoption, and creates no state file', async function () {
    for (const suffix of ['', '-wal', '-shm']) rmSync(o.state + suffix, { force: true });
    const r = await captureStdout(() => runResync({ ...o, dryRun: true }));
    expect(r.value).to.equal(0);
    expect(r.stderr).to.match(/adopt\s+4/);
    expect(existsSync(o.state)).to.equal(false);
  });

  it('--dry-run --format json --out: the reconciliation on stdout, the operations the sync would send in the file, no scratch copy left', async function () {
    const lost = server.store.list('studentCTEProgramAssociations')[0]!;
    server.store.delete('studentCTEProgramAssociations', lost.id);
    const out = join(dir, 'resync-ops.jsonl');
    const r = await captureStdout(() => runResync({ ...o, dryRun: true, format: 'json', out }));
    expect(r.value).to.equal(0);
    const doc = JSON.parse(r.text) as { counts: Record<string, number>; sync: { operationCount: number; operationsFile: string } };
    expect(doc.counts['forget-mapping']).to.equal(1);
    expect(doc.sync).to.include({ operationCount: 1, operationsFile: out });
    // The record the ODS lost is sent again: a POST, as the real resync does.
    const ops = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string });
    expect(ops.map((op) => op.method)).to.deep.equal(['POST']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.resync-dry-run-'))).to.deep.equal([]);
    expect(associations()).to.have.length(3);
  });

  it('refuses to delete a mass of unknown ODS records without --allow-mass-delete', async function () {
    const template = associations()[0]!;
    for (let d = 1; d <= 12; d++) {
      const b: JsonObject = { ...template, beginDate: `2025-10-${String(d).padStart(2, '0')}` };
      delete b.id;
      server.seed('studentCTEProgramAssociations', b);
    }
    const guarded = { ...o, maxDeleteCount: 5, maxDeleteShare: 0.1 };
    // The preview says the same: refused (exit 5), and nothing the sync would send, since the real run stops.
    const preview = await captureStdout(() => runResync({ ...guarded, dryRun: true }));
    expect(preview.value).to.equal(5);
    expect(preview.stderr).to.contain('the real resync stops here: nothing would be deleted or sent');
    expect(preview.stderr + preview.text).to.not.contain('would send');
    expect(preview.text).to.equal('');
    expect(await quietly(() => runResync(guarded))).to.equal(5);
    expect(associations()).to.have.length(16);
    expect(await quietly(() => runResync({ ...guarded, allowMassDelete: true }))).to.equal(0);
    expect(associations()).to.have.length(4);
  });

  it('the delete tool clears a 409 dependency: delete the dependent record, then the original delete succeeds', async function () {
    const program = server.store.list('programs')[0]!;
    // The program is no record of this profile: --connection names the school year (the instance) it lives in.
    const del = { profile, state: o.state, apiBase: server.url, connection: ['1:2026'] };
    const first = await quietly(() => runDelete({ ...del, resourcePath: '/ed-fi/programs', id: [program.id] }));
    expect(first).to.equal(1);
    let db = openState(o.state);
    const entry = new ErrorLog(db).list({ status: 409 })[0]!;
    db.close();
    expect(entry.catalogueId).to.equal('core.error.delete-dependency');
    expect(entry.fix).to.contain('Use the Delete Tool');
    // The fix: delete the records that depend on the program (all four students' associations), then retry.
    for (const sid of ['1000000010', '1000000011', '1000000012', '1000000013']) {
      expect(await quietly(() => runDelete({ ...del, student: sid }))).to.equal(0);
    }
    expect(associations()).to.have.length(0);
    db = openState(o.state);
    expect(new IdentityMap(db).find({})).to.have.length(0);
    db.close();
    expect(await quietly(() => runDelete({ ...del, resourcePath: '/ed-fi/programs', id: [program.id] }))).to.equal(0);
    expect(server.store.get('programs', program.id)).to.equal(undefined);
  });
});

// The Missouri world of the resync safety tests: students of district 1234567 with a CTE program record and an
// enrollment in each school year given (calendar 1 = 2025-26 of the standard world, calendar 9 = 2024-25).
function missouriWorld(h: SyncHarness, people: number[], years: { c2025?: boolean } = {}): void {
  const Enrollment: Row[] = [];
  for (const p of people) {
    Enrollment.push({ enrollmentID: p * 10 + 1, personID: p, calendarID: 1, startDate: '2025-08-20', careerCluster: '8', cteProgramType: 'Health Sciences' });
    if (years.c2025) Enrollment.push({ enrollmentID: p * 10, personID: p, calendarID: 9, startDate: '2024-08-20', endDate: '2025-05-30', careerCluster: '8', cteProgramType: 'Health Sciences' });
  }
  h.world({
    ...(years.c2025 ? {
      SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
      Calendar: [{ calendarID: 9, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
      EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'missouri', apiBase: 'https://edfi-mo.example.org/api' }],
    } : {}),
    Person: people.map((p) => ({ personID: p, stateID: stateID(p), lastName: `Student${p}`, firstName: 'Test' })),
    Enrollment,
    ProgramParticipation: people.map((p) => ({ participationID: 1000 + p, personID: p, programID: 2, startDate: '2024-09-01' })),
  });
  if (years.c2025) snapshotSql(h, 'INSERT INTO EdFiResourcePreference SELECT 2, resource, element, campusValue, edfiCode FROM EdFiResourcePreference WHERE configID = 1');
}

/** Changes the snapshot file as a later Campus export would. */
function snapshotSql(h: SyncHarness, sql: string): void {
  const db = new Database(h.snapshot);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** A resync through the command, with what it printed. */
async function resyncOf(h: SyncHarness, extra: Partial<SyncOptions> = {}): Promise<{ code: number; stdout: string; stderr: string; requests: RequestLogEntry[] }> {
  const from = h.server.requests.length;
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const { value, text } = await captureStderr(() => runResync({ profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true, ...extra }));
    return { code: value, stdout: chunks.join(''), stderr: text, requests: h.server.requests.slice(from) };
  } finally {
    process.stdout.write = write;
  }
}

function loseState(h: SyncHarness): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(h.state + suffix, { force: true });
}

for (const flavor of FLAVORS) describe(`resync keeps the records of a district whose number changed (${flavor})`, function () {
  let h: SyncHarness;
  beforeEach(async function () {
    h = await SyncHarness.start({ flavor, profile: flavor === 'ods-6' ? 'missouri' : 'missouri-ds5' });
  });
  afterEach(async () => h.close());

  it('a mapped record the ODS holds under the old LEA is not forgotten, nor sent again under the new one', async function () {
    missouriWorld(h, [1, 2, 3]);
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    const before = h.stored();
    expect(before).to.have.length(3);
    const mapped = h.identity().map((r) => r.edfiId).sort();
    // "LEA Reference - District Numbers cannot change after data has been sent."
    snapshotSql(h, "UPDATE District SET number = '7654321' WHERE districtID = 1");
    await h.preload();
    const held = await h.sync();
    expect(writes(held.requests)).to.deep.equal([]);

    const r = await resyncOf(h);
    expect(writes(r.requests), r.stdout).to.deep.equal([]);
    expect(r.stdout).to.not.match(/forget-mapping\s+[1-9]/);
    expect(r.stdout).to.match(/outside-scope\s+3/);
    expect(h.identity().map((x) => x.edfiId).sort()).to.deep.equal(mapped);
    expect(h.stored()).to.deep.equal(before);
  });

  it('a mapping is still forgotten when a lookup by id confirms the record is gone', async function () {
    missouriWorld(h, [1, 2, 3]);
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    const lost = h.stored()[0]!;
    h.store.delete(RESOURCE, lost.id);
    snapshotSql(h, "UPDATE District SET number = '7654321' WHERE districtID = 1");
    await h.preload();
    const r = await resyncOf(h, { dryRun: true });
    // A dry run's report is on stderr (stdout carries the operations the sync would send, as JSON lines).
    expect(r.stderr).to.match(/forget-mapping\s+1/);
    expect(r.stderr).to.match(/outside-scope\s+2/);
    expect(r.stderr).to.contain(lost.id);
  });

  it('a State District Number kept with a leading zero lists the records the bodies carry as a number', async function () {
    // The bodies carry educationOrganizationId 480101 ($number of '0480101'): the listing must ask for that number.
    missouriWorld(h, [1, 2, 3]);
    snapshotSql(h, "UPDATE District SET number = '0480101' WHERE districtID = 1");
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    const before = h.stored();
    expect(before.map((x) => (x.body.educationOrganizationReference as JsonObject).educationOrganizationId)).to.deep.equal([480101, 480101, 480101]);
    const stranger: JsonObject = { ...before[0]!.body, beginDate: '2025-09-30' };
    delete stranger.id;
    const id = h.server.seed(RESOURCE, stranger);
    const r = await resyncOf(h);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.match(/outside-scope\s+0/);
    expect(r.stdout).to.match(/in-step\s+3/);
    expect(writes(r.requests).map((x) => `${x.method} ${idOf(x)}`)).to.deep.equal([`DELETE ${id}`]);
    expect(h.stored().map((x) => x.id)).to.deep.equal(before.map((x) => x.id));
  });
});

for (const flavor of FLAVORS) describe(`resync against an API whose page cap is below 500 (${flavor})`, function () {
  let h: SyncHarness;
  beforeEach(async function () {
    // A cap of 2 (configured lower than the default 500): the listing takes its size from the API's 400, in pages.
    h = await SyncHarness.start({ flavor, profile: flavor === 'ods-6' ? 'missouri' : 'missouri-ds5', maxPageSize: 2 });
  });
  afterEach(async () => h.close());

  it('lists every record all the same: a lost state file is rebuilt, and a stray record deleted', async function () {
    missouriWorld(h, [1, 2, 3, 4, 5]);
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    const before = h.stored();
    expect(before).to.have.length(5);
    const stranger: JsonObject = { ...before[0]!.body, beginDate: '2025-09-30' };
    delete stranger.id;
    const id = h.server.seed(RESOURCE, stranger);
    loseState(h);
    const r = await resyncOf(h);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.match(/adopt\s+5/);
    expect(r.stdout).to.not.contain('could not list');
    expect(writes(r.requests).map((x) => `${x.method} ${idOf(x)}`)).to.deep.equal([`DELETE ${id}`]);
    expect(h.identity().map((x) => x.edfiId).sort()).to.deep.equal(before.map((x) => x.id).sort());
  });
});

describe('resync keeps the records of a school year that is not sent in this run (shared ODS instance)', function () {
  let h: SyncHarness;
  beforeEach(async function () {
    h = await SyncHarness.start({ flavor: 'ods-6', profile: 'missouri' });
    missouriWorld(h, [80, 81], { c2025: true });
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    expect(h.stored()).to.have.length(4);
  });
  afterEach(async () => h.close());

  const kept2025 = (stdout: string): void => {
    expect(stdout).to.match(/delete-from-ods\s+0/);
    expect(stdout).to.match(/kept-in-ods\s+2/);
  };

  // The state file lost, 2024-25 not sent in this run: its records stay in the ODS.
  const lostState: Array<[string, string, string]> = [
    ['a disabled configuration', 'UPDATE EdFiConfiguration SET enabled = 0 WHERE configID = 2', 'configuration disabled'],
    // Column names match whatever their case, as in the profile's SQL.
    ['a disabled configuration whose export spells the column ENABLED', 'ALTER TABLE EdFiConfiguration RENAME COLUMN enabled TO ENABLED; UPDATE EdFiConfiguration SET ENABLED = 0 WHERE configID = 2', 'configuration disabled'],
    ['a resource toggled off', "INSERT INTO EdFiResourceToggle VALUES (2, 'studentCTEProgramAssociations', 0)", 'resource toggled off'],
    // "Data will only send for the years that have valid configuration": a removed one sends nothing, and the records
    // it sent are still Campus records.
    ['a configuration removed with its preferences', 'DELETE FROM EdFiResourcePreference WHERE configID = 2; DELETE FROM EdFiConfiguration WHERE configID = 2', 'a school year Campus has without a configuration'],
  ];
  for (const [what, sql, why] of lostState) {
    it(`${what}, state file lost: its records stay in the ODS`, async function () {
      const before = h.stored();
      snapshotSql(h, sql);
      loseState(h);
      const r = await resyncOf(h);
      expect(r.code).to.equal(0);
      // The report says why Campus still has them.
      expect(r.stdout).to.contain(`Campus has this record under connection 1:2025 (${why})`);
      expect(writes(r.requests).filter((x) => x.method === 'DELETE'), r.stdout).to.deep.equal([]);
      expect(h.stored().map((x) => x.id)).to.deep.equal(before.map((x) => x.id));
      kept2025(r.stdout);
    });
  }

  it('a disabled configuration, state file kept: nothing is reported as deleted and nothing is deleted', async function () {
    const before = h.stored();
    snapshotSql(h, 'UPDATE EdFiConfiguration SET enabled = 0 WHERE configID = 2');
    const r = await resyncOf(h);
    expect(r.code).to.equal(0);
    expect(writes(r.requests), r.stdout).to.deep.equal([]);
    expect(h.stored().map((x) => x.id)).to.deep.equal(before.map((x) => x.id));
    kept2025(r.stdout);
    expect(r.stdout).to.not.contain(': deleted');
    expect(h.identity().filter((x) => x.connection === '1:2025')).to.have.length(2);
  });

  it('a disabled configuration, on the next sync: nothing sent or deleted, and the run says why', async function () {
    const before = h.stored();
    snapshotSql(h, 'UPDATE EdFiConfiguration SET enabled = 0 WHERE configID = 2');
    const r = await h.sync();
    expect(r.code, r.stderr).to.equal(0);
    expect(writes(r.requests)).to.deep.equal([]);
    expect(h.stored().map((x) => x.id)).to.deep.equal(before.map((x) => x.id));
    expect(r.stderr).to.contain('connection 1:2025 sent 2 record(s) but is not a connection of this profile in the snapshot');
  });

  it('a record no Campus year has is still deleted beside them, and the report says it was', async function () {
    snapshotSql(h, 'UPDATE EdFiConfiguration SET enabled = 0 WHERE configID = 2');
    loseState(h);
    const stranger: JsonObject = { ...h.stored()[0]!.body, beginDate: '2025-09-30' };
    delete stranger.id;
    const id = h.server.seed(RESOURCE, stranger);
    const r = await resyncOf(h);
    expect(r.code).to.equal(0);
    expect(writes(r.requests).map((x) => `${x.method} ${idOf(x)}`)).to.deep.equal([`DELETE ${id}`]);
    expect(h.stored()).to.have.length(4);
    expect(r.stdout).to.match(/delete-from-ods\s+1/);
    expect(r.stdout).to.match(/kept-in-ods\s+2/);
    expect(r.stdout).to.match(/resync deletes: 1 deleted, 0 already gone, 0 kept/);
  });
});
