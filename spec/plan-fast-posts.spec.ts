// New records that nobody else wants are POSTed by one SQL statement (WorkTables.postNewRecords) instead of going
// claim by claim through the diff stage. For every shipped profile, on a generated snapshot whose school years share
// one ODS instance (so natural keys are contested), over three nights with failed POSTs, key changes, exclusions and
// new records, both ways plan exactly the same operations, issues and summary.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { ApiResult } from '../src/emit/edfi-client.js';
import { emitPlan } from '../src/emit/emitter.js';
import { instanceFromDataPath } from '../src/plan/plan-options.js';
import { planRun, type StreamedPlan } from '../src/plan/planner.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { openState } from '../src/state/state-db.js';
import type { Connection } from '../src/types.js';
import { sha1 } from '../src/util/hash.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';
import { AcceptingApi } from './helpers/accepting-api.js';

function shippedProfiles(): string[] {
  const dir = repoPath('profiles');
  return readdirSync(dir).filter((n) => existsSync(join(dir, n, 'profile.yaml')) && existsSync(join(dir, n, 'fixture-base.yaml'))).sort();
}

/** An ODS whose ids follow from the body (two states sent the same plans get the same ids) and that refuses one POST in eight. */
class DeterministicApi extends AcceptingApi {
  override async post(_resource: string, body: object): Promise<ApiResult> {
    const id = sha1(JSON.stringify(body)).slice(0, 32);
    if (id < '2') return { ok: false, status: 400, message: 'The request is invalid.', attempts: 1 };
    return { ok: true, status: 201, id, attempts: 1 };
  }
}

function postedBySql(state: Database.Database): number {
  return (state.prepare('SELECT COUNT(*) AS n FROM temp.plan_posted').get() as { n: number }).n;
}

describe('new records POSTed in one statement plan what the diff stage plans, for every shipped profile', function () {
  this.timeout(180_000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-fast-posts-'));
    generateSnapshot({ students: 1500, seed: 33, out: join(dir, 'night1.sqlite'), profile: 'both' });
    copyFileSync(join(dir, 'night1.sqlite'), join(dir, 'night2.sqlite'));
    const db = new Database(join(dir, 'night2.sqlite'));
    // Key changes (begin dates), records excluded (no-shows), new records (dates moved into a year).
    db.prepare("UPDATE ProgramParticipation SET startDate = date(startDate, '+3 days') WHERE participationID % 11 = 3 AND startDate IS NOT NULL").run();
    db.prepare('UPDATE Enrollment SET noShow = 1 WHERE enrollmentID % 19 = 5').run();
    db.prepare("UPDATE Enrollment SET startDate = date(startDate, '-40 days') WHERE enrollmentID % 13 = 7").run();
    db.close();
    copyFileSync(join(dir, 'night2.sqlite'), join(dir, 'night3.sqlite'));
    const db3 = new Database(join(dir, 'night3.sqlite'));
    db3.prepare('UPDATE Enrollment SET noShow = 0 WHERE enrollmentID % 19 = 5').run();
    db3.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // One ODS for every school year (keys contested across years), and one per school year (each instance planned on its own).
  const layouts: Array<[string, ((c: Connection) => string) | undefined]> = [['one ODS', undefined], ['an ODS per school year', instanceFromDataPath('/data/v3/{endYear}')]];
  for (const name of shippedProfiles()) for (const [layout, instanceOf] of layouts) {
    it(`${name}, ${layout}: three nights, failed POSTs re-sent, key changes, exclusions`, async function () {
      const profile = loadProfile(name, repoRoot());
      const tag = `${name}-${instanceOf ? 'years' : 'one'}`;
      const fastState = openState(join(dir, `${tag}-fast.sqlite`));
      const diffState = openState(join(dir, `${tag}-diff.sqlite`));
      let posted = 0;
      let failedResent = 0;
      for (const night of ['night1', 'night2', 'night3']) {
        const snapshot = openSnapshot(join(dir, `${night}.sqlite`));
        const read = (p: StreamedPlan) => ({ ops: [...p.operations()], issues: [...p.issues()], forget: [...p.forget()], summary: p.summary });
        const fast = await planRun({ profile, snapshot, state: fastState, instanceOf });
        posted += postedBySql(fastState);
        const diff = await planRun({ profile, snapshot, state: diffState, instanceOf, everyClaimInDiff: true });
        expect(postedBySql(diffState), 'the diff stage saw every claim').to.equal(0);
        const a = read(fast);
        const b = read(diff);
        expect(a.ops, `${night}: operations`).to.deep.equal(b.ops);
        expect(a.issues, `${night}: issues`).to.deep.equal(b.issues);
        expect(a.forget, `${night}: forgotten rows`).to.deep.equal(b.forget);
        expect(a.summary, `${night}: summary`).to.deep.equal(b.summary);
        failedResent += a.ops.filter((o) => o.reason === 'not yet in the ODS (an earlier send failed)').length;
        await emitPlan({ api: new DeterministicApi(), profile, plan: fast, state: fastState, runId: null });
        await emitPlan({ api: new DeterministicApi(), profile, plan: diff, state: diffState, runId: null });
        fast.close();
        diff.close();
        snapshot.close();
      }
      fastState.close();
      diffState.close();
      // Not vacuous: the statement POSTed records, among them records whose earlier POST failed.
      expect(posted, 'records POSTed by the statement').to.be.greaterThan(100);
      expect(failedResent, 're-sent records whose POST failed').to.be.greaterThan(0);
    });
  }
});
