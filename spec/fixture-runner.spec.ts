import { rmSync } from 'node:fs';
import { expect } from 'chai';
import { fixtureReport } from '../src/fixtures/report.js';
import { runFixtures, type FixtureRun } from '../src/fixtures/run-fixtures.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

// The fixture runner on the engine's sample project: failures say why, coverage counts every kind of rule.
describe('edfi-sync test: fixture failures explain themselves', function () {
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());

  const run = async (only?: string): Promise<FixtureRun> => runFixtures(loadProfile(p.profileFile, p.dir), { cwd: p.dir, only });
  /** Every difference of the run with its why-lines, as text. */
  const failures = (r: FixtureRun): string => r.cases.flatMap((c) => c.steps.flatMap((s) => s.differences.map((d) => [d.message, ...(d.why ?? [])].join('\n')))).join('\n---\n');

  it('the sample passes with every rule, field and check exercised', async function () {
    const r = await run();
    expect(failures(r)).to.equal('');
    expect(r.coverage.filter((c) => c.hits === 0)).to.deep.equal([]);
    expect([...new Set(r.coverage.map((c) => c.kind))]).to.deep.equal(['rule', 'mapping field', 'key-change field', 'immutable field', 'delete rule', 'sanity rule']);
  });

  it('a missing POST names the exclusion that stopped it, with the values it compared', async function () {
    p.edit('rules/sample/rules.yaml', '{ fact: studentStatus, operator: equal, value: Withdrawn }', '{ fact: studentStatus, operator: notEqual, value: Withdrawn }');
    const text = failures(await run('01'));
    expect(text).to.contain('expected POST participationID=1000, but the plan has no such operation\nrules: excluded\n  exclude sample.exclude.withdrawn fires: studentStatus = null  notEqual  "Withdrawn" -> true');
  });

  it('a second difference about the same record refers to the rules shown for the first', async function () {
    p.edit('rules/sample/rules.yaml', '{ fact: studentStatus, operator: equal, value: Withdrawn }', '{ fact: studentStatus, operator: equal, value: Moved }');
    const text = failures(await run('01'));
    expect(text).to.contain('unexpected POST participationID=1001');
    expect(text).to.contain('expected participationID=1001 not to be sent (by sample.exclude.withdrawn), but it was not excluded\nthe plan has POST participationID=1001 instead (new record)\nrules: as above for participationID=1001');
  });

  it('a missing POST names the trigger that did not hold', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', "startDate: '2025-08-25', endDate: '2026-05-20' }", "startDate: '2024-08-25', endDate: '2025-05-20' }");
    const text = failures(await run('01'));
    expect(text).to.match(/rules: not-triggered\n  trigger sample\.trigger\.program-overlaps-year does not hold: programPeriod = \{"start":"2024-08-25","end":"2025-05-20"\}  overlapsPeriod  \{"start":"2025-07-01","end":"2026-06-30"\} -> false/);
  });

  it('a record held back by the Ed-Fi schema says which field', async function () {
    p.edit('mappings/sample/mapping.yaml', '"programName": programName,', '"programName": null,');
    const text = failures(await run('01'));
    expect(text).to.match(/held back by the Ed-Fi schema check: programReference\.programName is required \(mapped by sample\.map\.program-reference at [^)]*\) \(error log: sample\.error\.required-field\)/);
  });

  it('a record held back by a sanity rule names the rule and the values', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', "startDate: '2025-08-25', endDate: '2026-05-20' }", "startDate: '2025-08-25', endDate: '2025-08-01' }");
    const text = failures(await run('01'));
    expect(text).to.contain('held back by sanity rule sample.sanity.begin-after-end: beginDate 2025-08-25 is after endDate 2025-08-01 (error log: sample.sanity.begin-after-end)');
  });

  it('a record held back as a duplicate natural key names the record it repeats', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', "    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25', studentStatus: Withdrawn }",
      "    - { participationID: 999, personID: 10, programID: 1, startDate: '2025-08-25' }\n    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25', studentStatus: Withdrawn }");
    const text = failures(await run('01'));
    expect(text).to.contain('expected POST participationID=1000, but the plan has no such operation\nheld back by the duplicate natural key check (another record of the connection has the same natural key): same natural key as participationID=999');
  });

  it('a record held back by an immutable field names the field', async function () {
    p.edit('profiles/sample/fixtures/03-checks.yaml', '      operations: []', '      operations:\n        - { method: PUT, sourceKey: participationID=1001 }');
    const text = failures(await run('03'));
    expect(text).to.contain('held back by immutable field sample.immutable.lea: educationOrganizationReference.educationOrganizationId changed after the record was sent (was 1234567)');
  });

  it("a record held back by the state's published descriptor list says so", async function () {
    p.write('profiles/sample/descriptors.yaml', 'descriptors:\n  - descriptor: ReasonExitedDescriptor\n    namespace: uri://sample.example.org/ReasonExitedDescriptor\n    values:\n      - { codeValue: Graduated }\n');
    p.edit('profiles/sample/profile.yaml', 'descriptorNamespaces:\n  default: uri://ed-fi.org', 'descriptorNamespaces:\n  default: uri://ed-fi.org\n  ReasonExitedDescriptor: uri://sample.example.org\ndescriptors:\n  - profiles/sample/descriptors.yaml');
    const text = failures(await run('02'));
    expect(text).to.contain("held back by the state's published descriptor lists: reasonExitedDescriptor: 'uri://sample.example.org/ReasonExitedDescriptor#Other' is not a published ReasonExitedDescriptor value");
  });

  it('an unexpected operation shows every rule with its values; a record the query does not return says so', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', '    - method: POST\n      sourceKey: participationID=1000', '    - method: POST\n      sourceKey: participationID=9999');
    const text = failures(await run('01'));
    expect(text).to.contain('expected POST participationID=9999, but the plan has no such operation\nthe source query (profiles/sample/source.sql) returns no record participationID=9999 in connection(s) 1:2026');
    expect(text).to.match(/unexpected POST participationID=1000 \(new record; rules [^)]*\)\nrules: kept\n  trigger sample\.trigger\.program-overlaps-year holds: programPeriod = .* -> true\n  exclude sample\.exclude\.withdrawn does not fire: studentStatus = null  equal  "Withdrawn" -> false/);
  });

  it('an unexpected key change shows the old and new values', async function () {
    p.edit('profiles/sample/fixtures/02-changes.yaml', "        - { $merge: true, participationID: 1000, studentStatus: Exited }", "        - { $merge: true, participationID: 1000, startDate: '2025-09-01' }");
    p.edit('profiles/sample/fixtures/02-changes.yaml', /      operations:\n        - \{ method: DELETE, sourceKey: participationID=1000, rules: \[sample\.key\.status\] \}\n        - \{ method: POST[^\n]*\n/, '      operations: []\n');
    const text = failures(await run('02'));
    expect(text).to.contain('unexpected DELETE participationID=1000');
    expect(text).to.contain('key change: beginDate (beginDate: "2025-08-25" -> "2025-09-01")');
  });

  it('a fixture expecting null for a field the resource does not have fails, and suggests the field', async function () {
    p.edit('profiles/sample/fixtures/01-sent.yaml', '        reasonExitedDescriptor: null', '        reasonExitedDescripter: null');
    const r = await run('01');
    expect(r.cases[0]!.passed).to.equal(false);
    expect(failures(r)).to.contain("POST participationID=1000 body reasonExitedDescripter: 'reasonExitedDescripter' is not a field of studentCTEProgramAssociations (did you mean 'reasonExitedDescriptor'?)");
  });
});

describe('edfi-sync test: coverage and the result line', function () {
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());

  /** The line of a file of the copy that holds the text. */
  const lineOf = (rel: string, text: string): number => p.read(rel).split('\n').findIndex((l) => l.includes(text)) + 1;

  it('a key-change field, a delete rule and a mapping field no fixture exercises are failures, and the result line counts them', async function () {
    rmSync(p.path('profiles/sample/fixtures/02-changes.yaml'));
    const out = p.cli('test', '--profile', 'sample');
    expect(out.status).to.equal(1);
    const at = (rel: string, text: string): string => `${rel}:${lineOf(rel, text)}`;
    expect(out.stdout).to.contain(`FAIL  key-change field sample.key.status (reasonExitedDescriptor) (${at('profiles/sample/profile.yaml', 'id: sample.key.status')}) never causes a key change (DELETE + POST) in any fixture`);
    expect(out.stdout).to.contain(`FAIL  delete rule sample.delete.not-in-campus (${at('profiles/sample/profile.yaml', 'id: sample.delete.not-in-campus')}) never deletes a record in any fixture`);
    expect(out.stdout).to.contain(`FAIL  mapping field sample.map.reason-exited (reasonExitedDescriptor) (${at('mappings/sample/mapping.yaml', 'id: sample.map.reason-exited')}) is never produced with a value in any fixture`);
    expect(out.stdout.trim().split('\n').pop()).to.equal('FAILED: sample: 2 of 2 fixture(s) passed, 3 coverage gap(s)');
  });

  it('an immutable field and a sanity rule no fixture exercises are failures', async function () {
    rmSync(p.path('profiles/sample/fixtures/03-checks.yaml'));
    const out = p.cli('test', '--profile', 'sample');
    expect(out.stdout).to.match(/FAIL {2}immutable field sample\.immutable\.lea .* never holds a changed record back in any fixture/);
    expect(out.stdout).to.match(/FAIL {2}sanity rule sample\.sanity\.begin-after-end .* never fires in any fixture/);
    expect(out.stdout.trim().split('\n').pop()).to.equal('FAILED: sample: 2 of 2 fixture(s) passed, 2 coverage gap(s)');
  });

  it('all green: exit 0 and a result line with full coverage', function () {
    const out = p.cli('test', '--profile', 'sample');
    expect(out.status, out.stdout + out.stderr).to.equal(0);
    expect(out.stdout.trim().split('\n').pop()).to.equal('OK: sample: 3 of 3 fixture(s) passed, full coverage');
  });

  it('--only reports the coverage of what ran, not everything else as uncovered', async function () {
    const out = p.cli('test', '--profile', 'sample', '--only', '01');
    expect(out.status, out.stdout).to.equal(0);
    expect(out.stdout).to.contain('Profile sample: 1 fixture(s) of 3 (--only 01)');
    expect(out.stdout).to.contain('Coverage of the 1 fixture(s) that ran (what they exercised):');
    expect(out.stdout).to.match(/sample\.exclude\.withdrawn\s+stopped {3}1 {2}let through {3}2/);
    expect(out.stdout).to.not.contain('sample.key.status');
    expect(out.stdout).to.not.contain('!!');
    expect(out.stdout).to.not.match(/FAIL/);
    expect(out.stdout.trim().split('\n').pop()).to.equal('OK: sample: 1 of 1 fixture(s) passed, coverage not judged (--only)');
  });

  it('the report of a failing run: every FAIL line above the result line is counted in it', async function () {
    p.edit('rules/sample/rules.yaml', 'value: Withdrawn }', 'value: Withdrawn2 }');
    const r = await runFixtures(loadProfile(p.profileFile, p.dir), { cwd: p.dir });
    const report = fixtureReport('sample', r);
    const fails = report.text.split('\n').filter((l) => /^ {2}FAIL {2}/.test(l));
    const fixturesFailed = fails.filter((l) => /\.yaml/.test(l) && !/ never /.test(l)).length;
    const gaps = fails.length - fixturesFailed;
    expect(report.ok).to.equal(false);
    expect(report.text.split('\n').pop()).to.equal(`FAILED: sample: ${3 - fixturesFailed} of 3 fixture(s) passed, ${fixturesFailed} failed, ${gaps} coverage gap(s)`);
    expect(gaps).to.equal(1);
  });
});
