// What a run counts, the same way in sync, retry and resync: a POST retried after a 500 and answered 200 is a
// record created, a DELETE not sent because another connection holds the record is counted, and a key-change
// field's refused POST puts the old record back.
import { expect } from 'chai';
import { stringify } from 'yaml';
import { runRetry } from '../src/cli/commands/retry.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { EdFiClient } from '../src/emit/edfi-client.js';
import { emitPlan } from '../src/emit/emitter.js';
import { emptyPlan } from '../src/plan/plan-types.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { openState } from '../src/state/state-db.js';
import type { JsonObject } from '../src/types.js';
import { captureStderr, CLIENT_ID, CLIENT_SECRET, coreProfile, idOf, RESOURCE, sourceKey, students, studentTables, SyncHarness, writes } from './helpers/sync-e2e.js';

type Emitted = { emit: { created: number; updated: number; keptForOther: number; restored: number; failed: number } };

describe('counts of a run', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('a first POST answered 500, retried and answered 200 (the first attempt had created it) is counted as created', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(1)));
    await h.preload();
    // The first attempt's record is already in the ODS (its answer was lost to a 500 from a proxy); the retry meets it.
    const wanted = (await h.desired()).find((d) => d.sourceKey === sourceKey(1))!;
    h.server.seed(RESOURCE, wanted.body);
    h.server.faults.add({ kind: 'status', status: 500, times: 1, match: { method: 'POST', pathIncludes: RESOURCE } });
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    expect(writes(run.requests).map((r) => r.status)).to.deep.equal([500, 200]);
    const emit = (h.lastRun().summary as Emitted).emit;
    expect(emit.created).to.equal(1);
    expect(emit.updated).to.equal(0);
  });

  it('a POST answered 200 on its first attempt (the ODS already had the record) is counted as updated', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(2)));
    await h.preload();
    const wanted = (await h.desired()).find((d) => d.sourceKey === sourceKey(1))!;
    h.server.seed(RESOURCE, wanted.body);
    const run = await h.sync();
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    const emit = (h.lastRun().summary as Emitted).emit;
    expect([emit.created, emit.updated]).to.deep.equal([1, 1]);
  });

  it('retry prints the same counts as sync', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(3)));
    await h.preload();
    h.server.faults.add({ kind: 'answer', status: 400, body: { message: 'Validation failed' }, times: 1, match: { method: 'POST', pathIncludes: RESOURCE } });
    const run = await h.sync({ quiet: false });
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(run.stderr).to.match(/sent \(new\) {8}2\n/);
    const { value: code, text } = await captureStderr(() => runRetry({ profile: 'core', snapshot: h.snapshot, state: h.state, apiBase: h.server.url, dataPath: '/data/v3', concurrency: 2 }));
    expect(code).to.equal(EXIT.ok);
    for (const label of ['sent (new)        1', 'updated           0', 'deleted           0', 'shared            0', 'held back         0', 'failed            0']) expect(text).to.include(label);
  });

  it('a DELETE of an ODS record another record holds is not sent, and is counted', async function () {
    h = await SyncHarness.start();
    h.world(studentTables(students(2)));
    await h.preload();
    expect((await h.sync()).code).to.equal(EXIT.ok);
    const held = h.identityOf(sourceKey(1))!;
    // A DELETE some older plan still carries for a record of another connection, naming an id record 1 holds.
    const state = openState(h.state);
    const from = h.server.requests.length;
    const plan = emptyPlan('core', RESOURCE, [{
      method: 'DELETE', resource: RESOURCE, connection: '9:2026', sourceKey: 'participationID=9', naturalKey: held.naturalKey, id: held.edfiId!,
      rules: [], reason: 'test', instance: held.instance!,
    }]);
    const client = new EdFiClient({ baseUrl: h.server.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const r = await emitPlan({ api: client, profile: coreProfile(), plan, state, runId: null });
    state.close();
    expect(r.keptForOther).to.equal(1);
    expect(r.deleted).to.equal(0);
    expect(writes(h.server.requests.slice(from))).to.deep.equal([]);
    expect(h.store.get(RESOURCE, held.edfiId!)).to.not.equal(undefined);
    expect(h.identityOf(sourceKey(1))!.edfiId).to.equal(held.edfiId);
  });
});

describe('a key-change field (Missouri Career Cluster): DELETE then POST, and the old record put back if the POST is refused', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  function world(cluster: string): void {
    const tables = {
      Person: [{ personID: 10, stateID: '1000000010' }],
      Enrollment: [{ enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20', careerCluster: cluster, cteProgramType: 'Health Sciences' }],
      ProgramParticipation: [{ participationID: 1000, personID: 10, programID: 2, startDate: '2025-08-20' }],
    };
    buildSnapshotFromFixture(loadFixture(stringify({ profile: 'missouri', base: 'standard', tables }), 'missouri world'), h.snapshot);
  }
  const services = (body: JsonObject | undefined): unknown => body?.cteProgramServices;

  it('the refused POST leaves the record as it was (restored), the error log says why, and the next run completes the change', async function () {
    h = await SyncHarness.start();
    world('8');
    await preloadFromSnapshot(h.server, h.snapshot, ['missouri']);
    expect((await h.sync({ profile: 'missouri' })).code).to.equal(EXIT.ok);
    const before = h.identityOf('enrollmentID=100')!;
    world('11');
    h.server.faults.add({ kind: 'answer', status: 400, body: { message: 'The request is invalid.' }, times: 1, match: { method: 'POST', pathIncludes: RESOURCE } });
    const run = await h.sync({ profile: 'missouri' });
    expect(run.code).to.equal(EXIT.apiFailed);
    expect(writes(run.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['DELETE 204', 'POST 400', 'POST 201']);
    expect(idOf(writes(run.requests)[0]!)).to.equal(before.edfiId);
    const stored = h.stored();
    expect(stored).to.have.length(1);
    expect(services(stored[0]!.body)).to.deep.equal(services(before.body));
    const row = h.identityOf('enrollmentID=100')!;
    expect(row.edfiId).to.equal(stored[0]!.id);
    expect(row.body).to.deep.equal(before.body);
    expect((h.lastRun().summary as Emitted).emit.restored).to.equal(1);
    expect(h.errors().some((e) => e.sourceKey === 'enrollmentID=100' && e.status === 400 && e.resolved === 0)).to.equal(true);

    const again = await h.sync({ profile: 'missouri' });
    expect(again.code, again.stderr).to.equal(EXIT.ok);
    expect(writes(again.requests).map((r) => `${r.method} ${r.status}`)).to.deep.equal(['DELETE 204', 'POST 201']);
    expect(JSON.stringify(services(h.stored()[0]!.body))).to.include('CTEProgramServiceDescriptor#11');
    const db = openState(h.state);
    expect(new IdentityMap(db).find({}).map((r) => r.edfiId)).to.deep.equal([h.stored()[0]!.id]);
    db.close();
  });
});
