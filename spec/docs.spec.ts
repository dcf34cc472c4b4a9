import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { listProfiles } from '../src/cli/commands/validate.js';
import { profileDocs } from '../src/docs/profile-docs.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { repoPath, repoRoot } from '../src/util/repo-root.js';

describe('docs/profiles.md', function () {
  it('is what `edfi-sync docs` makes of the profile files today (run it after editing a rule)', function () {
    const expected = profileDocs(listProfiles(repoRoot()).map((n) => loadProfile(n, repoRoot())));
    expect(readFileSync(repoPath('docs', 'profiles.md'), 'utf8')).to.equal(expected);
  });
});
