import { expect } from 'chai';
import { comparableHash } from '../src/resync/ods-body.js';

// An ODS/API rebuilds a record from its tables: it answers every collection (an empty one as []) and the items of a
// collection in its own order. Resync must see such an answer as the body it sent, or it PUTs every record again.
describe('comparing an ODS answer with the body sent', () => {
  const sent = {
    beginDate: '2025-08-25',
    ctePrograms: [
      { careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Health Science', primaryCTEProgramIndicator: true },
      { careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Agriculture', primaryCTEProgramIndicator: false },
    ],
    programReference: { programName: 'Nursing', educationOrganizationId: 255901 },
  };

  it('the same record answered with empty collections, server fields, nulls and items in another order', () => {
    const answered = {
      id: 'b1e9c6e1a9f34c7e8d2a8f0b4c3d2e1f',
      beginDate: '2025-08-25',
      endDate: null,
      ctePrograms: [sent.ctePrograms[1], sent.ctePrograms[0]],
      services: [],
      programParticipationStatuses: [],
      programReference: { educationOrganizationId: 255901, programName: 'Nursing', link: { rel: 'Program', href: '/ed-fi/programs/x' } },
      _etag: '5250549068430959883',
      _lastModifiedDate: '2025-09-01T12:00:00Z',
    };
    expect(comparableHash(answered)).to.equal(comparableHash(sent));
  });

  it('a real difference still shows: a value, an item more or less, a field more', () => {
    expect(comparableHash({ ...sent, beginDate: '2025-08-26' })).to.not.equal(comparableHash(sent));
    expect(comparableHash({ ...sent, ctePrograms: [sent.ctePrograms[0]] })).to.not.equal(comparableHash(sent));
    expect(comparableHash({ ...sent, ctePrograms: [...sent.ctePrograms, sent.ctePrograms[0]] })).to.not.equal(comparableHash(sent));
    expect(comparableHash({ ...sent, privateCTEProgram: false })).to.not.equal(comparableHash(sent));
    expect(comparableHash({ ...sent, ctePrograms: [{ ...sent.ctePrograms[0], primaryCTEProgramIndicator: false }, sent.ctePrograms[1]] })).to.not.equal(comparableHash(sent));
  });
});
