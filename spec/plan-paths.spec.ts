import { expect } from 'chai';
import { changedPaths, naturalKeyOf, valueAt } from '../src/plan/paths.js';
import type { JsonObject } from '../src/types.js';

// Body paths as key-change, immutable and natural-key fields name them: a path may go through a collection
// (validate accepts ctePrograms.cipCode), and a change inside the collection must then be seen.
describe('plan: values at body paths', function () {
  const body = (cips: Array<string | undefined>): JsonObject => ({
    programReference: { programName: 'Welding', educationOrganizationId: 1 },
    beginDate: '2025-08-25',
    ctePrograms: cips.map((cipCode): JsonObject => (cipCode === undefined ? { careerPathwayDescriptor: 'x' } : { careerPathwayDescriptor: 'x', cipCode })),
  });

  it('a dotted path through objects gives the value; a missing part gives nothing', function () {
    expect(valueAt(body([]), 'programReference.programName')).to.equal('Welding');
    expect(valueAt(body([]), 'programReference.nothing')).to.equal(undefined);
    expect(valueAt(body([]), 'beginDate.year')).to.equal(undefined);
  });

  it('a path through a collection gives the items\' values in item order, null where an item lacks it', function () {
    expect(valueAt(body(['48.0508', '47.0101']), 'ctePrograms.cipCode')).to.deep.equal(['48.0508', '47.0101']);
    expect(valueAt(body(['48.0508', undefined]), 'ctePrograms.cipCode')).to.deep.equal(['48.0508', null]);
    expect(valueAt(body([undefined]), 'ctePrograms.cipCode'), 'no item has it').to.equal(undefined);
    expect(valueAt(body([]), 'ctePrograms.cipCode'), 'an empty collection').to.equal(undefined);
  });

  it('a path ending at a collection gives the collection whole', function () {
    expect(valueAt(body(['48.0508']), 'ctePrograms')).to.deep.equal([{ careerPathwayDescriptor: 'x', cipCode: '48.0508' }]);
  });

  it('nested collections are looked through too', function () {
    const nested: JsonObject = { services: [{ periods: [{ beginDate: '2025-01-01' }, { beginDate: '2025-02-01' }] }, { periods: [] }] };
    expect(valueAt(nested, 'services.periods.beginDate')).to.deep.equal([['2025-01-01', '2025-02-01'], null]);
  });

  it('changedPaths sees a change of a field inside a collection, and not a change of another item field', function () {
    const before = body(['48.0508']);
    const cipChanged = body(['48.0511']);
    const otherChanged: JsonObject = { ...before, ctePrograms: [{ careerPathwayDescriptor: 'y', cipCode: '48.0508' }] };
    expect(changedPaths(before, cipChanged, ['ctePrograms.cipCode', 'beginDate'])).to.deep.equal(['ctePrograms.cipCode']);
    expect(changedPaths(before, otherChanged, ['ctePrograms.cipCode', 'beginDate'])).to.deep.equal([]);
    expect(changedPaths(before, body(['48.0508', '47.0101']), ['ctePrograms.cipCode']), 'an item added').to.deep.equal(['ctePrograms.cipCode']);
  });

  it('naturalKeyOf keeps null for a path the body does not have', function () {
    expect(naturalKeyOf(body([]), ['programReference.programName', 'studentReference.studentUniqueId']))
      .to.deep.equal({ 'programReference.programName': 'Welding', 'studentReference.studentUniqueId': null });
  });
});
