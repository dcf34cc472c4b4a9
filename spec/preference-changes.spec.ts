// Core's "Changes to Resource Preferences mappings do NOT trigger. A manual resync must be performed on the resource
// if mappings are changed." (core.resync.preference-changes), end to end against the local Ed-Fi test server: a
// preference change alone sends nothing (no PUT, and above all no DELETE of a district's records), every run warns
// until a resync, the resync sends it, and a record sent again for another reason goes with today's preferences
// without being sent again every night after.
import { expect } from 'chai';
import { runResync } from '../src/cli/commands/resync.js';
import type { JsonObject } from '../src/types.js';
import { FLAVORS, quiet, RESOURCE, sourceKey, studentTables, students, SyncHarness, writes, type Tables } from './helpers/sync-e2e.js';

/** Four students: 2 and 4 in Welding (program 1, WELD), 1 and 3 in Nursing (program 2, NURSA). */
function world(extra: Tables = {}): Tables {
  return { ...studentTables(students(4)), ...extra };
}
const WELD_PATHWAY = { EdFiResourcePreference: [{ $merge: true, configID: 1, resource: RESOURCE, element: 'careerPathwayDescriptor', campusValue: 'WELD', edfiCode: 'Architecture and Construction' }] };
const NURSA_UNMAPPED = { EdFiResourcePreference: [{ $delete: true, configID: 1, resource: 'programs', element: 'programTypeDescriptor', campusValue: 'NURSA' }] };

function pathwayOf(body: JsonObject | undefined): unknown {
  return ((body?.ctePrograms as JsonObject[] | undefined)?.[0] ?? {}).careerPathwayDescriptor;
}

for (const flavor of FLAVORS) describe(`Resource Preferences changes wait for a resync (core, ${flavor})`, function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());
  const resync = async (extra: { dryRun?: boolean } = {}): Promise<number> =>
    quiet(() => runResync({ profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true, ...extra }));

  beforeEach(async function () {
    h = await SyncHarness.start({ flavor });
    h.world(world());
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    expect(h.store.count(RESOURCE)).to.equal(4);
  });

  it('a program loses its Programs mapping: its records are not deleted by the nightly sync, only by the resync', async function () {
    h.world(world(NURSA_UNMAPPED));
    const run = await h.sync();
    expect(run.code).to.equal(0);
    expect(writes(run.requests)).to.deep.equal([]);
    expect(run.stderr).to.include('run `edfi-sync resync`');
    expect(h.store.count(RESOURCE)).to.equal(4);
    expect(h.identityOf(sourceKey(1))?.edfiId, 'the identity row stays').to.be.a('string');

    const from = h.server.requests.length;
    expect(await resync()).to.equal(0);
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
  const resync = async (extra: { dryRun?: boolean } = {}): Promise<number> =>
    quiet(() => runResync({ profile: h.profile, snapshot: h.snapshot, state: h.state, apiBase: h.server.url, concurrency: 4, quiet: true, ...extra }));

  beforeEach(async function () {
    h = await SyncHarness.start();
    h.world(world());
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
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
    expect(await resync({ dryRun: true })).to.equal(0);
    const afterPreview = await h.sync();
    expect(writes(afterPreview.requests), 'a preview of the resync sends nothing, and the next night neither').to.deep.equal([]);
    expect(h.stored().map((r) => pathwayOf(r.body))).to.deep.equal(before);

    const from = h.server.requests.length;
    expect(await resync()).to.equal(0);
    const sent = writes(h.server.requests.slice(from));
    expect(sent.map((r) => r.method)).to.deep.equal(['PUT', 'PUT']);
    expect(h.stored().filter((r) => pathwayOf(r.body) === 'uri://ed-fi.org/CareerPathwayDescriptor#Architecture and Construction')).to.have.length(2);

    const next = await h.sync();
    expect(writes(next.requests)).to.deep.equal([]);
    expect(next.stderr).to.not.include('run `edfi-sync resync`');
    expect(h.errors().filter((e) => e.catalogueId === 'plan.preferences-changed').map((e) => e.resolved), 'resolved once the resync sent it').to.deep.equal([1]);
  });

});

describe('Resource Preferences changes: records sent for another reason (core)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  afterEach(async () => h?.close());

  it('a Campus change after a preference change is sent with today\'s preferences; the other records still wait', async function () {
    h = await SyncHarness.start();
    h.world(world());
    await h.preload();
    expect((await h.sync()).code).to.equal(0);
    const changed = world(WELD_PATHWAY);
    (changed.ProgramParticipation as Array<Record<string, unknown>>).find((r) => r.participationID === 1002)!.endDate = '2026-05-01';
    h.world(changed);
    const run = await h.sync();
    expect(writes(run.requests).map((r) => r.method)).to.deep.equal(['PUT']);
    const body = h.store.get(RESOURCE, h.identityOf(sourceKey(2))!.edfiId!)!.body;
    expect(body.endDate).to.equal('2026-05-01');
    expect(pathwayOf(body)).to.equal('uri://ed-fi.org/CareerPathwayDescriptor#Architecture and Construction');
    expect(pathwayOf(h.store.get(RESOURCE, h.identityOf(sourceKey(4))!.edfiId!)!.body), 'student 4 waits for the resync').to.equal('uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing');
    expect(writes((await h.sync()).requests)).to.deep.equal([]);
  });

  it('a record whose POST failed is sent with today\'s preferences when it is retried, and only once', async function () {
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
    expect(pathwayOf(h.store.get(RESOURCE, h.identityOf(sourceKey(2))!.edfiId!)!.body)).to.equal('uri://ed-fi.org/CareerPathwayDescriptor#Architecture and Construction');
    const again = await h.sync();
    expect(writes(again.requests), 'sent once: the next night finds it in step').to.deep.equal([]);
  });
});
