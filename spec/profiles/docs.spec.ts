import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { profileDocs } from '../../src/docs/profile-docs.js';
import { repoPath } from '../../src/util/repo-root.js';
import { loadProjectProfile, projectProfiles } from '../helpers/profiles.js';

describe('docs/profiles.md', function () {
  it('is what `edfi-sync docs --out docs/profiles.md` makes of the profile files today (run it after editing a rule)', function () {
    const expected = profileDocs(projectProfiles().map(loadProjectProfile));
    expect(readFileSync(repoPath('docs', 'profiles.md'), 'utf8')).to.equal(expected);
  });
});
