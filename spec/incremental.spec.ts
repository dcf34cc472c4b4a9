import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { initProfile } from '../src/cli/commands/init-profile.js';
import { emitPlan } from '../src/emit/emitter.js';
import { OfflineApi } from '../src/fixtures/offline-api.js';
import { buildPlan } from '../src/plan/planner.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import { repoRoot } from '../src/util/repo-root.js';
import { projectProfiles } from './helpers/profiles.js';

// Only records whose inputs or rules changed are evaluated again; the result is the same as a full evaluation.
describe('incremental planning (fingerprints of facts and of the profile files)', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-incr-'));
    generateSnapshot({ students: 400, seed: 5, out: join(dir, 'night1.sqlite'), profile: 'core' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates nothing on an unchanged snapshot and only the changed records after an edit, with the same plan as a fresh state', async function () {
    const profile = loadProfile('core', repoRoot());
    const state = openState(join(dir, 'state.sqlite'));
    const s1 = openSnapshot(join(dir, 'night1.sqlite'));
    const first = await buildPlan({ profile, snapshot: s1, state });
    expect(first.summary.evaluated).to.equal(first.summary.candidates);
    await emitPlan({ api: new OfflineApi(), profile, plan: first, state, runId: null });
    const again = await buildPlan({ profile, snapshot: s1, state });
    expect(again.summary.evaluated).to.equal(0);
    expect(again.operations).to.deep.equal([]);
    s1.close();

    copyFileSync(join(dir, 'night1.sqlite'), join(dir, 'night2.sqlite'));
    const db = new Database(join(dir, 'night2.sqlite'));
    const changed = db.prepare("UPDATE ProgramParticipation SET endDate = '2026-05-01' WHERE participationID % 10 = 3 AND endDate IS NULL").run().changes;
    db.close();
    expect(changed).to.be.greaterThan(0);
    const s2 = openSnapshot(join(dir, 'night2.sqlite'));
    const incremental = await buildPlan({ profile, snapshot: s2, state });
    // A program record is a candidate of every connection of its district, hence up to one evaluation per year.
    expect(incremental.summary.evaluated).to.be.greaterThan(0).and.at.most(changed * 2);
    expect(incremental.operations.length).to.be.greaterThan(0);
    // The same snapshot planned against a state that had the same first night, but evaluated from scratch.
    const fresh = openState(':memory:');
    const s1b = openSnapshot(join(dir, 'night1.sqlite'));
    await emitPlan({ api: new OfflineApi(), profile, plan: await buildPlan({ profile, snapshot: s1b, state: fresh }), state: fresh, runId: null });
    s1b.close();
    fresh.prepare('DELETE FROM eval_cache').run();
    const full = await buildPlan({ profile, snapshot: s2, state: fresh });
    expect(full.summary.evaluated).to.equal(full.summary.candidates);
    const strip = (ops: typeof full.operations) => ops.map((op) => ({ ...op, id: undefined, body: op.body ? { ...op.body, id: undefined } : undefined })).map((x) => JSON.stringify(x)).sort();
    expect(strip(incremental.operations)).to.deep.equal(strip(full.operations));
    s2.close();
    state.close();
    fresh.close();
  });

  it('an edit to a rule file re-evaluates every record', async function () {
    const project = mkdtempSync(join(tmpdir(), 'edfi-incr-profile-'));
    try {
      initProfile('edited', 'core', project);
      const profileFile = join(project, 'profiles/edited/profile.yaml');
      const state = openState(':memory:');
      // The snapshot's connections are labelled 'core': serve them from the copy.
      const copy = join(project, 'snap.sqlite');
      copyFileSync(join(dir, 'night1.sqlite'), copy);
      const w = new Database(copy);
      w.prepare("UPDATE EdFiConfiguration SET profile = 'edited'").run();
      w.close();
      const snap = openSnapshot(copy);
      const p1 = loadProfile(profileFile, project);
      await buildPlan({ profile: p1, snapshot: snap, state });
      expect((await buildPlan({ profile: p1, snapshot: snap, state })).summary.evaluated).to.equal(0);
      const rules = join(project, 'rules/edited/exclusions.yaml');
      writeFileSync(rules, readFileSync(rules, 'utf8').replace('reason: "enrollment is marked No Show"', 'reason: "No Show"'));
      const p2 = loadProfile(profileFile, project);
      const after = await buildPlan({ profile: p2, snapshot: snap, state });
      expect(after.summary.evaluated).to.equal(after.summary.candidates);
      snap.close();
      state.close();
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('evaluation on worker threads and concurrent evaluation', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-workers-'));
    generateSnapshot({ students: 3000, seed: 9, out: join(dir, 's.sqlite'), profile: 'both' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of projectProfiles()) {
    it(`${name}: the plan with two worker threads equals the plan on the main thread`, async function () {
      const profile = loadProfile(name, repoRoot());
      const snap = openSnapshot(join(dir, 's.sqlite'));
      const a = await buildPlan({ profile, snapshot: snap, state: openState(':memory:'), workers: 0 });
      const b = await buildPlan({ profile, snapshot: snap, state: openState(':memory:'), workers: 2, workerThreshold: 50 });
      snap.close();
      expect(a.summary.evaluated).to.be.greaterThan(500);
      expect(b.operations).to.deep.equal(a.operations);
      expect(b.issues).to.deep.equal(a.issues);
      expect(b.excluded).to.deep.equal(a.excluded);
    });
  }

  it('a rule evaluator gives the same decisions when records are evaluated concurrently', async function () {
    const { RecordEvaluator } = await import('../src/plan/record-evaluator.js');
    const { CandidateReader } = await import('../src/snapshot/candidates.js');
    const { readConnections } = await import('../src/snapshot/connections.js');
    const profile = loadProfile('core', repoRoot());
    const snap = openSnapshot(join(dir, 's.sqlite'));
    const reader = new CandidateReader(snap, profile);
    const candidates = readConnections(snap, profile).flatMap((c) => [...reader.read(c)]).slice(0, 400);
    snap.close();
    const evaluator = new RecordEvaluator(profile);
    const sequential = [];
    for (const c of candidates) sequential.push((await evaluator.decide(c)).ruleIds);
    const concurrent = (await Promise.all(candidates.map((c) => evaluator.decide(c)))).map((d) => d.ruleIds);
    expect(concurrent).to.deep.equal(sequential);
  });
});
