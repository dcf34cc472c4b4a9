import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT } from '../src/cli/exit-codes.js';
import { runSync } from '../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ErrorLog } from '../src/state/error-log.js';
import { openState } from '../src/state/state-db.js';
import type { TestServer } from '../src/testserver/server.js';
import { useServerWorld } from './helpers/server-world.js';
import { captureStderr, coreProfileFor, FLAVORS } from './helpers/sync-e2e.js';

const WORLD = `
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
`;

function errorLog(state: string): ReturnType<ErrorLog['list']> {
  const db = openState(state);
  try {
    return new ErrorLog(db).list();
  } finally {
    db.close();
  }
}

const posts = (server: TestServer): number => server.requests.filter((r) => r.method === 'POST' && r.path.includes('studentCTEProgramAssociations')).length;

for (const flavor of FLAVORS) {
  describe(`sync --check-references (${flavor})`, function () {
    const w = useServerWorld('each', 'refs', 'k', 'reference-check-secret', { flavor });
    const profile = coreProfileFor(flavor);

    it('reports a missing student once and holds back its records instead of sending them', async function () {
      const { dir, server } = w;
      const snapshot = join(dir, 'snap.sqlite');
      buildSnapshotFromFixture(loadFixture(WORLD), snapshot);
      await preloadFromSnapshot(server, snapshot, [profile]);
      server.store.delete('students', server.store.findId('students', { studentUniqueId: '1000000011' })!);
      const code = await runSync({ profile, snapshot, state: join(dir, 'state.sqlite'), apiBase: server.url, concurrency: 2, quiet: true, checkReferences: true });
      // Held back by a known data problem (the student is missing), nothing failed at the API.
      expect(code).to.equal(EXIT.heldBack);
      expect(posts(server), 'only the record whose student exists is sent').to.equal(1);
      const lookups = server.requests.filter((r) => r.method === 'GET' && r.path.includes('/students?'));
      expect(lookups, 'each student is looked up once').to.have.length(2);
      const log = errorLog(join(dir, 'state.sqlite'));
      expect(log.map((e) => e.sourceKey).sort()).to.deep.equal(['participationID=1001', 'participationID=1002']);
      expect(log.every((e) => e.catalogueId === 'core.error.unresolved-reference' && /Resync the resource being mentioned/.test(e.fix ?? ''))).to.equal(true);
      expect(log.map((e) => [e.method, e.status, e.heldBack])).to.deep.equal([[null, null, 'reference-check'], [null, null, 'reference-check']]);
      expect(log.map((e) => e.specMessage)).to.deep.equal(Array(2).fill("400: 'StudentCTEProgramAssociation' failed. Student reference could not be resolved."));
    });
  });
}

// An Ed-Fi API implementation without its search backend: every lookup by natural key fails (500), or is refused
// as an unknown query parameter (400). The check could not be made: each lookup gets a line, and the records wait.
for (const listing of ['error-500', 'no-search-400'] as const) {
  describe(`sync --check-references when the API cannot look records up (${listing})`, function () {
    const w = useServerWorld('each', 'refs-down', 'k', 'reference-check-secret', { flavor: 'dms', listing });

    async function run(sendUncheckedReferences: boolean): Promise<{ code: number; text: string; state: string }> {
      const { dir, server } = w;
      const snapshot = join(dir, 'snap.sqlite');
      buildSnapshotFromFixture(loadFixture(WORLD), snapshot);
      await preloadFromSnapshot(server, snapshot, ['core-ds5']);
      const state = join(dir, 'state.sqlite');
      const { value, text } = await captureStderr(() =>
        runSync({ profile: 'core-ds5', snapshot, state, apiBase: server.url, concurrency: 2, quiet: true, checkReferences: true, sendUncheckedReferences }),
      );
      return { code: value, text, state };
    }

    it('holds back every record whose reference could not be looked up, with one line per lookup and the reason in the error log', async function () {
      const { code, text, state } = await run(false);
      // No data problem held them: the API could not answer. Exit 1 (as a failure at the API), not 7, so that a
      // scheduler tries again rather than taking it for the usual held-back records.
      expect(code).to.equal(EXIT.apiFailed);
      expect(posts(w.server)).to.equal(0);
      const lines = text.split('\n').filter((l) => l.startsWith('could not check: '));
      // One LEA, two students, two programs.
      expect(lines).to.have.length(5);
      expect(lines.join('\n')).to.match(listing === 'error-500' ? /HTTP 500/ : /HTTP 400.*not supported/);
      expect(lines.every((l) => /held back \(--send-unchecked-references sends them anyway\)/.test(l))).to.equal(true);
      const log = errorLog(state);
      expect(log.map((e) => e.sourceKey).sort()).to.deep.equal(['participationID=1000', 'participationID=1001', 'participationID=1002']);
      expect(log.every((e) => e.catalogueId === 'core.error.reference-not-checked' && /could not be checked/.test(e.message ?? ''))).to.equal(true);
    });

    it('sends them when told to, saying each lookup could not be made', async function () {
      const { code, text } = await run(true);
      expect(code).to.equal(0);
      expect(posts(w.server)).to.equal(3);
      expect(text).to.match(/could not check: students studentUniqueId=1000000010 .* 1 record\(s\) sent without the check/);
    });
  });
}
