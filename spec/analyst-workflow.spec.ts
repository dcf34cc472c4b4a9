import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { initProfile } from '../src/cli/commands/init-profile.js';
import { runFixtures } from '../src/fixtures/run-fixtures.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ConfigError, formatProblem } from '../src/util/errors.js';
import { repoPath } from '../src/util/repo-root.js';

const CLI = repoPath('bin', 'edfi-sync.js');

/** A throwaway project folder holding a copy of a shipped profile, for edits a test makes. */
function copyProfile(name: string, from: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'edfi-analyst-'));
  initProfile(name, from, dir);
  return dir;
}

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file} changed nothing (${String(from)})`);
  writeFileSync(file, next);
}

describe('analyst workflow: broken files give located messages', function () {
  let dir: string;
  beforeEach(() => (dir = copyProfile('teststate', 'core')));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const profileFile = (): string => join(dir, 'profiles', 'teststate', 'profile.yaml');

  it('bad YAML names the file and line', function () {
    edit(join(dir, 'rules/teststate/exclusions.yaml'), '  - id: teststate.exclude.no-show', '  - id: [teststate.exclude.no-show');
    const p = problemsOf(() => loadProfile(profileFile(), dir));
    expect(p.join('\n')).to.match(/rules\/teststate\/exclusions\.yaml:\d+:\d+: YAML syntax/);
  });

  it('an unknown operator names file, line and rule id', function () {
    edit(join(dir, 'rules/teststate/exclusions.yaml'), 'operator: isTrue, value: true }', 'operator: isTrueish, value: true }');
    const p = problemsOf(() => loadProfile(profileFile(), dir));
    expect(p.join('\n')).to.match(/exclusions\.yaml:\d+:\d+ \[teststate\.exclude\.no-show\]: unknown operator 'isTrueish'/);
  });

  it('a JSONata syntax error names the line inside the expression and the field id', function () {
    edit(join(dir, 'mappings/teststate/studentCTEProgramAssociations.yaml'), '"cipCode": cipCode,', '"cipCode": cipCode +,');
    const p = problemsOf(() => loadProfile(profileFile(), dir));
    const lines = readFileSync(join(dir, 'mappings/teststate/studentCTEProgramAssociations.yaml'), 'utf8').split('\n');
    const broken = lines.findIndex((l) => l.includes('cipCode +,')) + 1;
    expect(p.join('\n')).to.contain(`studentCTEProgramAssociations.yaml:${broken}:`).and.to.contain('[teststate.map.cte-programs]').and.to.contain('JSONata syntax error');
  });

  it('an unknown fact lists the facts the source query gives', function () {
    edit(join(dir, 'rules/teststate/exclusions.yaml'), '{ fact: noShow,', '{ fact: noShowFlag,');
    const p = problemsOf(() => loadProfile(profileFile(), dir));
    expect(p.join('\n')).to.match(/\[teststate\.exclude\.no-show\]: unknown fact 'noShowFlag' \(the source query and connection give: .*noShow/);
  });

  it('a duplicate rule id and a missing spec are both reported, with every other problem', function () {
    edit(join(dir, 'rules/teststate/exclusions.yaml'), 'id: teststate.exclude.calendar-exclude', 'id: teststate.exclude.no-show');
    edit(join(dir, 'rules/teststate/triggering.yaml'), /    spec: "Only CTE programs[^\n]*\n/, '');
    const p = problemsOf(() => loadProfile(profileFile(), dir));
    expect(p.some((x) => /\[teststate\.trigger\.program-mapped\]: \(top level\)|program-mapped\]: rules\.2: missing required property 'spec'/.test(x)), p.join('\n')).to.equal(true);
    const cli = spawnSync(process.execPath, [CLI, 'validate', '--profile', profileFile()], { cwd: dir, encoding: 'utf8' });
    expect(cli.status).to.equal(3);
    expect(cli.stdout).to.contain("missing required property 'spec'");
  });

  it('validate lists every problem across files, not only the first', function () {
    edit(join(dir, 'rules/teststate/exclusions.yaml'), 'operator: isTrue, value: true }', 'operator: isTrueish, value: true }');
    edit(join(dir, 'mappings/teststate/studentCTEProgramAssociations.yaml'), 'expr: endDate', 'expr: endDate +');
    const cli = spawnSync(process.execPath, [CLI, 'validate', '--profile', profileFile()], { cwd: dir, encoding: 'utf8' });
    expect(cli.status).to.equal(3);
    expect(cli.stdout).to.contain("unknown operator 'isTrueish'").and.to.contain('JSONata syntax error');
  });

  it('a fixture with a wrong expectation fails with the line of the expectation', async function () {
    const fixture = join(dir, 'profiles/teststate/fixtures/01-new-record.yaml');
    edit(fixture, "nonTraditionalGenderStatus: true", 'nonTraditionalGenderStatus: false');
    const run = await runFixtures(loadProfile(profileFile(), dir), { only: '01-new-record', cwd: dir });
    const diffs = run.cases[0]!.steps[0]!.differences;
    expect(diffs).to.have.length(1);
    expect(diffs[0]!.message).to.contain('nonTraditionalGenderStatus');
    expect(diffs[0]!.line).to.be.a('number');
  });
});

describe('analyst workflow: a mutation of any shipped rule makes the fixtures fail', function () {
  const mutations: Array<{ what: string; file: string; from: string | RegExp; to: string }> = [
    { what: 'No Show exclusion turned around', file: 'rules/m/exclusions.yaml', from: '{ fact: noShow, operator: isTrue, value: true }', to: '{ fact: noShow, operator: isTrue, value: false }' },
    { what: 'School Exclude dropped', file: 'rules/m/exclusions.yaml', from: '{ fact: schoolExclude, operator: isTrue, value: true }', to: '{ fact: schoolExclude, operator: equal, value: 99 }' },
    { what: 'program mapping rule inverted', file: 'rules/m/triggering.yaml', from: '{ fact: programTypeCode, operator: isBlank, value: false }', to: '{ fact: programTypeCode, operator: isBlank, value: true }' },
    { what: 'privateCTEProgram reported true', file: 'mappings/m/studentCTEProgramAssociations.yaml', from: 'expr: "false"', to: 'expr: "true"' },
    { what: 'primary program chosen by earliest start', file: 'profiles/m/profile.yaml', from: 'orderBy: [startDate desc, participationID desc]', to: 'orderBy: [startDate asc, participationID desc]' },
    { what: 'certification priority reversed', file: 'profiles/m/source.sql', from: 'c.certificationDate DESC, c.certificationID DESC', to: 'c.certificationDate ASC, c.certificationID DESC' },
  ];
  for (const m of mutations) {
    it(m.what, async function () {
      const dir = copyProfile('m', 'core');
      try {
        edit(join(dir, m.file), m.from, m.to);
        const run = await runFixtures(loadProfile(join(dir, 'profiles/m/profile.yaml'), dir), { cwd: dir });
        const failed = run.cases.filter((c) => !c.passed).length;
        const uncovered = run.coverage.filter((r) => r.fired === 0).length;
        expect(failed + uncovered, `the mutation "${m.what}" went unnoticed`).to.be.greaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('a state profile is data: a copied and edited profile runs with no code change', function () {
  it('copies Missouri under a new name, changes one rule, and the plan follows the edit', function () {
    const dir = copyProfile('newstate', 'missouri');
    try {
      const snapshot = join(dir, 'snap.sqlite');
      // A Missouri-style world whose connection is labelled for the new profile.
      const fixture = loadFixture(`
base: standard
profile: missouri
tables:
  EdFiConfiguration:
    - { configID: 1, districtID: 1, endYear: 2026, profile: newstate }
  Person:
    - { personID: 10, stateID: '1000000010' }
  Enrollment:
    - { enrollmentID: 100, personID: 10, calendarID: 1, startDate: '2025-08-20', careerCluster: '8', cteProgramType: Health Sciences, noShow: 1 }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 2, startDate: '2025-08-20' }
`);
      buildSnapshotFromFixture(fixture, snapshot);
      const plan = (): string[] =>
        execFileSync(process.execPath, [CLI, 'plan', '--profile', 'newstate', '--snapshot', snapshot, '--quiet'], { cwd: dir, encoding: 'utf8' })
          .split('\n').filter(Boolean);
      expect(plan(), 'No Show is excluded before the edit').to.deep.equal([]);
      // The new state reports No Show enrollments: the analyst turns the exclusion off in YAML.
      edit(join(dir, 'rules/newstate/exclusions.yaml'), /\{ fact: noShow, operator: isTrue, value: true \}/, '{ fact: noShow, operator: equal, value: 99 }');
      const ops = plan().map((l) => JSON.parse(l) as { method: string; sourceKey: string; rules: string[] });
      expect(ops.map((o) => `${o.method} ${o.sourceKey}`)).to.deep.equal(['POST enrollmentID=100']);
      expect(ops[0]!.rules.every((r) => r.startsWith('newstate.'))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
