import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { runGenerate } from '../src/snapshot/cli-generate.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { createSnapshot, findSnapshotProblems, openSnapshot, SnapshotSchemaError } from '../src/snapshot/open.js';
import { campusSchema } from '../src/snapshot/schema.js';
import { connectionOwners, projectProfiles } from './helpers/profiles.js';

function tableDigest(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const hash = createHash('sha256');
    for (const t of campusSchema().tables) {
      hash.update(`#${t.name}\n`);
      for (const row of db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all()) hash.update(`${JSON.stringify(row)}\n`);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

describe('snapshot', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-spec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('schema check', () => {
    it('accepts a fresh snapshot and opens it read-only', () => {
      const file = join(dir, 'fresh.sqlite');
      createSnapshot(file).close();
      const db = openSnapshot(file);
      try {
        expect(() => db.exec('DELETE FROM District')).to.throw(/readonly/i);
      } finally {
        db.close();
      }
    });

    it('refuses to overwrite an existing file unless asked', () => {
      const file = join(dir, 'twice.sqlite');
      createSnapshot(file).close();
      expect(() => createSnapshot(file)).to.throw(/already exists/);
      createSnapshot(file, { overwrite: true }).close();
    });

    it('fails clearly on a missing file', () => {
      expect(() => openSnapshot(join(dir, 'nope.sqlite'))).to.throw(/Cannot open snapshot .*nope\.sqlite/);
    });

    it('reports every problem at once: missing table, missing column, bad dates, bad flags', () => {
      const file = join(dir, 'broken.sqlite');
      const db = createSnapshot(file);
      db.exec(`
        DROP TABLE EdFiResourceToggle;
        ALTER TABLE Enrollment DROP COLUMN noShow;
        CREATE TABLE ExtraCampusTable (x INTEGER);
        ALTER TABLE Person ADD COLUMN middleName TEXT;
        INSERT INTO District VALUES (1, 'D', '1234567');
        INSERT INTO School VALUES (5, 1, 'S', '0050', 2);
        INSERT INTO Program (programID, districtID, name, code, type) VALUES (1, 1, 'Welding', 'WELD', 'CTE');
        INSERT INTO Person (personID, stateID) VALUES (1, '1234567890');
        INSERT INTO ProgramParticipation (participationID, personID, programID, startDate) VALUES
          (16, 1, 1, '2025-08-20'), (17, 1, 1, '13/45/2020'), (18, 1, 1, '2025-02-30'), (19, 1, 1, 20250820), (20, 1, 1, NULL);
      `);
      db.close();

      let caught: unknown;
      try {
        openSnapshot(file).close();
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(SnapshotSchemaError);
      const problems = (caught as SnapshotSchemaError).problems;
      expect(problems).to.include('table EdFiResourceToggle is missing');
      expect(problems).to.include('column Enrollment.noShow is missing');
      expect(problems).to.include("column ProgramParticipation.startDate holds 3 non-date values, e.g. '13/45/2020' (participationID 17)");
      expect(problems).to.include('column School.exclude holds 1 non-0/1 value, e.g. 2 (schoolID 5)');
      expect(problems).to.have.length(4);
      expect((caught as Error).message).to.match(/broken\.sqlite does not match the Campus schema \(4 problems\)/);
    });

    it('matches table and column names case-insensitively, as SQLite does', () => {
      const mem = new Database(':memory:');
      for (const t of campusSchema().tables) {
        mem.exec(`CREATE TABLE ${t.name.toLowerCase()} (${t.columns.map((c) => `${c.name.toUpperCase()} ${c.type}`).join(', ')})`);
      }
      expect(findSnapshotProblems(mem)).to.deep.equal([]);
      mem.close();
    });
  });

  describe('generator', () => {
    it('is deterministic: same seed, same data; another seed, other data', () => {
      const a = generateSnapshot({ students: 300, seed: 7, out: join(dir, 'a.sqlite') });
      const b = generateSnapshot({ students: 300, seed: 7, out: join(dir, 'b.sqlite') });
      const c = generateSnapshot({ students: 300, seed: 8, out: join(dir, 'c.sqlite') });
      expect(a.counts).to.deep.equal(b.counts);
      expect(tableDigest(a.out)).to.equal(tableDigest(b.out));
      expect(readFileSync(a.out).equals(readFileSync(b.out))).to.equal(true);
      expect(tableDigest(c.out)).to.not.equal(tableDigest(a.out));
    });

    it('validates its options', () => {
      const out = join(dir, 'x.sqlite');
      expect(() => generateSnapshot({ students: 0, out })).to.throw(/students/);
      expect(() => generateSnapshot({ students: 5, seed: 1.5, out })).to.throw(/seed/);
      expect(() => generateSnapshot({ students: 5, endYears: [], out })).to.throw(/endYears/);
      expect(() => runGenerate({ students: 'ten', out }, () => undefined)).to.throw(/--students must be a whole number, got 'ten'/);
      expect(() => runGenerate({ students: '5', profile: 'nostate', out }, () => undefined)).to.throw(`profile 'nostate' has no profiles/nostate/fixture-base.yaml (known: ${connectionOwners().join(', ')})`);
    });

    describe('a generated snapshot', () => {
      let db: Database.Database;
      const one = <T>(sql: string): T => db.prepare(sql).pluck().get() as T;
      const count = (sql: string): number => one<number>(`SELECT count(*) FROM (${sql})`);

      before(() => {
        const lines: string[] = [];
        const summary = runGenerate({ students: '1000', seed: '42', out: join(dir, 'sane.sqlite') }, (l) => lines.push(l));
        expect(lines[0]).to.match(/1000 students, seed 42, school years 2025, 2026, profile both/);
        expect(summary.counts['Person']).to.equal(1000);
        db = openSnapshot(summary.out);
      });
      after(() => db.close());

      it('passes its own schema check', () => {
        expect(findSnapshotProblems(db)).to.deep.equal([]);
      });

      it('places every enrollment in an existing calendar of a configured or preceding year', () => {
        expect(count('SELECT 1 FROM Enrollment e LEFT JOIN Calendar c USING (calendarID) WHERE c.calendarID IS NULL')).to.equal(0);
        expect(count('SELECT 1 FROM Calendar c LEFT JOIN SchoolYear y USING (endYear) WHERE y.endYear IS NULL')).to.equal(0);
        expect(count('SELECT 1 FROM ProgramParticipation p LEFT JOIN Program g USING (programID) WHERE g.programID IS NULL')).to.equal(0);
        expect(count('SELECT 1 FROM ProgramParticipationCertification c LEFT JOIN ProgramParticipation p USING (participationID) WHERE p.participationID IS NULL')).to.equal(0);
        expect(db.pragma('foreign_key_check')).to.deep.equal([]);
      });

      it('has districts with 7-digit numbers and several schools, some excluded', () => {
        expect(count("SELECT 1 FROM District WHERE number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'")).to.be.at.least(2);
        expect(count("SELECT 1 FROM District WHERE number NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'")).to.equal(0);
        expect(count("SELECT 1 FROM District WHERE number LIKE '0%'")).to.be.at.least(1);
        expect(count('SELECT districtID FROM School WHERE exclude = 0 GROUP BY districtID HAVING count(*) >= 2')).to.equal(count('SELECT 1 FROM District'));
        expect(count('SELECT 1 FROM Enrollment e JOIN Calendar c USING (calendarID) JOIN School s ON s.schoolID = c.schoolID WHERE s.exclude = 1')).to.be.greaterThan(0);
      });

      it('has no-shows, excluded calendars in use, and open and mid-year enrollments', () => {
        const enrollments = count('SELECT 1 FROM Enrollment');
        const noShows = count('SELECT 1 FROM Enrollment WHERE noShow = 1');
        expect(noShows).to.be.greaterThan(0);
        expect(noShows / enrollments).to.be.below(0.05);
        expect(count('SELECT 1 FROM Enrollment e JOIN Calendar c USING (calendarID) WHERE c.exclude = 1')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM Enrollment WHERE endDate IS NULL')).to.be.greaterThan(0);
        expect(count("SELECT 1 FROM Enrollment WHERE strftime('%m', startDate) NOT IN ('08', '09')")).to.be.greaterThan(0);
      });

      it('has NULL dates where the spec defines defaults or omissions', () => {
        expect(count('SELECT 1 FROM SchoolYear WHERE startDate IS NULL')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM SchoolYear WHERE endDate IS NULL')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM ProgramParticipation WHERE startDate IS NULL')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM ProgramParticipation WHERE endDate IS NULL')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM ProgramParticipationCertification WHERE certificationDate IS NULL')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM Person WHERE stateID IS NULL')).to.be.greaterThan(0);
      });

      it('gives about 40% of students 1-3 CTE records, some spanning two school years', () => {
        const share = one<number>("SELECT count(DISTINCT personID) * 1.0 / (SELECT count(*) FROM Person) FROM ProgramParticipation JOIN Program USING (programID) WHERE type = 'CTE'");
        expect(share).to.be.within(0.33, 0.47);
        expect(one<number>("SELECT max(n) FROM (SELECT count(*) n FROM ProgramParticipation JOIN Program USING (programID) WHERE type = 'CTE' GROUP BY personID)")).to.equal(3);
        expect(count("SELECT 1 FROM ProgramParticipation WHERE julianday(endDate) - julianday(startDate) > 400")).to.be.greaterThan(0);
        expect(count("SELECT 1 FROM ProgramParticipation JOIN Program USING (programID) WHERE type <> 'CTE'")).to.be.greaterThan(0);
        const statuses = db.prepare('SELECT DISTINCT studentStatus FROM ProgramParticipation').pluck().all();
        expect(statuses).to.include.members(['Concentrator', 'Completer', 'Participant', 'Exited']);
      });

      it('leaves some CTE programs unmapped for programTypeDescriptor, with students in them', () => {
        const unmapped = `SELECT g.programID FROM Program g JOIN EdFiConfiguration c USING (districtID)
          WHERE g.type = 'CTE' AND g.active = 1 AND NOT EXISTS (SELECT 1 FROM EdFiResourcePreference r WHERE r.configID = c.configID
            AND r.resource = 'programs' AND r.element = 'programTypeDescriptor' AND r.campusValue = g.code)`;
        expect(count(unmapped)).to.be.greaterThan(0);
        expect(count(`SELECT 1 FROM ProgramParticipation WHERE programID IN (${unmapped})`)).to.be.greaterThan(0);
      });

      it('sets up one connection per district and school year, one toggled off and one explicitly on', () => {
        expect(one<number>('SELECT count(*) FROM EdFiConfiguration')).to.equal(count('SELECT 1 FROM District') * 2);
        expect(count('SELECT 1 FROM EdFiResourceToggle WHERE enabled = 0')).to.be.greaterThan(0);
        expect(count('SELECT 1 FROM EdFiResourceToggle WHERE enabled = 1')).to.be.greaterThan(0);
        expect(count("SELECT 1 FROM EdFiResourcePreference WHERE element IN ('programTypeDescriptor', 'careerPathwayDescriptor')")).to.be.greaterThan(0);
      });

      it('fills the Career Cluster and CTE Program Type state reporting fields, with a few left blank', () => {
        const allowed = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '14', '15', '16'];
        const clusters = db.prepare("SELECT DISTINCT careerCluster FROM Enrollment WHERE careerCluster <> ''").pluck().all() as string[];
        expect(clusters.filter((c) => !allowed.includes(c))).to.deep.equal([]);
        const cteEnrollments = `SELECT * FROM Enrollment WHERE personID IN (SELECT personID FROM ProgramParticipation JOIN Program USING (programID) WHERE type = 'CTE')`;
        expect(count(`${cteEnrollments} AND (careerCluster IS NULL OR careerCluster = '')`)).to.be.greaterThan(0);
        expect(count(`${cteEnrollments} AND (cteProgramType IS NULL OR cteProgramType = '')`)).to.be.greaterThan(0);
        expect(db.prepare("SELECT DISTINCT cteProgramType FROM Enrollment WHERE cteProgramType <> ''").pluck().all())
          .to.include.members(['Agriculture', 'Business', 'Health Sciences', 'Technology & Engineering']);
      });
    });

    it('generates 5,000 students that pass the schema check', function () {
      this.timeout(60_000);
      const profile = projectProfiles()[0]!;
      const summary = generateSnapshot({ students: 5000, seed: 5, out: join(dir, 'five-thousand.sqlite'), profile, endYears: [2026] });
      expect(summary.counts['Person']).to.equal(5000);
      expect(summary.counts['Enrollment']).to.be.greaterThan(5000);
      const db = openSnapshot(summary.out);
      try {
        expect(db.prepare('SELECT DISTINCT profile FROM EdFiConfiguration').pluck().all()).to.deep.equal([profile]);
        expect(db.prepare('SELECT endYear FROM SchoolYear ORDER BY 1').pluck().all()).to.deep.equal([2025, 2026]);
      } finally {
        db.close();
      }
    });
  });
});
