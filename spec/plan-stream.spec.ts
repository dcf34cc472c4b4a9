// The streamed plan (operations, issues and excluded records read from disk in emit order) is the plan: for every
// shipped profile, on a generated snapshot, it equals the materialized one, first night and after a change; and a
// plan limited to some connections sends nothing outside them and respects owners in other connections.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { emitPlan } from '../src/emit/emitter.js';
import { OfflineApi } from '../src/fixtures/offline-api.js';
import { instanceFromDataPath } from '../src/plan/plan-options.js';
import { collectPlan, planRun } from '../src/plan/planner.js';
import { phaseOf } from '../src/plan/plan-types.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';

/** Every shipped profile a snapshot can be generated for (discovered, not named). */
function shippedProfiles(): string[] {
  const dir = repoPath('profiles');
  return readdirSync(dir).filter((n) => existsSync(join(dir, n, 'profile.yaml')) && existsSync(join(dir, n, 'fixture-base.yaml'))).sort();
}

describe('the streamed plan equals the materialized plan, for every shipped profile', function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-stream-'));
    generateSnapshot({ students: 2500, seed: 21, out: join(dir, 'night1.sqlite'), profile: 'both' });
    copyFileSync(join(dir, 'night1.sqlite'), join(dir, 'night2.sqlite'));
    const db = new Database(join(dir, 'night2.sqlite'));
    db.prepare("UPDATE ProgramParticipation SET startDate = date(startDate, '+3 days') WHERE participationID % 17 = 3 AND startDate IS NOT NULL").run();
    db.prepare("UPDATE Enrollment SET noShow = 1 WHERE enrollmentID % 23 = 5").run();
    db.prepare("UPDATE Enrollment SET startDate = date(startDate, '+2 days') WHERE enrollmentID % 29 = 7").run();
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of shippedProfiles()) {
    it(`${name}: first night and after a change, in emit order`, async function () {
      const profile = loadProfile(name, repoRoot());
      const streamedState = openState(join(dir, `${name}-a.sqlite`));
      const collectedState = openState(join(dir, `${name}-b.sqlite`));
      for (const night of ['night1', 'night2']) {
        const snapshot = openSnapshot(join(dir, `${night}.sqlite`));
        const streamed = await planRun({ profile, snapshot, state: streamedState });
        const ops = [...streamed.operations()];
        const issues = [...streamed.issues()];
        const forget = [...streamed.forget()];
        const summary = streamed.summary;
        const counts = streamed.excludedCounts();
        const sample = [...streamed.excluded()];
        const collected = await collectPlan({ profile, snapshot, state: collectedState });
        expect(ops, `${night}: operations`).to.deep.equal(collected.operations);
        expect(issues, `${night}: issues`).to.deep.equal(collected.issues);
        expect(forget).to.deep.equal(collected.forget);
        expect(summary).to.deep.equal(collected.summary);
        expect(ops.length).to.be.greaterThan(0);
        // Emit order: deletes, key changes, new records, updates; a unit's operations adjacent.
        const phases = ops.map(phaseOf);
        expect(phases).to.deep.equal([...phases].sort((a, b) => a - b));
        // Excluded records: counted whole, sampled for the report.
        expect(counts.reduce((n, c) => n + c.n, 0)).to.equal(collected.excluded.length).and.to.equal(summary.excluded);
        expect(sample.length).to.equal(Math.min(500, collected.excluded.length));
        // Both states move to the same next night.
        await emitPlan({ api: new OfflineApi(), profile, plan: streamed, state: streamedState, runId: null });
        streamed.close();
        await emitPlan({ api: new OfflineApi(), profile, plan: collected, state: collectedState, runId: null });
        snapshot.close();
      }
      streamedState.close();
      collectedState.close();
    });
  }
});

describe('a plan limited to some connections (--connection)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-only-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sends and deletes nothing outside them, and does not take a record another connection of the instance owns', async function () {
    const profile = loadProfile('core', repoRoot());
    generateSnapshot({ students: 1500, seed: 5, out: join(dir, 's1.sqlite'), profile: 'core', endYears: [2025, 2026] });
    const state = openState(join(dir, 'state.sqlite'));
    let snapshot = openSnapshot(join(dir, 's1.sqlite'));
    const first = await collectPlan({ profile, snapshot, state });
    expect(first.summary.shared, 'the two school years share records in one instance').to.be.greaterThan(0);
    await emitPlan({ api: new OfflineApi(), profile, plan: first, state, runId: null });
    snapshot.close();
    const owned = new Map(new IdentityMap(state).find({ resource: profile.def.resource.name }).map((r) => [r.edfiId, r.connection]));

    // The next night every record changes; only one connection (the earlier year, which loses shared records) runs.
    copyFileSync(join(dir, 's1.sqlite'), join(dir, 's2.sqlite'));
    const db = new Database(join(dir, 's2.sqlite'));
    db.prepare("UPDATE ProgramParticipation SET endDate = '2026-06-01'").run();
    db.prepare('DELETE FROM ProgramParticipationCertification WHERE participationID % 7 = 0').run();
    db.prepare('DELETE FROM ProgramParticipation WHERE participationID % 7 = 0').run();
    db.close();
    snapshot = openSnapshot(join(dir, 's2.sqlite'));
    const connections = first.connections.filter((c) => c.resourceEnabled).map((c) => c.connection);
    const only = connections.find((c) => c.endsWith(':2025'))!;
    const limited = await collectPlan({ profile, snapshot, state, onlyConnections: new Set([only]) });
    expect(limited.operations.length).to.be.greaterThan(0);
    for (const op of limited.operations) {
      expect(op.connection, `${op.method} ${op.sourceKey}`).to.equal(only);
      if (op.id) expect(owned.get(op.id), `${op.method} ${op.id} belongs to ${owned.get(op.id)}`).to.equal(only);
    }
    expect(limited.summary.shared).to.be.greaterThan(0);
    expect(limited.connections.map((c) => c.connection)).to.deep.equal([only]);
    snapshot.close();
    state.close();
  });
});

describe('jobs of one connection each on one state file (the scheduler set-up)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-jobs-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Who holds each ODS record (natural key) and with which body, as the state says. */
  function holders(state: ReturnType<typeof openState>, resource: string): Map<string, string> {
    return new Map(new IdentityMap(state).find({ resource }).filter((r) => r.edfiId).map((r) => [JSON.stringify(r.naturalKey), `${r.connection} ${r.bodyHash}`]));
  }

  it('in either order, end where one run of all connections does: the later school year holds a shared record, with its body', async function () {
    const profile = loadProfile('core', repoRoot());
    const resource = profile.def.resource.name;
    generateSnapshot({ students: 1200, seed: 9, out: join(dir, 's.sqlite'), profile: 'core', endYears: [2025, 2026] });
    const snapshot = openSnapshot(join(dir, 's.sqlite'));
    const whole = openState(join(dir, 'whole.sqlite'));
    const plan = await collectPlan({ profile, snapshot, state: whole });
    expect(plan.summary.shared, 'the two school years share records in one instance').to.be.greaterThan(0);
    await emitPlan({ api: new OfflineApi(), profile, plan, state: whole, runId: null });
    const want = holders(whole, resource);
    const keys = plan.connections.filter((c) => c.resourceEnabled).map((c) => c.connection);
    for (const order of [[...keys].sort(), [...keys].sort().reverse()]) {
      const state = openState(join(dir, `jobs-${order[0]}.sqlite`.replace(/:/g, '-')));
      for (const night of [1, 2]) {
        for (const key of order) {
          const job = await collectPlan({ profile, snapshot, state, onlyConnections: new Set([key]) });
          if (night === 2) expect(job.operations, `night 2, ${key} after ${order.join(', ')}: nothing left to send`).to.deep.equal([]);
          await emitPlan({ api: new OfflineApi(), profile, plan: job, state, runId: null });
        }
      }
      expect(holders(state, resource), `jobs in the order ${order.join(', ')}`).to.deep.equal(want);
      state.close();
    }
    whole.close();
    snapshot.close();
  });
});

describe('instances from the data path', function () {
  it('one instance for every school year by default; one per year with {endYear}', function () {
    const conn = { configID: 1, districtID: 1, endYear: 2026, profile: 'core', yearStart: '', yearEnd: '', resourceEnabled: true, facts: {} };
    expect(instanceFromDataPath('/data/v3')(conn)).to.equal('/data/v3');
    expect(instanceFromDataPath('/data/v3/{endYear}')(conn)).to.equal('/data/v3/2026');
  });
});
