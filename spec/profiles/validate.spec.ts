import { expect } from 'chai';
import { formatProblem } from '../../src/util/errors.js';
import { repoRoot } from '../../src/util/repo-root.js';
import { validateProfile } from '../../src/validate/validate-profile.js';
import { projectProfiles } from '../helpers/profiles.js';

// `edfi-sync validate` on every profile of the project: no problem, and no warning but the TODO markers a profile
// started with init-profile still has (a new state may go green before every spec line is written).
describe('profiles: validate', function () {
  for (const name of projectProfiles()) {
    it(`${name}: valid, every file with its editor schema line`, function () {
      const r = validateProfile(name, repoRoot());
      expect(r.errors.map(formatProblem)).to.deep.equal([]);
      expect(r.warnings.filter((w) => !/is still a TODO marker/.test(w.message)).map(formatProblem)).to.deep.equal([]);
    });
  }
});
