import { expect } from 'chai';
import { emitPlan } from '../src/emit/emitter.js';
import { OfflineApi } from '../src/fixtures/offline-api.js';
import { runFixtures } from '../src/fixtures/run-fixtures.js';
import { buildPlan } from '../src/plan/planner.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { conditionHolds, fillBodyTemplate, type BodyCondition } from '../src/sanity/body-conditions.js';
import { sanityCheck } from '../src/sanity/sanity-rules.js';
import { buildSnapshotFromFixture, loadFixture } from '../src/snapshot/fixture.js';
import { openSnapshot } from '../src/snapshot/open.js';
import { ErrorLog } from '../src/state/error-log.js';
import { emptyState } from '../src/state/state-db.js';
import { ConfigError, formatProblem } from '../src/util/errors.js';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

describe('sanity rules: the body condition language', function () {
  const body = { beginDate: '2025-09-02', endDate: '2025-09-01', ctePrograms: [{ cipCode: '48.0508' }, { cipCode: '51.3902' }], privateCTEProgram: false, studentReference: { studentUniqueId: '1' } };
  const holds = (c: BodyCondition): boolean => conditionHolds(c, body);

  it('compares two fields of the body as dates', function () {
    expect(holds({ field: 'beginDate', operator: 'after', value: { field: 'endDate' } })).to.equal(true);
    expect(holds({ field: 'beginDate', operator: 'before', value: { field: 'endDate' } })).to.equal(false);
    expect(holds({ field: 'endDate', operator: 'onOrBefore', value: '2025-09-01' })).to.equal(true);
    expect(holds({ field: 'endDate', operator: 'onOrAfter', value: '2025-09-02' })).to.equal(false);
  });

  it('an absent field never makes a comparison hold; isBlank tests for absence', function () {
    expect(holds({ field: 'beginDate', operator: 'after', value: { field: 'reasonExitedDescriptor' } })).to.equal(false);
    expect(holds({ field: 'reasonExitedDescriptor', operator: 'notEqual', value: 'x' })).to.equal(false);
    expect(holds({ field: 'reasonExitedDescriptor', operator: 'isBlank', value: true })).to.equal(true);
    expect(holds({ field: 'beginDate', operator: 'isBlank', value: false })).to.equal(true);
    expect(holds({ field: 'beginDate', operator: 'isBlank', value: true })).to.equal(false);
  });

  it('through an array a leaf holds when it holds for any item; all / any / not combine', function () {
    expect(holds({ field: 'ctePrograms.cipCode', operator: 'equal', value: '51.3902' })).to.equal(true);
    expect(holds({ field: 'ctePrograms.cipCode', operator: 'matches', value: '^99' })).to.equal(false);
    expect(holds({ all: [{ field: 'privateCTEProgram', operator: 'equal', value: false }, { not: { field: 'studentReference.studentUniqueId', operator: 'in', value: ['2', '3'] } }] })).to.equal(true);
    expect(holds({ any: [{ field: 'privateCTEProgram', operator: 'equal', value: true }, { field: 'endDate', operator: 'greaterThan', value: '2026' }] })).to.equal(false);
  });

  it('a leaf can read a fact of the record, for a value the body does not carry', function () {
    const facts = { endDate: '2025-08-01', enrollmentPeriod: { start: '2025-09-02', end: '2025-08-01' } };
    expect(conditionHolds({ field: 'beginDate', operator: 'after', value: { fact: 'endDate' } }, body, facts)).to.equal(true);
    expect(conditionHolds({ fact: 'enrollmentPeriod.start', operator: 'after', value: { fact: 'enrollmentPeriod.end' } }, body, facts)).to.equal(true);
    expect(conditionHolds({ field: 'beginDate', operator: 'after', value: { fact: 'endDate' } }, body)).to.equal(false);
    expect(fillBodyTemplate('{beginDate} / {fact:endDate}', body, facts)).to.equal('2025-09-02 / 2025-08-01');
  });

  it('fills message placeholders from the body', function () {
    expect(fillBodyTemplate('beginDate {beginDate} is after endDate {endDate}; CIP {ctePrograms.cipCode}; {reasonExitedDescriptor}', body))
      .to.equal('beginDate 2025-09-02 is after endDate 2025-09-01; CIP 48.0508, 51.3902; (none)');
  });

  it('is a BodyCheck: (body) => findings with id, message and severity', function () {
    const check = sanityCheck([{ id: 'x.sanity.dates', spec: 's', severity: 'warn', message: '{beginDate} > {endDate}', fix: 'f', when: { field: 'beginDate', operator: 'after', value: { field: 'endDate' } } }]);
    expect(check(body)).to.deep.equal([{ id: 'x.sanity.dates', severity: 'warn', message: '2025-09-02 > 2025-09-01' }]);
    expect(check({ ...body, endDate: '2026-01-01' })).to.deep.equal([]);
  });
});

/** Two records of the sample's world, the first with its begin date after its end date. */
const WORLD = `
base: standard
tables:
  EdFiConfiguration:
    - { configID: 1, districtID: 1, endYear: 2026, profile: sample }
  Person:
    - { personID: 10, stateID: '1000000010' }
    - { personID: 11, stateID: '1000000011' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-09-25', endDate: '2025-09-01' }
    - { participationID: 1001, personID: 11, programID: 1, startDate: '2025-08-25' }
`;

describe('sanity rules in a profile', function () {
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());

  const problems = (): string[] => {
    try {
      loadProfile(p.profileFile, p.dir);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map(formatProblem);
      throw err;
    }
  };
  const lineOf = (text: string): number => p.read('profiles/sample/profile.yaml').split('\n').findIndex((l) => l.includes(text)) + 1;

  it('are validated: a field the resource lacks, an unknown operator, a bad placeholder, a missing fix, each with file, line and id', function () {
    p.edit('profiles/sample/profile.yaml', '{ field: beginDate, operator: after, value: { field: endDate } }', '{ field: beginDate, operator: later, value: { field: endDat } }');
    p.edit('profiles/sample/profile.yaml', 'message: "beginDate {beginDate} is after endDate {endDate}"', 'message: "beginDate {begin} is after endDate {endDate}"');
    p.edit('profiles/sample/profile.yaml', /\n {4}fix: "Correct[^\n]*/, '');
    const text = problems().join('\n');
    expect(text).to.contain(`profiles/sample/profile.yaml:${lineOf('operator: later')}`);
    expect(text).to.contain("sanity.0.when.all.0.operator: must be one of");
    expect(text).to.contain("missing required property 'fix'");
    expect(text).to.contain('[sample.sanity.begin-after-end]');
    p.edit('profiles/sample/profile.yaml', 'operator: later', 'operator: after');
    p.edit('profiles/sample/profile.yaml', 'message: "beginDate', 'fix: "f"\n    message: "beginDate');
    const located = problems().join('\n');
    expect(located).to.contain(`profiles/sample/profile.yaml:${lineOf('value: { field: endDat }')}:`);
    expect(located).to.contain("[sample.sanity.begin-after-end]: value refers to field 'endDat' is not a field of studentCTEProgramAssociations (did you mean 'endDate'?)");
    expect(located).to.contain("placeholder {begin}: field 'begin' is not a field of studentCTEProgramAssociations");
    expect(located).to.contain("value refers to field 'endDat' is not a field");
    p.edit('profiles/sample/profile.yaml', 'value: { field: endDat }', 'value: { fact: endDat }');
    expect(problems().join('\n')).to.contain("[sample.sanity.begin-after-end]: value refers to unknown fact 'endDat' (the source query and connection give: ");
  });

  it('a sanity id that repeats an error-catalogue id is refused', function () {
    p.edit('profiles/sample/profile.yaml', 'id: sample.sanity.begin-after-end', 'id: sample.error.lea-change');
    expect(problems().join('\n')).to.contain("[sample.error.lea-change]: id 'sample.error.lea-change' is used twice");
  });

  it('hold: the record is not sent, and the error log names the rule with its message and fix', async function () {
    const profile = loadProfile(p.profileFile, p.dir);
    const snapshotFile = p.path('snap.sqlite');
    buildSnapshotFromFixture(loadFixture(WORLD), snapshotFile);
    const snapshot = openSnapshot(snapshotFile);
    const state = emptyState();
    try {
      const plan = await buildPlan({ profile, snapshot, state });
      expect(plan.operations.map((o) => `${o.method} ${o.sourceKey}`)).to.deep.equal(['POST participationID=1001']);
      await emitPlan({ api: new OfflineApi(), profile, plan, state, runId: null });
      const [entry] = new ErrorLog(state).list({ sourceKey: 'participationID=1000' });
      expect(entry).to.include({ catalogueId: 'sample.sanity.begin-after-end', level: 'error', fix: "Correct the program record's Start Date or End Date in Campus." });
      expect(entry!.message).to.contain('beginDate 2025-09-25 is after endDate 2025-09-01');
      expect(entry!.specMessage).to.equal('Sample: beginDate is the start and endDate the end of the program.');
    } finally {
      snapshot.close();
      state.close();
    }
  });

  it('warn: the record is sent, and a warning about that record is logged', async function () {
    p.edit('profiles/sample/profile.yaml', 'severity: hold', 'severity: warn');
    const profile = loadProfile(p.profileFile, p.dir);
    const snapshotFile = p.path('snap.sqlite');
    buildSnapshotFromFixture(loadFixture(WORLD), snapshotFile);
    const snapshot = openSnapshot(snapshotFile);
    const state = emptyState();
    try {
      const plan = await buildPlan({ profile, snapshot, state });
      expect(plan.operations.map((o) => `${o.method} ${o.sourceKey}`)).to.deep.equal(['POST participationID=1000', 'POST participationID=1001']);
      expect(plan.warnings).to.deep.equal([{ id: 'sample.sanity.begin-after-end', message: 'participationID=1000 (student 1000000010): beginDate 2025-09-25 is after endDate 2025-09-01', connection: '1:2026', sourceKey: 'participationID=1000', student: '1000000010' }]);
      await emitPlan({ api: new OfflineApi(), profile, plan, state, runId: null });
      const [entry] = new ErrorLog(state).list({ level: 'warning' });
      expect(entry).to.include({ catalogueId: 'sample.sanity.begin-after-end', sourceKey: 'participationID=1000', student: '1000000010', fix: "Correct the program record's Start Date or End Date in Campus." });
      // Sent and unchanged: the next night neither sends nor warns again.
      const again = await buildPlan({ profile, snapshot, state });
      expect(again.operations).to.deep.equal([]);
      expect(again.warnings).to.deep.equal([]);
    } finally {
      snapshot.close();
      state.close();
    }
  });

  it('a fixture can expect a warning by the rule id', async function () {
    p.edit('profiles/sample/profile.yaml', 'severity: hold', 'severity: warn');
    p.edit('profiles/sample/fixtures/03-checks.yaml', "    - { method: POST, sourceKey: participationID=1001 }\n  issues:\n    - { sourceKey: participationID=1000, error: sample.sanity.begin-after-end }",
      "    - { method: POST, sourceKey: participationID=1000 }\n    - { method: POST, sourceKey: participationID=1001 }\n  warnings: [sample.sanity.begin-after-end]");
    p.edit('profiles/sample/fixtures/03-checks.yaml', "        - { sourceKey: participationID=1000, error: sample.sanity.begin-after-end }\n", '');
    const run = await runFixtures(loadProfile(p.profileFile, p.dir), { cwd: p.dir });
    const diffs = run.cases.flatMap((c) => c.steps.flatMap((s) => s.differences.map((d) => d.message)));
    expect(diffs).to.deep.equal([]);
    expect(run.coverage.find((c) => c.id === 'sample.sanity.begin-after-end')!.hits).to.equal(1);
  });
});
