import { join } from 'node:path';
import { expect } from 'chai';
import { loadProfile } from '../src/profile/load-profile.js';
import { displayPath } from '../src/util/display-path.js';
import { repoRoot } from '../src/util/repo-root.js';
import { listProfiles } from '../src/validate/discover-profiles.js';

describe('file names in messages', function () {
  it('are relative below the working directory and absolute elsewhere', function () {
    expect(displayPath(join('/srv/project', 'mappings', 'core', 'x.yaml'), '/srv/project')).to.equal(join('mappings', 'core', 'x.yaml'));
    expect(displayPath('/srv/project/mappings/x.yaml', '/home/operator')).to.equal('/srv/project/mappings/x.yaml');
    expect(displayPath('/srv/project', '/srv/project')).to.equal('/srv/project');
  });
});

describe('a profile name that does not exist', function () {
  it('is refused with the profiles there are', function () {
    let message = '';
    try {
      loadProfile('texsa', repoRoot());
    } catch (err) {
      message = (err as Error).message;
    }
    const known = listProfiles(repoRoot());
    expect(known.length).to.be.greaterThan(0);
    expect(message).to.contain('no such profile').and.contain(`the profiles here: ${known.join(', ')}`);
  });
});
