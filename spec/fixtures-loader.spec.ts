import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { buildSnapshotFromFixture, FixtureError, loadFixture } from '../src/snapshot/fixture.js';
import type { Fixture } from '../src/snapshot/fixture.js';
import { findSnapshotProblems, openSnapshot } from '../src/snapshot/open.js';
import { repoPath } from '../src/util/repo-root.js';

const NO_SHOW = `
description: A student whose only enrollment is a no-show.
base: standard
profile: sample
tables:
  District:
    - { $merge: true, districtID: 1, number: 0480101 }
  School:
    - { schoolID: 1, districtID: 1, name: Replaced High School, exclude: true }
  Calendar:
    - { $merge: true, calendarID: 1, exclude: 1 }
  Person:
    - { personID: 1, stateID: 0012345678, firstName: Ana }
  Enrollment:
    - { enrollmentID: 1, personID: 1, calendarID: 1, startDate: 2025-08-20, noShow: true, careerCluster: 8, cteProgramType: Health Sciences }
    - { enrollmentID: 2, personID: 1, calendarID: 1, startDate: 2025-08-21, careerCluster: '', cteProgramType: ~ }
  Program:
    - { programID: 3, districtID: 1, name: Ag Mechanics, code: AGMECH, type: CTE, stateCode: 01.0201 }
  ProgramParticipation:
    - { participationID: 1, personID: 1, programID: 2, startDate: 2025-08-20, studentStatus: Completer, nonTraditional: true }
  EdFiResourcePreference:
    - { $delete: true, configID: 1, resource: studentCTEProgramAssociations, element: reasonExitedDescriptor, campusValue: Exited }
    - { configID: 1, resource: programs, element: programTypeDescriptor, campusValue: NURSA, edfiCode: Career and Technical Education }
    - { configID: 1, resource: studentCTEProgramAssociations, element: cteProgramCompletionIndicator, campusValue: Completer, edfiCode: true }
`;

describe('fixture loader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fixture-spec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const errorOf = (fn: () => unknown): FixtureError => {
    try {
      fn();
    } catch (err) {
      expect(err).to.be.instanceOf(FixtureError);
      return err as FixtureError;
    }
    throw new Error('expected a FixtureError');
  };

  describe('with base: standard', () => {
    let db: Database.Database;
    let fixture: Fixture;
    const rows = (sql: string, ...params: unknown[]): unknown[] => db.prepare(sql).all(...params);

    before(() => {
      // The engine's sample project gives the connection (profiles/sample/fixture-base.yaml).
      fixture = loadFixture(NO_SHOW, 'no-show.yaml', { projectRoot: repoPath('spec', 'sample-project') });
      const file = join(dir, 'no-show.sqlite');
      const counts = buildSnapshotFromFixture(fixture, file);
      expect(counts['Enrollment']).to.equal(2);
      db = openSnapshot(file);
    });
    after(() => db?.close());

    it('keeps the description and the profile', () => {
      expect(fixture.description).to.equal('A student whose only enrollment is a no-show.');
      expect(fixture.profile).to.equal('sample');
    });

    it('brings the standard world, with the connection of the chosen profile', () => {
      expect(rows('SELECT endYear, startDate, endDate FROM SchoolYear')).to.deep.equal([{ endYear: 2026, startDate: '2025-07-01', endDate: '2026-06-30' }]);
      expect(rows('SELECT configID, districtID, endYear, profile, enabled FROM EdFiConfiguration'))
        .to.deep.equal([{ configID: 1, districtID: 1, endYear: 2026, profile: 'sample', enabled: 1 }]);
    });

    it('replaces a base row with the same primary key, and $merge changes only the columns given', () => {
      expect(rows('SELECT schoolID, name, number, exclude FROM School')).to.deep.equal([{ schoolID: 1, name: 'Replaced High School', number: null, exclude: 1 }]);
      expect(rows('SELECT calendarID, name, exclude FROM Calendar')).to.deep.equal([{ calendarID: 1, name: '2025-26 Standard High School', exclude: 1 }]);
      expect(rows('SELECT edfiCode FROM EdFiResourcePreference WHERE element = ?', 'cteProgramCompletionIndicator')).to.deep.equal([{ edfiCode: 'true' }]);
    });

    it('removes a base row with $delete', () => {
      expect(rows("SELECT campusValue FROM EdFiResourcePreference WHERE element = 'reasonExitedDescriptor'")).to.deep.equal([]);
      expect(rows("SELECT campusValue FROM EdFiResourcePreference WHERE resource = 'programs'")).to.deep.equal([{ campusValue: 'NURSA' }]);
    });

    it('fills omitted columns from their DEFAULTs and converts YAML booleans to 0/1', () => {
      expect(rows('SELECT enrollmentID, noShow, endDate FROM Enrollment ORDER BY 1')).to.deep.equal([
        { enrollmentID: 1, noShow: 1, endDate: null },
        { enrollmentID: 2, noShow: 0, endDate: null },
      ]);
      expect(rows('SELECT active FROM Program WHERE programID = 3')).to.deep.equal([{ active: 1 }]);
      expect(rows('SELECT nonTraditional FROM ProgramParticipation')).to.deep.equal([{ nonTraditional: 1 }]);
    });

    it('keeps text columns exactly as typed: leading zeros, CIP codes, blank versus NULL', () => {
      expect(rows('SELECT number FROM District')).to.deep.equal([{ number: '0480101' }]);
      expect(rows('SELECT stateID FROM Person')).to.deep.equal([{ stateID: '0012345678' }]);
      expect(rows('SELECT stateCode FROM Program WHERE programID = 3')).to.deep.equal([{ stateCode: '01.0201' }]);
      expect(rows('SELECT careerCluster, cteProgramType FROM Enrollment ORDER BY enrollmentID')).to.deep.equal([
        { careerCluster: '8', cteProgramType: 'Health Sciences' },
        { careerCluster: '', cteProgramType: null },
      ]);
    });

    it('writes a snapshot that passes the schema check', () => {
      expect(findSnapshotProblems(db)).to.deep.equal([]);
    });
  });

  it('loads a fixture from a file and works without a base', () => {
    const file = join(dir, 'bare.yaml');
    writeFileSync(file, 'tables:\n  District:\n    - { districtID: 7, name: Bare, number: "7654321" }\n');
    const fixture = loadFixture({ file });
    expect(fixture.name).to.equal(file);
    expect(fixture.profile).to.equal(undefined);
    expect(fixture.tables).to.deep.equal({ District: [{ districtID: 7, name: 'Bare', number: '7654321' }] });
  });

  it('accepts a hand-made fixture object', () => {
    const out = join(dir, 'object.sqlite');
    buildSnapshotFromFixture({ tables: { District: [{ districtID: 1, name: 'D', number: '1234567' }] } }, out);
    const db = new Database(out, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM District').pluck().get()).to.equal(1);
    db.close();
  });

  describe('errors', () => {
    it('names the file, line and table of a bad column and lists the valid columns', () => {
      const file = join(dir, 'bad-column.yaml');
      writeFileSync(file, 'base: standard\ntables:\n  Enrollment:\n    - { enrollmentID: 1, personID: 1, calendarID: 1, startDate: 2025-08-20, noshow: 1 }\n');
      const err = errorOf(() => loadFixture({ file }));
      expect(err.fixture).to.equal(file);
      expect(err.message).to.contain(`Fixture ${file} line 4, table Enrollment: unknown column 'noshow' (did you mean 'noShow'?)`);
      expect(err.message).to.contain('Valid columns: enrollmentID, personID, calendarID, startDate, endDate, noShow, careerCluster, cteProgramType');
    });

    it('names an unknown table and lists the valid ones', () => {
      const err = errorOf(() => loadFixture('tables:\n  Enrollments: []\n', 'typo.yaml'));
      expect(err.message).to.match(/typo\.yaml line 2: unknown table 'Enrollments'\. Valid tables: District, School, /);
    });

    it('rejects unknown top-level keys, unknown bases and profiles', () => {
      expect(errorOf(() => loadFixture('tabels: {}\n', 'f.yaml')).message).to.match(/unknown key 'tabels'\. Allowed: description, base, profile, allowOrphans, tables/);
      expect(errorOf(() => loadFixture('base: huge\n', 'f.yaml')).message).to.match(/unknown base 'huge'/);
      expect(errorOf(() => loadFixture('base: standard\nprofile: texas\n', 'f.yaml')).message).to.match(/no connection for profile 'texas' \(no profiles\/texas\/fixture-base.yaml\)/);
    });

    it('rejects $delete of a row the base does not have, and $delete without a base', () => {
      expect(errorOf(() => loadFixture('base: standard\ntables:\n  School:\n    - { $delete: true, schoolID: 9 }\n', 'f.yaml')).message)
        .to.contain('f.yaml line 4, table School: $delete found no base row with schoolID 9');
      expect(errorOf(() => loadFixture('tables:\n  School:\n    - { $delete: true, schoolID: 1 }\n', 'f.yaml')).message)
        .to.contain("$delete only applies to rows of a base (add 'base: standard')");
    });

    it('reports invalid YAML with the file name', () => {
      expect(errorOf(() => loadFixture('tables: [\n', 'broken.yaml')).message).to.match(/^Fixture broken\.yaml: invalid YAML/);
    });

    it('reports a missing NOT NULL column with the row it came from', () => {
      const fixture = loadFixture('base: standard\ntables:\n  Person:\n    - { personID: 1 }\n  Enrollment:\n    - { enrollmentID: 1, personID: 1, calendarID: 1 }\n', 'no-start.yaml');
      const err = errorOf(() => buildSnapshotFromFixture(fixture, join(dir, 'no-start.sqlite')));
      expect(err.message).to.equal('Fixture no-start.yaml line 6, table Enrollment: NOT NULL constraint failed: Enrollment.startDate');
    });

    it('reports rows that point at missing parents unless allowOrphans is set', () => {
      const yaml = 'base: standard\ntables:\n  Enrollment:\n    - { enrollmentID: 5, personID: 99, calendarID: 1, startDate: 2025-08-20 }\n';
      const err = errorOf(() => buildSnapshotFromFixture(loadFixture(yaml, 'orphan.yaml'), join(dir, 'orphan.sqlite')));
      expect(err.message).to.contain('orphan.yaml line 4, table Enrollment (enrollmentID 5): personID 99 has no Person row');
      const counts = buildSnapshotFromFixture(loadFixture(`allowOrphans: true\n${yaml}`, 'orphan-ok.yaml'), join(dir, 'orphan-ok.sqlite'));
      expect(counts['Enrollment']).to.equal(1);
    });
  });

  it('a standard world without a profile has no Ed-Fi connection: the fixture gives its own', () => {
    const fixture = loadFixture('base: standard\n', 'no-profile.yaml');
    expect(fixture.tables['EdFiConfiguration'] ?? []).to.deep.equal([]);
    expect(fixture.tables['EdFiResourcePreference'] ?? []).to.deep.equal([]);
    expect(fixture.tables['District']).to.have.length(1);
  });
});
