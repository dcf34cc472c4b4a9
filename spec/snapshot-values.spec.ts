import { loadProfile } from '../src/profile/load-profile.js';
import { flavorForDataStandard } from '../src/api/data-standard.js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EXIT } from '../src/cli/exit-codes.js';
import { listProfiles } from '../src/cli/commands/validate.js';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { findSnapshotProblems, openSnapshot, SnapshotUnreadableError } from '../src/snapshot/open.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';

// Snapshot values that slip past a check of tables and columns and then drop rows from the source query (deleted
// as "no longer in Campus") or plan a connection twice. The snapshot check refuses them all at once, with exit 4,
// before anything is planned or sent.

const CLI = repoPath('bin', 'edfi-sync.js');
const CLIENT_ID = 'snapshot-values-key';
const CLIENT_SECRET = 'snapshot-values-Secret-3f1c';

type Mutation = (db: Database.Database) => void;

const textInKey: Mutation = (db) => {
  db.exec("UPDATE ProgramParticipation SET programID = 'x1' WHERE participationID IN (SELECT participationID FROM ProgramParticipation ORDER BY participationID LIMIT 2)");
};
const duplicateConfiguration: Mutation = (db) => {
  db.exec(`INSERT INTO EdFiConfiguration (configID, districtID, endYear, profile, apiBase, enabled)
           SELECT (SELECT max(configID) + 1 FROM EdFiConfiguration), districtID, endYear, upper(profile), apiBase, 1
             FROM EdFiConfiguration WHERE enabled = 1 ORDER BY configID LIMIT 1`);
};
/** An export without the DDL's constraints, then a configuration whose school year is NULL. */
const nullConfiguredYear: Mutation = (db) => {
  db.exec(`PRAGMA foreign_keys = OFF;
    ALTER TABLE EdFiConfiguration RENAME TO EdFiConfigurationOld;
    CREATE TABLE EdFiConfiguration (configID INTEGER, districtID INTEGER, endYear INTEGER, profile TEXT, apiBase TEXT, enabled INTEGER);
    INSERT INTO EdFiConfiguration SELECT * FROM EdFiConfigurationOld;
    DROP TABLE EdFiConfigurationOld;
    UPDATE EdFiConfiguration SET endYear = NULL WHERE configID = (SELECT min(configID) FROM EdFiConfiguration WHERE enabled = 1);`);
};
/** An export without a primary key on SchoolYear, holding one year twice (every connection of it would be doubled). */
const duplicateSchoolYear: Mutation = (db) => {
  db.exec(`ALTER TABLE SchoolYear RENAME TO SchoolYearOld;
    CREATE TABLE SchoolYear (endYear INTEGER, label TEXT, startDate TEXT, endDate TEXT);
    INSERT INTO SchoolYear SELECT * FROM SchoolYearOld;
    INSERT INTO SchoolYear SELECT * FROM SchoolYearOld ORDER BY endYear DESC LIMIT 1;
    DROP TABLE SchoolYearOld;`);
};

function mutated(source: string, target: string, ...mutations: Mutation[]): string {
  copyFileSync(source, target);
  const db = new Database(target);
  // A broken export does not honour the DDL's references (better-sqlite3 would enforce them).
  db.pragma('foreign_keys = OFF');
  try {
    for (const m of mutations) m(db);
  } finally {
    db.close();
  }
  return target;
}

describe('snapshot values that would drop or delete rows: the check', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-snapshot-values-'));
    file = join(dir, 'generated.sqlite');
    generateSnapshot({ students: 200, seed: 5, out: file, profile: 'all' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function problemsOf(path: string): string[] {
    const db = new Database(path, { readonly: true });
    try {
      return findSnapshotProblems(db);
    } finally {
      db.close();
    }
  }

  it('a generated snapshot has none', function () {
    expect(problemsOf(file)).to.deep.equal([]);
  });

  it('lists text in an integer key column, a NULL configured year and a doubled school year, all at once', function () {
    const problems = problemsOf(mutated(file, join(dir, 'all.sqlite'), textInKey, nullConfiguredYear, duplicateSchoolYear));
    expect(problems).to.have.length(3);
    expect(problems.join('\n')).to.match(/column ProgramParticipation\.programID holds 2 non-integer values, e\.g\. 'x1' \(participationID \d+\): it joins no row, so its records drop out and would be deleted/);
    expect(problems.join('\n')).to.match(/column EdFiConfiguration\.endYear holds 1 NULL value, e\.g\. NULL \(configID \d+\): a school year must be given/);
    expect(problems.join('\n')).to.match(/table SchoolYear has 1 endYear value on more than one row, e\.g\. \d{4}: rows joined to it would be doubled/);
  });

  it('refuses two enabled configurations for one district, school year and profile (profile names without case)', function () {
    const problems = problemsOf(mutated(file, join(dir, 'dup.sqlite'), duplicateConfiguration));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^EdFiConfiguration has 2 enabled rows for district \d+, school year \d{4} and profile '[a-z-]+' \(configID \d+, \d+\): one connection would be planned twice/);
  });

  it('an unreadable, damaged or missing file names its path (SnapshotUnreadableError, exit 4)', function () {
    const garbage = join(dir, 'not-sqlite.sqlite');
    writeFileSync(garbage, 'this is not a database, it is a CSV file,,,\n'.repeat(200));
    const damaged = join(dir, 'damaged.sqlite');
    copyFileSync(file, damaged);
    const fd = openSync(damaged, 'r+');
    // Overwrite everything after the first page (the header stays valid, the tables do not).
    const size = statSync(damaged).size;
    writeSync(fd, Buffer.alloc(size - 8192, 0xa5), 0, size - 8192, 8192);
    closeSync(fd);
    for (const path of [garbage, damaged, join(dir, 'missing.sqlite'), dir]) {
      let caught: unknown;
      try {
        openSnapshot(path).close();
      } catch (err) {
        caught = err;
      }
      expect(caught, path).to.be.instanceOf(SnapshotUnreadableError);
      expect((caught as SnapshotUnreadableError).exitCode).to.equal(EXIT.input);
      expect((caught as Error).message).to.contain(path);
    }
  });
});

function runCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, EDFI_CLIENT_ID: CLIENT_ID, EDFI_CLIENT_SECRET: CLIENT_SECRET } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 70) : 0;
      resolve({ code: typeof code === 'number' ? code : 70, stdout, stderr });
    });
  });
}

for (const name of listProfiles(repoRoot())) {
  describe(`sync end to end, profile ${name}: a broken export is refused and nothing is deleted`, function () {
    this.timeout(120_000);
    let dir: string;
    let snapshot: string;
    let state: string;
    let server: TestServer;
    let sentBefore: number;

    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'edfi-snapshot-values-e2e-'));
      snapshot = join(dir, 'night1.sqlite');
      state = join(dir, 'state.sqlite');
      generateSnapshot({ students: 150, seed: 9, out: snapshot, profile: name, endYears: [2025, 2026] });
      // A test server of the API generation the profile's Data Standard fits, one ODS instance per school year.
      server = await startTestServer({ port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, flavor: flavorForDataStandard(loadProfile(name, repoRoot()).def.dataStandard), yearSpecific: true });
      await preloadFromSnapshot(server, snapshot, [name]);
      const first = await runCli(['sync', '--profile', name, '--snapshot', snapshot, '--state', state, '--api-base', server.url, '--quiet'], repoRoot());
      // Generated data holds records the rules hold back (missing state IDs, ...): the night completes all the same.
      expect([EXIT.ok, EXIT.apiFailed, EXIT.heldBack], first.stderr).to.include(first.code);
      sentBefore = sentRecords(server);
      expect(sentBefore, 'the first night sent records').to.be.greaterThan(0);
    });

    after(async function () {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const cases: Array<{ what: string; mutations: Mutation[]; message: RegExp }> = [
      { what: "text in a key column (ProgramParticipation.programID = 'x1')", mutations: [textInKey], message: /ProgramParticipation\.programID holds 2 non-integer values/ },
      { what: 'two enabled configurations for one district and year', mutations: [duplicateConfiguration], message: /EdFiConfiguration has 2 enabled rows for district/ },
      { what: 'a NULL configured year', mutations: [nullConfiguredYear], message: /EdFiConfiguration\.endYear holds 1 NULL value/ },
    ];
    for (const c of cases) {
      it(`${c.what}: exit 4, the problem listed, no request to the API, the ODS and the identity mapping unchanged`, async function () {
        const night2 = mutated(snapshot, join(dir, `night2-${cases.indexOf(c)}.sqlite`), ...c.mutations);
        const identityBefore = countIdentity(state);
        const from = server.requests.length;
        const run = await runCli(['sync', '--profile', name, '--snapshot', night2, '--state', state, '--api-base', server.url, '--quiet'], repoRoot());
        expect(run.code, run.stderr).to.equal(EXIT.input);
        expect(run.stderr).to.contain(night2).and.to.match(c.message);
        expect(server.requests.slice(from).filter((r) => r.method !== 'GET' && !r.path.includes('/oauth'))).to.deep.equal([]);
        expect(sentRecords(server)).to.equal(sentBefore);
        expect(countIdentity(state)).to.equal(identityBefore);
      });
    }

    it('a file that is not a snapshot: exit 4 naming the path, not 70', async function () {
      const bad = join(dir, 'broken-export.sqlite');
      writeFileSync(bad, 'PK\u0003\u0004 a zip file, not SQLite'.repeat(100));
      const run = await runCli(['sync', '--profile', name, '--snapshot', bad, '--state', state, '--api-base', server.url, '--quiet'], repoRoot());
      expect(run.code, run.stderr).to.equal(EXIT.input);
      expect(run.stderr).to.contain(bad);
      expect(sentRecords(server)).to.equal(sentBefore);
    });
  });
}

/** Associations in the ODS instances of the generated school years. */
function sentRecords(server: TestServer): number {
  return [2025, 2026].reduce((n, year) => n + server.instanceFor(year).count('studentCTEProgramAssociations'), 0);
}

function countIdentity(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'identity%' ORDER BY name LIMIT 1").get() as { name: string } | undefined;
    return table ? (db.prepare(`SELECT count(*) AS n FROM "${table.name}"`).get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}
