import { expect } from 'chai';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

describe('edfi-sync explain --fixture', function () {
  let p: SampleProject;
  before(() => (p = sampleProject()));
  after(() => p.remove());

  it('explains every record of a fixture night: rules with values, the body field by field, the operation', function () {
    const out = p.cli('explain', '--fixture', 'profiles/sample/fixtures/01-sent.yaml');
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout).to.contain('Fixture profiles/sample/fixtures/01-sent.yaml, night 1 of 1: A program record in the year is sent; a withdrawn one is not. (profile sample)');
    expect(out.stdout).to.match(/Record participationID=1000\n {4}ok {4}trigger sample\.trigger\.program-overlaps-year\n\s+true\s+programPeriod = \{"start":"2025-08-25","end":"2026-05-20"\}\s+overlapsPeriod/);
    expect(out.stdout).to.match(/beginDate\s+"2025-08-25"\s+\[sample\.map\.begin-date\]/);
    expect(out.stdout).to.contain('operation: POST — new record');
    expect(out.stdout).to.match(/Record participationID=1001\n(.*\n)*? {4}STOPS exclude sample\.exclude\.withdrawn — the student withdrew\n\s+true\s+studentStatus = "Withdrawn"\s+equal\s+"Withdrawn"/);
  });

  it('a later night is explained against what the earlier nights sent (a key change)', function () {
    const out = p.cli('explain', '--fixture', 'profiles/sample/fixtures/02-changes.yaml', '--night', '2', '--source-key', '1000');
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stdout).to.contain('night 2 of 3: The student exits.');
    expect(out.stdout).to.match(/operation: DELETE [0-9a-f]{32} — key change: reasonExitedDescriptor/);
    expect(out.stdout).to.match(/reasonExitedDescriptor\s+"uri:\/\/ed-fi\.org\/ReasonExitedDescriptor#Other"/);
  });

  it('shows the check that holds a record back', function () {
    const out = p.cli('explain', '--fixture', 'profiles/sample/fixtures/03-checks.yaml', '--student', '1000000010');
    expect(out.stdout).to.contain('holds it back: sanity rule sample.sanity.begin-after-end: beginDate 2025-09-25 is after endDate 2025-09-01');
    expect(out.stdout).to.contain('held back: sample.sanity.begin-after-end — beginDate 2025-09-25 is after endDate 2025-09-01');
    expect(out.stdout).to.not.contain('Record participationID=1001');
  });

  it('a night the fixture does not have, or a missing file, is a usage error', function () {
    expect(p.cli('explain', '--fixture', 'profiles/sample/fixtures/01-sent.yaml', '--night', '2').status).to.equal(2);
    expect(p.cli('explain', '--fixture', 'profiles/sample/fixtures/nope.yaml').status).to.equal(2);
    expect(p.cli('explain', '--profile', 'sample').status).to.equal(2);
  });
});
