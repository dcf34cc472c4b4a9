import { expect } from 'chai';
import type { ApiFlavor } from '../src/api/flavor.js';
import { readErrorText } from '../src/emit/error-body.js';
import { render, type Problem } from '../src/testserver/problems.js';
import { coreProfile } from './helpers/sync-e2e.js';

// Core's error log row "400: ' RESOURCE ' failed. RESOURCE reference could not be resolved." covers two causes in
// practice: a referenced record (student, program, LEA) not in the ODS yet (fix: resync it), and a descriptor value
// the ODS does not know (in Ed-Fi a descriptor is a reference too), which comes from a Resource Preferences mapping
// (fix: the mapping). Each generation's answer finds the entry of its cause.
describe('Core error catalogue: an unknown descriptor and an unresolved reference are told apart', function () {
  const flavors: ApiFlavor[] = ['ods-6', 'ods-7', 'dms'];
  const entryOf = (flavor: ApiFlavor, p: Problem): string => {
    const rendered = render(flavor, p);
    const message = readErrorText({ json: rendered.body, text: JSON.stringify(rendered.body) }) ?? '';
    return coreProfile('core').catalogue.match(rendered.status, 'POST', message).id;
  };
  for (const flavor of flavors) {
    it(`${flavor}: a descriptor value the ODS does not know is core.error.unknown-descriptor, whose fix is the mapping`, function () {
      const id = entryOf(flavor, { kind: 'unknown-descriptor', path: 'ctePrograms[0].careerPathwayDescriptor', descriptor: 'CareerPathwayDescriptor', value: 'uri://ed-fi.org/CareerPathwayDescriptor#Transportation' });
      expect(id).to.equal('core.error.unknown-descriptor');
      const entry = coreProfile('core').catalogue.byId(id)!;
      expect(entry.fix).to.include('Resource Preferences');
      expect(entry.specMessage).to.equal("400: ' RESOURCE ' failed. RESOURCE reference could not be resolved.");
    });
    it(`${flavor}: a student the ODS does not have is core.error.unresolved-reference (resync it)`, function () {
      expect(entryOf(flavor, { kind: 'unresolved-reference', table: 'Student', entity: 'Student', property: 'studentReference' })).to.equal('core.error.unresolved-reference');
    });
  }
});
