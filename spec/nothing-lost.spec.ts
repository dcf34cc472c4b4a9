// Issue "Nothing lost", findings 1-3, end to end against the local Ed-Fi test server: a key change never leaves the
// ODS without the record, one owner per ODS record and instance (collisions, shared ODS for several school years),
// and a mass-delete guard judged per connection.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { EXIT } from '../src/cli/exit-codes.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import type { JsonObject } from '../src/types.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import {
  CLIENT_ID, CLIENT_SECRET, DATA_PATH, fixtureYaml, idOf, keyText, naturalKeyOfBody, RESOURCE, sourceKey, stateID, students, studentTables, SyncHarness,
  writes, type Row, type SyncRun, type Tables,
} from './helpers/sync-e2e.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import type { EdFiStore } from '../src/testserver/store.js';
import { loadFixture } from '../src/snapshot/fixture.js';

const SCPA_PATH = `/ed-fi/${RESOURCE}`;

function calls(run: SyncRun): string[] {
  return writes(run.requests).map((r) => `${r.method} ${r.status}`);
}

/** No two identity rows share an Ed-Fi id or a natural key within an instance. */
function expectOneOwner(h: SyncHarness): void {
  const rows = h.identity().filter((r) => r.edfiId);
  const ids = rows.map((r) => `${r.instance}|${r.edfiId}`);
  expect(new Set(ids).size, `identity rows sharing an id: ${JSON.stringify(rows.map((r) => [r.connection, r.sourceKey, r.edfiId]))}`).to.equal(ids.length);
  const keys = rows.map((r) => `${r.instance}|${keyText(r.naturalKey)}`);
  expect(new Set(keys).size, 'identity rows sharing a natural key').to.equal(keys.length);
}

/** The ODS holds exactly the plan: one record per natural key the plan wants, with its body, mapped to its record. */
async function expectOdsIsPlan(h: SyncHarness, store: EdFiStore = h.store, dataPath = DATA_PATH): Promise<void> {
  const desired = await h.desired(dataPath);
  const stored = h.stored(store);
  expect(stored.map((s) => keyText(naturalKeyOfBody(s.body))).sort()).to.deep.equal(desired.map((d) => keyText(d.naturalKey)).sort());
  const identity = h.identity();
  for (const d of desired) {
    const id = store.findId(RESOURCE, d.body);
    expect(store.get(RESOURCE, id!)!.body, `ODS body of ${d.sourceKey}`).to.deep.equal(d.body);
    expect(identity.find((r) => r.connection === d.connection && r.sourceKey === d.sourceKey)?.edfiId, `identity row of ${d.sourceKey}`).to.equal(id);
  }
  expectOneOwner(h);
}

describe('nothing lost (1): a key change never leaves the ODS with neither record', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  async function firstSync(tables: Tables): Promise<void> {
    h.world(tables);
    await h.preload();
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
  }

  /** The old record is still in the ODS, mapped as before, and the error log says why the new one is not. */
  function expectOldKept(oldId: string, oldBody: JsonObject, key: string, catalogueId: string): void {
    expect(h.store.get(RESOURCE, oldId)?.body, 'the old record is still in the ODS').to.deep.equal(oldBody);
    const row = h.identityOf(key)!;
    expect(row.edfiId).to.equal(oldId);
    expect(row.body).to.deep.equal(oldBody);
    const logged = h.errors().filter((e) => e.sourceKey === key && e.catalogueId === catalogueId);
    expect(logged, JSON.stringify(h.errors().map((e) => [e.sourceKey, e.catalogueId, e.message]))).to.have.length.greaterThan(0);
    expect(logged[0]!.resolved).to.equal(0);
  }

  it('a program renamed to one the ODS does not have yet: the POST is refused (409), nothing is deleted; sent once the program exists', async function () {
    h = await SyncHarness.start();
    await firstSync(studentTables(students(4)));
    // Students 2 and 4 are in program 1 (Welding Technology).
    const before = [2, 4].map((p) => h.identityOf(sourceKey(p))!);
    h.world({ ...studentTables(students(4)), Program: [{ $merge: true, programID: 1, name: 'Welding Technology II' } as unknown as Row] });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(calls(run)).to.deep.equal(['POST 409', 'POST 409']);
    for (const [i, p] of [2, 4].entries()) expectOldKept(before[i]!.edfiId!, before[i]!.body, sourceKey(p), 'core.error.unresolved-reference');
    expect(h.store.count(RESOURCE)).to.equal(4);
    expectOneOwner(h);

    // The program is created in the ODS (the "Required Resources (Upstream)"): the key change completes, new record first.
    await h.preload();
    const again = await h.sync();
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(calls(again).sort()).to.deep.equal(['DELETE 204', 'DELETE 204', 'POST 201', 'POST 201']);
    for (const b of before) expect(h.store.get(RESOURCE, b.edfiId!)).to.equal(undefined);
    await expectOdsIsPlan(h);
  });

  it('a Student State ID changed to a student the ODS does not have: the old record stays; sent once the student exists', async function () {
    h = await SyncHarness.start();
    await firstSync(studentTables(students(3)));
    const before = h.identityOf(sourceKey(2))!;
    const tables = studentTables(students(3));
    tables.Person![1] = { ...tables.Person![1]!, stateID: '2000000002' };
    h.world(tables);
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(calls(run)).to.deep.equal(['POST 409']);
    expectOldKept(before.edfiId!, before.body, sourceKey(2), 'core.error.unresolved-reference');

    await h.preload();
    const again = await h.sync();
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(calls(again)).to.deep.equal(['POST 201', 'DELETE 204']);
    await expectOdsIsPlan(h);
  });

  it('a 500 on the POST of a key change: the old record stays (no DELETE was sent); the next run completes it', async function () {
    h = await SyncHarness.start();
    await firstSync(studentTables(students(3)));
    const before = h.identityOf(sourceKey(2))!;
    h.world(studentTables([{ personID: 1 }, { personID: 2, startDate: '2025-09-02' }, { personID: 3 }]));
    h.server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'POST', pathIncludes: SCPA_PATH } });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    const w = writes(run.requests);
    expect(w.length).to.be.greaterThan(1);
    expect(w.every((r) => r.method === 'POST' && r.status === 500)).to.equal(true);
    expectOldKept(before.edfiId!, before.body, sourceKey(2), 'core.error.server-error');

    h.server.faults.clear();
    const again = await h.sync();
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(calls(again)).to.deep.equal(['POST 201', 'DELETE 204']);
    expect(idOf(writes(again.requests)[1]!)).to.equal(before.edfiId);
    await expectOdsIsPlan(h);
  });

  it('the DELETE of the old record fails after the new one is in: the debt is kept and paid by the next run', async function () {
    h = await SyncHarness.start();
    await firstSync(studentTables(students(2)));
    const before = h.identityOf(sourceKey(2))!;
    h.world(studentTables([{ personID: 1 }, { personID: 2, startDate: '2025-09-02' }]));
    h.server.faults.add({ kind: 'answer', status: 409, body: { message: 'The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the \'x\' entity.' }, match: { method: 'DELETE', pathIncludes: SCPA_PATH } });
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(calls(run)).to.deep.equal(['POST 201', 'DELETE 409']);
    // The new record is mapped; the old one waits for its DELETE (not mapped to any Campus record).
    expect(h.identityOf(sourceKey(2))!.edfiId).to.not.equal(before.edfiId);
    expect(h.store.get(RESOURCE, before.edfiId!)).to.not.equal(undefined);
    expectOneOwner(h);

    const again = await h.sync();
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(writes(again.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${before.edfiId} 204`]);
    await expectOdsIsPlan(h);
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
  });

  it('an old record owed a DELETE whose natural key is wanted again is taken over, not deleted', async function () {
    h = await SyncHarness.start();
    await firstSync(studentTables(students(2)));
    const before = h.identityOf(sourceKey(2))!;
    h.world(studentTables([{ personID: 1 }, { personID: 2, startDate: '2025-09-02' }]));
    h.server.faults.add({ kind: 'answer', status: 409, body: { message: 'The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the \'x\' entity.' }, match: { method: 'DELETE', pathIncludes: SCPA_PATH } });
    await h.sync();
    const moved = h.identityOf(sourceKey(2))!.edfiId!;
    // The start date goes back: the old natural key is wanted again, and its ODS record still exists.
    h.world(studentTables(students(2)));
    const back = await h.sync();
    expect(back.code, back.stderr).to.equal(EXIT.ok);
    const w = writes(back.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`);
    expect(w).to.deep.equal([`PUT ${before.edfiId} 204`, `DELETE ${moved} 204`]);
    await expectOdsIsPlan(h);
  });
});

describe('nothing lost (2): one owner per ODS record and instance', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  /** Student 1 with two program records; `second` gives the second record's program and start date. */
  function twoRecords(second: { programID: number; startDate: string } | null, first: { programID: number; startDate: string } | null = { programID: 1, startDate: '2025-08-25' }): Tables {
    const t = studentTables([{ personID: 1, noParticipation: true }, { personID: 2 }]);
    if (first) t.ProgramParticipation!.push({ participationID: 1001, personID: 1, programID: first.programID, startDate: first.startDate, endDate: null });
    if (second) t.ProgramParticipation!.push({ participationID: 5001, personID: 1, programID: second.programID, startDate: second.startDate, endDate: '2026-05-01' });
    return t;
  }

  it('collisions A -> B -> A: no two identity rows share an id and the ODS equals the plan after every run', async function () {
    h = await SyncHarness.start();
    const A = twoRecords({ programID: 1, startDate: '2025-08-25' });
    const B = twoRecords({ programID: 1, startDate: '2025-09-10' });
    h.world(A);
    await h.preload();
    const a1 = await h.sync();
    expect(a1.code).to.equal(EXIT.heldBack);
    // The duplicate is held back: "Check for duplicate data in your Campus site".
    expect(h.errors().some((e) => e.sourceKey === 'participationID=5001' && e.catalogueId === 'core.error.natural-key-conflict')).to.equal(true);
    await expectOdsIsPlan(h);

    h.world(B);
    const b = await h.sync();
    expect(b.code, b.stderr).to.equal(EXIT.ok);
    // 5001 has a key of its own now (and, starting later, becomes the primary program: 1001 gets a PUT).
    const firstId = h.identityOf('participationID=1001')!.edfiId!;
    expect(calls(b)).to.deep.equal(['POST 201', 'PUT 204']);
    await expectOdsIsPlan(h);
    const ownB = h.identityOf('participationID=5001')!.edfiId!;

    h.world(A);
    const a2 = await h.sync();
    expect(a2.code).to.equal(EXIT.heldBack);
    // Back to a duplicate: its own record (the other start date) is no longer wanted by anyone and goes; 1001's
    // stays (and is the primary program again).
    expect(writes(a2.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`DELETE ${ownB} 204`, `PUT ${firstId} 204`]);
    await expectOdsIsPlan(h);
    expect(h.identityOf('participationID=5001')).to.equal(undefined);

    // The first record leaves Campus: the duplicate now has the natural key alone and takes the ODS record over.
    const heldId = h.identityOf('participationID=1001')!.edfiId!;
    h.world(twoRecords({ programID: 1, startDate: '2025-08-25' }, null));
    const c = await h.sync();
    expect(c.code, c.stderr).to.equal(EXIT.ok);
    expect(writes(c.requests).map((r) => `${r.method} ${idOf(r)} ${r.status}`)).to.deep.equal([`PUT ${heldId} 204`]);
    await expectOdsIsPlan(h);
  });

  it('two records swap natural keys: each takes the other\'s ODS record over, nothing deleted, no duplicate', async function () {
    h = await SyncHarness.start();
    h.world(twoRecords({ programID: 2, startDate: '2025-08-25' }));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const ids = ['participationID=1001', 'participationID=5001'].map((k) => h.identityOf(k)!.edfiId!);
    h.world(twoRecords({ programID: 1, startDate: '2025-08-25' }, { programID: 2, startDate: '2025-08-25' }));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['PUT 204', 'PUT 204']);
    expect(h.identityOf('participationID=1001')!.edfiId).to.equal(ids[1]);
    expect(h.identityOf('participationID=5001')!.edfiId).to.equal(ids[0]);
    await expectOdsIsPlan(h);
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
  });

  it('one shared ODS for two school years: the first sync maps every ODS record once, the later year owns it, a warning says so', async function () {
    h = await SyncHarness.start();
    generateSnapshot({ students: 300, seed: 11, profile: 'core', endYears: [2025, 2026], out: h.snapshot });
    await h.preload();
    const first = await h.sync();
    expect(first.code).to.be.oneOf([EXIT.ok, EXIT.heldBack]);
    const emit = (h.lastRun().summary as { emit: { failed: number }; plan: { shared: number } });
    expect(emit.emit.failed).to.equal(0);
    // Records both years report are one ODS record: sent once, by the later year.
    expect(emit.plan.shared).to.be.greaterThan(0);
    await expectOdsIsPlan(h);
    for (const r of h.identity()) expect(r.instance).to.equal(`${h.server.url}${DATA_PATH}`);
    expect(h.errors().some((e) => e.catalogueId === 'plan.shared-instance' && e.level === 'warning')).to.equal(true);
    const again = await h.sync();
    expect(writes(again.requests)).to.deep.equal([]);
    await expectOdsIsPlan(h);
  });
});

describe('nothing lost (3): the mass-delete guard judges each connection', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  /** District 1 (the standard one) with `big` students, district 2 with `small`, both in 2025-26. */
  function twoDistricts(big: number, small: number, opts: { drop?: (personID: number) => boolean; endDate2?: boolean } = {}): Tables {
    const prefs = loadFixture(fixtureYaml({})).tables.EdFiResourcePreference ?? [];
    const t = studentTables(students(big));
    if (opts.drop) t.Enrollment = t.Enrollment!.filter((e) => !opts.drop!(Number(e.personID)));
    for (let i = 0; i < small; i++) {
      const personID = 501 + i;
      t.Person!.push({ personID, stateID: stateID(personID), lastName: `Student${personID}`, firstName: 'Test' });
      t.Enrollment!.push({ enrollmentID: 100 + personID, personID, calendarID: 2, startDate: '2025-08-20', noShow: 0 });
      t.ProgramParticipation!.push({ participationID: 1000 + personID, personID, programID: 3, startDate: '2025-08-25', endDate: opts.endDate2 && i === 0 ? '2026-04-30' : null });
    }
    return {
      ...t,
      District: [{ districtID: 2, name: 'Second District', number: '7654321' }],
      School: [{ schoolID: 2, districtID: 2, name: 'Second High School', number: '0060' }],
      Calendar: [{ calendarID: 2, schoolID: 2, endYear: 2026, name: '2025-26 Second High School' }],
      Program: [{ programID: 3, districtID: 2, name: 'Welding Technology', code: 'WELD', type: 'CTE', category: 'Skilled Trades', stateCode: '48.0508' }],
      EdFiConfiguration: [{ configID: 2, districtID: 2, endYear: 2026, profile: 'core' }],
      EdFiResourcePreference: prefs.map((r) => ({ ...r, configID: 2 }) as Row),
    };
  }

  it('90% of one district\'s enrollments missing: that connection is refused and sends nothing; a healthy connection still syncs', async function () {
    h = await SyncHarness.start();
    h.world(twoDistricts(30, 4));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    expect(h.store.count(RESOURCE)).to.equal(34);

    // A broken export: 27 of district 1's 30 enrollments are gone. District 2 has an ordinary change (an end date).
    h.world(twoDistricts(30, 4, { drop: (p) => p <= 27, endDate2: true }));
    const run = await h.sync();
    expect(run.code).to.equal(EXIT.refused);
    expect(run.stderr).to.match(/connection 1:2026: 27 delete\(s\) of 30 mapped record\(s\); the limit is 5/);
    expect(run.stderr).to.match(/--allow-mass-delete/);
    expect(run.stderr).to.not.match(/connection 2:2026/);
    expect(calls(run)).to.deep.equal(['PUT 204']);
    expect(h.store.count(RESOURCE)).to.equal(34);
    expect(h.identity().filter((r) => r.connection === '1:2026' && r.edfiId)).to.have.length(30);
    const outcomes = (h.lastRun().summary as { connections: Array<{ connection: string; exitCode: number; message?: string }> }).connections;
    expect(outcomes.filter((c) => c.exitCode === EXIT.refused).map((c) => c.connection)).to.deep.equal(['1:2026']);
    expect(outcomes.find((c) => c.connection === '2:2026')?.exitCode).to.equal(EXIT.ok);

    const allowed = await h.sync({ allowMassDelete: true });
    expect(allowed.code, allowed.stderr).to.equal(EXIT.ok);
    expect(calls(allowed)).to.deep.equal(Array(27).fill('DELETE 204'));
    expect(h.store.count(RESOURCE)).to.equal(7);
  });

  it('a connection the guard refuses keeps its open error-log entries: the run did not look at its records', async function () {
    h = await SyncHarness.start();
    const night1 = twoDistricts(30, 4);
    night1.Person = night1.Person!.map((p) => (p.personID === 1 ? { ...p, stateID: null } : p));
    h.world(night1);
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.heldBack);
    const heldOpen = (): number => h.errors().filter((e) => e.connection === '1:2026' && e.heldBack && e.resolved === 0).length;
    expect(heldOpen()).to.equal(1);
    // A broken export loses most of district 1, the held-back student with it: refused, and its entry stays open.
    const broken = twoDistricts(30, 4, { drop: (p) => p <= 27 });
    broken.Person = broken.Person!.map((p) => (p.personID === 1 ? { ...p, stateID: null } : p));
    h.world(broken);
    expect((await h.sync()).code).to.equal(EXIT.refused);
    expect(heldOpen()).to.equal(1);
  });

  it("an export that makes each student's second record a duplicate of the first is refused: the duplicates' old records are deletes", async function () {
    const twoPrograms = (n: number, broken: boolean): Tables => {
      const t = studentTables(students(n).map((x) => ({ ...x, programID: 1 })));
      // A second program record per student; a broken export gives it the first one's program and start date.
      for (let p = 1; p <= n; p++) t.ProgramParticipation!.push({ participationID: 5000 + p, personID: p, programID: broken ? 1 : 2, startDate: broken ? '2025-08-25' : '2025-09-01', endDate: null });
      return t;
    };
    h = await SyncHarness.start();
    h.world(twoPrograms(30, false));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    expect(h.store.count(RESOURCE)).to.equal(60);
    h.world(twoPrograms(30, true));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.refused);
    expect(writes(run.requests).filter((r) => r.method === 'DELETE')).to.deep.equal([]);
    expect(h.store.count(RESOURCE)).to.equal(60);
  });

  it('a small district may lose a handful (the allowance of 5) without --allow-mass-delete', async function () {
    h = await SyncHarness.start();
    h.world(twoDistricts(8, 2));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    h.world(twoDistricts(8, 2, { drop: (p) => p <= 5 }));
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(calls(run)).to.deep.equal(Array(5).fill('DELETE 204'));
  });

  it('bad limit values are a usage error: nothing is planned or sent', async function () {
    h = await SyncHarness.start();
    h.world(twoDistricts(6, 1));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    h.world(twoDistricts(6, 1, { drop: () => true }));
    const from = h.server.requests.length;
    const bad: Array<{ maxDeleteShare?: number; maxDeleteCount?: number }> = [
      { maxDeleteShare: 0 }, { maxDeleteShare: 1.5 }, { maxDeleteShare: -0.1 }, { maxDeleteShare: Number.NaN },
      { maxDeleteCount: -1 }, { maxDeleteCount: 2.5 }, { maxDeleteCount: Number.NaN },
    ];
    for (const limits of bad) {
      const err = await h.sync(limits).then(() => undefined, (e: unknown) => e as Error & { exitCode?: number });
      expect(err?.exitCode, JSON.stringify(limits)).to.equal(EXIT.usage);
      expect(err?.message).to.match(/--max-delete-(share|count)/);
    }
    expect(h.server.requests.slice(from)).to.deep.equal([]);
    expect(h.locks()).to.deep.equal([]);
    // The command line says the same, with exit code 2.
    const cli = spawnSync(process.execPath, [repoPath('bin', 'edfi-sync.js'), 'sync', '--profile', 'core', '--snapshot', h.snapshot, '--state', h.state,
      '--api-base', h.server.url, '--max-delete-share', '1.5', '--quiet'], { cwd: repoRoot(), env: { ...process.env, EDFI_CLIENT_ID: CLIENT_ID, EDFI_CLIENT_SECRET: CLIENT_SECRET }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).to.equal(EXIT.usage);
    expect(cli.stderr).to.match(/--max-delete-share/);
    expect(cli.stderr).to.match(/above 0 and at most 1/);
    expect(h.store.count(RESOURCE)).to.equal(7);
  });
});

describe('nothing lost: year-specific instances keep the school years apart', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('with a {endYear} data path each year owns its own record of a participation both years report', async function () {
    h = await SyncHarness.start();
    const path = '/data/v3/{endYear}';
    generateSnapshot({ students: 120, seed: 3, profile: 'core', endYears: [2025, 2026], out: h.snapshot });
    await preloadFromSnapshot(h.server, h.snapshot, ['core'], path);
    const run = await h.sync({ dataPath: path });
    expect((h.lastRun().summary as { emit: { failed: number } }).emit.failed, run.stderr).to.equal(0);
    expect((h.lastRun().summary as { plan: { shared: number } }).plan.shared).to.equal(0);
    const desired = await h.desired(path);
    for (const year of [2025, 2026]) {
      const mine = desired.filter((d) => d.connection.endsWith(`:${year}`));
      const stored = h.stored(h.server.instance(`/data/v3/${year}`));
      expect(stored.map((s) => keyText(naturalKeyOfBody(s.body))).sort()).to.deep.equal(mine.map((d) => keyText(d.naturalKey)).sort());
    }
    // Some participations are reported by both years: one record in each year's ODS.
    const both = new Set(desired.filter((d) => d.connection.endsWith(':2025')).map((d) => d.sourceKey));
    expect(desired.filter((d) => d.connection.endsWith(':2026') && both.has(d.sourceKey)).length).to.be.greaterThan(0);
    expect(h.errors().some((e) => e.catalogueId === 'plan.shared-instance')).to.equal(false);
    expectOneOwner(h);
  });
});
