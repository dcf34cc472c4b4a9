import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT } from '../src/cli/exit-codes.js';
import { runSync } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ErrorLog } from '../src/state/error-log.js';
import { openState } from '../src/state/state-db.js';
import { useServerWorld } from './helpers/server-world.js';

describe('sync --check-references', function () {
  const w = useServerWorld('each', 'refs', 'k', 'reference-check-secret');

  it('reports a missing student once and holds back its records instead of sending them', async function () {
    const { dir, server } = w;
    const snapshot = join(dir, 'snap.sqlite');
    buildSnapshotFromFixture(loadFixture(`
base: standard
profile: core
tables:
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20' }
    - { enrollmentID: 101, personID: 11, calendarID: 1, startDate: '2025-08-20' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25' }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25' }
    - { participationID: 1002, personID: 11, programID: 2, startDate: '2025-09-01' }
`), snapshot);
    await preloadFromSnapshot(server, snapshot, ['core']);
    server.store.delete('students', server.store.findId('students', { studentUniqueId: '1000000011' })!);
    const code = await runSync({ profile: 'core', snapshot, state: join(dir, 'state.sqlite'), apiBase: server.url, dataPath: '/data/v3', concurrency: 2, quiet: true, checkReferences: true });
    // Held back by a known data problem (the student is missing), nothing failed at the API.
    expect(code).to.equal(EXIT.heldBack);
    const posts = server.requests.filter((r) => r.method === 'POST' && r.path.includes('studentCTEProgramAssociations'));
    expect(posts, 'only the record whose student exists is sent').to.have.length(1);
    const lookups = server.requests.filter((r) => r.method === 'GET' && r.path.includes('/students?'));
    expect(lookups, 'each student is looked up once').to.have.length(2);
    const db = openState(join(dir, 'state.sqlite'));
    const log = new ErrorLog(db).list();
    db.close();
    expect(log.map((e) => e.sourceKey).sort()).to.deep.equal(['participationID=1001', 'participationID=1002']);
    expect(log.every((e) => e.catalogueId === 'core.error.unresolved-reference' && /Resync the resource being mentioned/.test(e.fix ?? ''))).to.equal(true);
    expect(log.map((e) => [e.method, e.status, e.heldBack])).to.deep.equal([[null, null, 'reference-check'], [null, null, 'reference-check']]);
    expect(log.map((e) => e.specMessage)).to.deep.equal(Array(2).fill("400: 'StudentCTEProgramAssociation' failed. Student reference could not be resolved."));
  });
});
