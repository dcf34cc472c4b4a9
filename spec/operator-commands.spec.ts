import { join } from 'node:path';
import { expect } from 'chai';
import { explain } from '../src/cli/commands/explain.js';
import { runRetry } from '../src/cli/commands/retry.js';
import { runSync, type SyncOptions } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ErrorLog } from '../src/state/error-log.js';
import { IdentityMap } from '../src/state/identity-map.js';
import { openState } from '../src/state/state-db.js';
import { useServerWorld } from './helpers/server-world.js';

const CORE_WORLD = `
base: standard
profile: core
tables:
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20', noShow: 1 }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25', studentStatus: Completer }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25' }
`;

/** Runs a command with its stdout/stderr chatter kept out of the test report. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await f();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('retry, explain and plan warnings', function () {
  const w = useServerWorld('each', 'ops', 'op-key', 'operator-commands-secret');

  async function syncedWorld(fixture: string, profile: string): Promise<SyncOptions> {
    const snapshot = join(w.dir, 'snap.sqlite');
    buildSnapshotFromFixture(loadFixture(fixture), snapshot);
    await preloadFromSnapshot(w.server, snapshot, [profile]);
    return { profile, snapshot, state: join(w.dir, 'state.sqlite'), apiBase: w.server.url, dataPath: '/data/v3', concurrency: 2, quiet: true };
  }

  it('retry re-sends only the record whose send failed, and resolves its error', async function () {
    const o = await syncedWorld(CORE_WORLD, 'core');
    w.server.faults.add({ kind: 'status', status: 500, times: Infinity, match: { method: 'POST', pathIncludes: 'studentCTEProgramAssociations' } });
    expect(await quietly(() => runSync({ ...o, concurrency: 1 }))).to.equal(1);
    expect(w.server.store.count('studentCTEProgramAssociations')).to.equal(0);
    w.server.faults.clear();
    w.server.requests.length = 0;
    expect(await quietly(() => runRetry(o))).to.equal(0);
    expect(w.server.store.count('studentCTEProgramAssociations')).to.equal(1);
    expect(w.server.requests.filter((r) => r.path.includes('studentCTEProgramAssociations')).map((r) => r.method)).to.deep.equal(['POST']);
    const db = openState(o.state);
    const errors = new ErrorLog(db).list({ level: 'error' });
    const unresolved = new ErrorLog(db).unresolvedKeys('studentCTEProgramAssociations');
    const mapped = new IdentityMap(db).find({});
    db.close();
    expect(errors.length).to.be.greaterThan(0);
    expect(errors.every((e) => e.catalogueId === 'core.error.server-error')).to.equal(true);
    expect(unresolved).to.deep.equal([]);
    expect(mapped.map((r) => [r.sourceKey, r.lastOutcome])).to.deep.equal([['participationID=1000', 'ok']]);
    // Nothing left to retry.
    expect(await quietly(() => runRetry(o))).to.equal(0);
  });

  it('explain shows each rule with the values it compared, the body field by field, and the operation', async function () {
    const o = await syncedWorld(CORE_WORLD, 'core');
    const sent = await explain({ profile: 'core', snapshot: o.snapshot, student: '1000000010' });
    expect(sent).to.contain('Record participationID=1000');
    expect(sent).to.match(/ok {4}trigger core\.trigger\.program-overlaps-year\n\s+true\s+programPeriod = \{"start":"2025-08-25","end":null\}\s+overlapsPeriod\s+\{"start":"2025-07-01","end":"2026-06-30"\}/);
    expect(sent).to.match(/ctePrograms\s+\[\{"careerPathwayDescriptor":"uri:\/\/ed-fi\.org\/CareerPathwayDescriptor#Manufacturing".*"cteProgramCompletionIndicator":true.*\[core\.map\.cte-programs\]/);
    expect(sent).to.contain('operation: POST — new record');
    const stopped = await explain({ profile: 'core', snapshot: o.snapshot, student: '1000000011' });
    expect(stopped).to.match(/STOPS exclude core\.exclude\.no-show — enrollment is marked No Show\n\s+true\s+noShow = 1\s+isTrue\s+true/);
    expect(stopped).to.contain('decision: excluded (enrollment is marked No Show)').and.to.contain('operation: none (not sent)');
    expect(stopped).to.not.contain('body, field by field');
    // Against the state after a sync, the sent record is unchanged.
    expect(await quietly(() => runSync(o))).to.equal(0);
    const withState = await explain({ profile: 'core', snapshot: o.snapshot, state: o.state, student: '1000000010' });
    expect(withState).to.contain('operation: none (unchanged since last sent)');
    expect(withState).to.not.contain('Without --state');
    // Without the state file the operation is a first run's, and the output says so.
    expect(sent).to.match(/^Without --state: each operation below is what a first run would send/);
  });

  it("a profile's plan warnings are kept in the error log at level warning", async function () {
    const o = await syncedWorld(`
base: standard
profile: missouri
tables:
  SchoolYear:
    - { endYear: 2027, label: 2026-27, startDate: '2026-07-01', endDate: '2027-06-30' }
  Calendar:
    - { calendarID: 2, schoolID: 1, endYear: 2027, name: 2026-27 Standard High School }
  Person:
    - { personID: 10, stateID: '1000000010' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20', endDate: '2026-05-22', careerCluster: '8', cteProgramType: Health Sciences }
    - { enrollmentID: 101, personID: 10, calendarID: 2, startDate: '2026-08-19', careerCluster: '8', cteProgramType: Health Sciences }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 2, startDate: '2025-08-20' }
`, 'missouri');
    expect(await quietly(() => runSync(o))).to.equal(0);
    const db = openState(o.state);
    const warnings = new ErrorLog(db).list({ level: 'warning' });
    db.close();
    expect(warnings.map((x) => [x.catalogueId, x.message])).to.deep.equal([
      ['mo.warn.year-not-configured', 'district 1234567: 1 Career Tech record(s) overlap school year 2027, which has no valid Ed-Fi configuration; not sent'],
    ]);
  });
});
