import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { initProfile } from '../src/cli/commands/init-profile.js';
import { runFixtures } from '../src/fixtures/run-fixtures.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { ConfigError, formatProblem } from '../src/util/errors.js';
import { repoPath } from '../src/util/repo-root.js';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

const CLI = repoPath('bin', 'edfi-sync.js');

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

describe('analyst workflow: broken files give located messages', function () {
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());
  const load = (): string[] => problemsOf(() => loadProfile(p.profileFile, p.dir));

  it('bad YAML names the file and line', function () {
    p.edit('rules/sample/rules.yaml', '  - id: sample.exclude.withdrawn', '  - id: [sample.exclude.withdrawn');
    expect(load().join('\n')).to.match(/rules\/sample\/rules\.yaml:\d+:\d+: YAML syntax/);
  });

  it('a bad indentation names the file, the line, the rule being edited, and only once', function () {
    const text = p.read('rules/sample/rules.yaml');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => /^\s+spec:/.test(l) && lines.slice(0, lines.indexOf(l)).some((x) => x.includes('id: sample.exclude.withdrawn')));
    expect(at).to.be.greaterThan(0);
    p.edit('rules/sample/rules.yaml', lines[at]!, ` ${lines[at]!}`);
    const problems = load();
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/rules\/sample\/rules\.yaml:\d+:\d+ \[sample\.exclude\.withdrawn\]: YAML syntax: /).and.to.contain('(the line: ');
    expect(problems[0]).to.not.match(/at line \d+, column \d+/);
  });

  it('an unknown operator names file, line and rule id', function () {
    p.edit('rules/sample/rules.yaml', 'operator: equal, value: Withdrawn }', 'operator: equals, value: Withdrawn }');
    expect(load().join('\n')).to.match(/rules\.yaml:\d+:\d+ \[sample\.exclude\.withdrawn\]: unknown operator 'equals'/);
  });

  it('a JSONata syntax error names the line inside the expression and the field id', function () {
    p.edit('mappings/sample/mapping.yaml', '"programName": programName,', '"programName": programName +,');
    const broken = p.read('mappings/sample/mapping.yaml').split('\n').findIndex((l) => l.includes('programName +,')) + 1;
    expect(load().join('\n')).to.contain(`mapping.yaml:${broken}:`).and.to.contain('[sample.map.program-reference]').and.to.contain('JSONata syntax error');
  });

  it('an unknown fact lists the facts the source query gives', function () {
    p.edit('rules/sample/rules.yaml', '{ fact: studentStatus,', '{ fact: studentState,');
    expect(load().join('\n')).to.match(/\[sample\.exclude\.withdrawn\]: unknown fact 'studentState' \(the source query and connection give: .*studentStatus/);
  });

  it('a duplicate rule id and a missing spec are both reported, with every other problem', function () {
    p.edit('rules/sample/rules.yaml', 'id: sample.exclude.withdrawn', 'id: sample.trigger.program-overlaps-year');
    p.edit('mappings/sample/mapping.yaml', /    spec: "Sample: the program\."\n/, '');
    const text = load().join('\n');
    expect(text).to.contain('duplicate rule id');
    expect(text).to.contain("[sample.map.program-reference]: fields.3: missing required property 'spec'");
    const cli = p.cli('validate', '--profile', p.profileFile);
    expect(cli.status).to.equal(3);
    expect(cli.stdout).to.contain("missing required property 'spec'").and.to.contain('duplicate rule id');
  });

  it('a fixture with a wrong expectation fails with the line of the expectation', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', "endDate: '2026-05-20'\n        reasonExitedDescriptor", "endDate: '2026-05-21'\n        reasonExitedDescriptor");
    const run = await runFixtures(loadProfile(p.profileFile, p.dir), { only: '01-sent', cwd: p.dir });
    const diffs = run.cases[0]!.steps[0]!.differences;
    expect(diffs).to.have.length(1);
    expect(diffs[0]!.message).to.contain('endDate');
    expect(diffs[0]!.line).to.equal(p.read('profiles/sample/fixtures/01-sent.yaml').split('\n').findIndex((l) => l.includes("beginDate: '2025-08-25'")) + 1);
  });
});

describe('Core specification: a mutation of any Core rule makes the Core fixtures fail', function () {
  // These mutations are of Core's own rules, mapping and queries: they test that Core's fixtures pin Core's spec.
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
      const dir = mkdtempSync(join(tmpdir(), 'edfi-analyst-'));
      try {
        initProfile('m', 'core', dir);
        const file = join(dir, m.file);
        const { readFileSync, writeFileSync } = await import('node:fs');
        const text = readFileSync(file, 'utf8');
        expect(text, `mutation "${m.what}" does not apply`).to.satisfy((t: string) => (typeof m.from === 'string' ? t.includes(m.from) : m.from.test(t)));
        writeFileSync(file, text.replace(m.from, m.to));
        const run = await runFixtures(loadProfile(join(dir, 'profiles/m/profile.yaml'), dir), { cwd: dir });
        const failed = run.cases.filter((c) => !c.passed).length;
        const uncovered = run.coverage.filter((r) => r.hits === 0).length;
        expect(failed + uncovered, `the mutation "${m.what}" went unnoticed`).to.be.greaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('a state profile is data: a copied and edited profile runs with no code change', function () {
  it('init-profile copies a profile under a new name; one rule changed in YAML changes the plan', function () {
    const p = sampleProject();
    try {
      initProfile('newstate', 'sample', p.dir);
      const snapshot = p.path('snap.sqlite');
      buildSnapshotFromFixture(loadFixture(`
base: standard
tables:
  EdFiConfiguration:
    - { configID: 1, districtID: 1, endYear: 2026, profile: newstate }
  Person:
    - { personID: 10, stateID: '1000000010' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 2, startDate: '2025-08-20', studentStatus: Withdrawn }
`), snapshot);
      const plan = (): Array<{ method: string; sourceKey: string; rules: string[] }> =>
        execFileSync(process.execPath, [CLI, 'plan', '--profile', 'newstate', '--snapshot', snapshot, '--quiet'], { cwd: p.dir, encoding: 'utf8' })
          .split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; sourceKey: string; rules: string[] });
      expect(plan(), 'Withdrawn is excluded before the edit').to.deep.equal([]);
      p.edit('rules/newstate/rules.yaml', '{ fact: studentStatus, operator: equal, value: Withdrawn }', '{ fact: studentStatus, operator: equal, value: Moved }');
      const ops = plan();
      expect(ops.map((o) => `${o.method} ${o.sourceKey}`)).to.deep.equal(['POST participationID=1000']);
      expect(ops[0]!.rules.every((r) => r.startsWith('newstate.'))).to.equal(true);
    } finally {
      p.remove();
    }
  });
});
