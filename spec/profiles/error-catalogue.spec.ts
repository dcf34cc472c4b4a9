import { expect } from 'chai';
import { readErrorText } from '../../src/emit/error-body.js';
import { render } from '../../src/testserver/problems.js';
import type { ApiFlavor } from '../../src/api/flavor.js';
import { loadProjectProfile, projectProfiles } from '../helpers/profiles.js';

// An ODS that refuses a PUT changing the record's key ("key-change-not-supported", ODS/API 7.x and the DMS) says the
// ODS record's key differs from what this tool last sent: someone changed it in the ODS. A profile's immutable
// field (e.g. a district number that may not change) is caught by the planner before anything is sent, under its
// own entry. The two are different causes with different fixes: the ODS's answer must never be logged as an
// immutable field's entry (whose cause says nothing was sent, while a PUT was).
describe('profiles: the ODS key-change answer is not logged as an immutable field', function () {
  const flavors: ApiFlavor[] = ['ods-7', 'dms'];
  for (const name of projectProfiles()) {
    const profile = loadProjectProfile(name);
    const immutable = new Set((profile.def.immutableFields ?? []).map((f) => f.error).filter((e): e is string => Boolean(e)));
    for (const flavor of flavors) {
      it(`${name}, ${flavor}: a PUT refused as a key change gets an entry that is not an immutable field's`, function () {
        const rendered = render(flavor, { kind: 'key-change', entity: profile.def.resource.name });
        const message = readErrorText({ json: rendered.body, text: JSON.stringify(rendered.body) }) ?? '';
        expect(message).to.match(/key-change-not-supported|cannot be changed/);
        const entry = profile.catalogue.match(rendered.status, 'PUT', message);
        expect(immutable.has(entry.id), `${entry.id} is the entry of an immutable field`).to.equal(false);
      });
    }
  }
});
