import { expect } from 'chai';
import { sampleProject, type SampleProject } from './helpers/sample-project.js';

// What writing a third state from docs/analyst-guide.md alone ran into, each on a copy of the engine's sample
// project through the real `edfi-sync` command.
describe('a third state written from the analyst guide', function () {
  this.timeout(120_000);
  let p: SampleProject;
  beforeEach(() => (p = sampleProject()));
  afterEach(() => p.remove());

  /** The sample reports ctePrograms with the program's CIP code (State Code). */
  function withCtePrograms(): void {
    p.edit('profiles/sample/source.sql', '       p.name AS programName\n', '       p.name AS programName,\n       p.stateCode AS cipCode\n');
    p.edit('mappings/sample/mapping.yaml', /\n {2}- id: sample\.map\.reason-exited/, `
  - id: sample.map.cte-programs
    field: ctePrograms
    spec: "Sample: the program's CIP code."
    expr: '[{ "careerPathwayDescriptor": $descriptor("CareerPathwayDescriptor", "Manufacturing"), "cipCode": cipCode }]'
  - id: sample.map.reason-exited`);
  }

  it('a key-change field inside a collection (ctePrograms.cipCode) makes a change of it a DELETE + POST', function () {
    withCtePrograms();
    p.edit('profiles/sample/profile.yaml', /keyChangeFields:\n/, `keyChangeFields:
  - id: sample.key.cip-code
    spec: "Sample: a change of the program's CIP code is a DELETE + POST."
    path: ctePrograms.cipCode
`);
    p.write('profiles/sample/fixtures/04-cip-code.yaml', `# yaml-language-server: $schema=../../../schemas/fixture.schema.json
description: A change of the program's CIP code is a DELETE + POST; a change of another item field is not.
base: standard
tables:
  Person:
    - { personID: 10, stateID: '1000000010' }
  ProgramParticipation:
    - { participationID: 1000, personID: 10, programID: 1, startDate: '2025-08-25' }
expect:
  operations:
    - { method: POST, sourceKey: participationID=1000, body: { ctePrograms: [ { careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing', cipCode: '48.0508' } ] } }
then:
  - description: The Welding program's CIP code changes.
    tables:
      Program:
        - { $merge: true, programID: 1, stateCode: '48.0511' }
    expect:
      operations:
        - { method: DELETE, sourceKey: participationID=1000, rules: [sample.key.cip-code] }
        - { method: POST, sourceKey: participationID=1000, rules: [sample.key.cip-code] }
`);
    const out = p.cli('test');
    expect(out.stdout + out.stderr).to.match(/^OK: sample: 4 of 4 fixture\(s\) passed, full coverage$/m);
    expect(out.status).to.equal(0);
  });
});
