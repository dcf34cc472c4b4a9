// Decisions are stored once in the state file (`decisions`) and referred to by id from the evaluation cache. A
// decision first made in a run has a provisional id until its connection's pass is written: those ids must never
// stand for two decisions in one run, never reach the state file, and a cache entry whose decision the file does
// not have is decided again rather than failing the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { collectPlan } from '../src/plan/planner.js';
import type { Plan } from '../src/plan/plan-types.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import { coreProfile, fixtureYaml, sourceKey, studentTables, students, type Row, type Tables } from './helpers/sync-e2e.js';

/** A second connection (school year 2024-25) beside the standard 2025-26 one, with the same students enrolled. */
function twoYears(tables: Tables, noShow2025: number[]): Tables {
  const prefs = loadFixture(fixtureYaml({})).tables.EdFiResourcePreference ?? [];
  const persons = (tables.Person ?? []).map((p) => Number(p.personID));
  return {
    ...tables,
    Enrollment: [
      ...(tables.Enrollment ?? []),
      ...persons.map((id) => ({ enrollmentID: 500 + id, personID: id, calendarID: 2, startDate: '2024-08-20', noShow: noShow2025.includes(id) ? 1 : 0 })),
    ],
    SchoolYear: [{ endYear: 2025, label: '2024-25', startDate: '2024-07-01', endDate: '2025-06-30' }],
    Calendar: [{ calendarID: 2, schoolID: 1, endYear: 2025, name: '2024-25 Standard High School' }],
    EdFiConfiguration: [{ configID: 2, districtID: 1, endYear: 2025, profile: 'core' }],
    EdFiResourcePreference: prefs.map((r) => ({ ...r, configID: 2 }) as Row),
  };
}

/** What a plan says about each record, without ids: the rules and reasons of every operation and excluded record. */
function verdicts(plan: Plan): string[] {
  return [
    ...plan.operations.map((o) => JSON.stringify([o.method, o.connection, o.sourceKey, o.rules, o.reason])),
    ...plan.excluded.map((x) => JSON.stringify(['excluded', x.connection, x.sourceKey, x.decision.kind, x.decision.ruleIds, x.decision.reasons])),
  ].sort();
}

/** Students whose program records overlap both school years. */
const overlapping = students(4).map((s) => ({ ...s, startDate: '2025-03-01' }));

describe('decision ids in the evaluation cache', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-decisions-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a decision first met in a later connection of the run does not take the provisional id of an earlier connection\'s decision', async function () {
    // 2025-26 is read first (the later year) and keeps every record; 2024-25 then meets a new decision (No Show).
    const snapshotFile = join(dir, 'snapshot.sqlite');
    buildSnapshotFromFixture(loadFixture(fixtureYaml(twoYears(studentTables(overlapping), [2])), 'decision ids'), snapshotFile);
    const profile = coreProfile();
    const snapshot = openSnapshot(snapshotFile);
    try {
      // The reference: the same run where every decision is already stored (no provisional id at all).
      const warm = openState(join(dir, 'warm.sqlite'));
      await collectPlan({ profile, snapshot, state: warm });
      warm.prepare('DELETE FROM eval_cache').run();
      const reference = await collectPlan({ profile, snapshot, state: warm });
      expect(reference.summary.evaluated).to.equal(reference.summary.candidates);
      warm.close();

      const fresh = openState(join(dir, 'fresh.sqlite'));
      const plan = await collectPlan({ profile, snapshot, state: fresh });
      // The one record kept out is 2024-25's No Show.
      expect(plan.excluded.map((x) => [x.connection, x.sourceKey])).to.deep.equal([['1:2025', sourceKey(2)]]);
      expect(plan.excluded[0]!.decision.reasons.join(' ')).to.match(/no show/i);
      expect(plan.operations.filter((o) => o.method === 'POST').map((o) => o.connection)).to.deep.equal(['1:2026', '1:2026', '1:2026', '1:2026']);
      expect(verdicts(plan)).to.deep.equal(verdicts(reference));
      // No POST of the year read first names a rule that kept a 2024-25 record out.
      const stopRules = plan.excluded.flatMap((x) => x.decision.ruleIds);
      for (const op of plan.operations) expect(op.rules.filter((r) => stopRules.includes(r)), `${op.connection}/${op.sourceKey}`).to.deep.equal([]);
      // The state file holds stored ids only, each decision once.
      const bad = fresh.prepare('SELECT COUNT(*) AS n FROM eval_cache c LEFT JOIN decisions d ON d.decision_id = c.decision_id WHERE d.decision_id IS NULL OR c.decision_id <= 0').get() as { n: number };
      expect(bad.n).to.equal(0);
      fresh.close();
    } finally {
      snapshot.close();
    }
  });

  it('a cache entry whose decision the state file does not have is decided again, not a failed run', async function () {
    const snapshotFile = join(dir, 'snapshot.sqlite');
    buildSnapshotFromFixture(loadFixture(fixtureYaml(twoYears(studentTables(overlapping), [2])), 'decision ids'), snapshotFile);
    const profile = coreProfile();
    const snapshot = openSnapshot(snapshotFile);
    const state = openState(join(dir, 'state.sqlite'));
    try {
      const first = await collectPlan({ profile, snapshot, state });
      // Entries pointing at decisions the file does not have (written by another version, or a damaged file).
      state.prepare('UPDATE eval_cache SET decision_id = decision_id + 1000').run();
      const again = await collectPlan({ profile, snapshot, state });
      expect(again.summary.evaluated).to.equal(again.summary.candidates);
      expect(verdicts(again)).to.deep.equal(verdicts(first));
      const dangling = state.prepare('SELECT COUNT(*) AS n FROM eval_cache c LEFT JOIN decisions d ON d.decision_id = c.decision_id WHERE d.decision_id IS NULL').get() as { n: number };
      expect(dangling.n).to.equal(0);
    } finally {
      state.close();
      snapshot.close();
    }
  });
});
