import { join } from 'node:path';
import { expect } from 'chai';
import { displayPath } from '../src/util/display-path.js';

describe('file names in messages', function () {
  it('are relative below the working directory and absolute elsewhere', function () {
    expect(displayPath(join('/srv/project', 'mappings', 'core', 'x.yaml'), '/srv/project')).to.equal(join('mappings', 'core', 'x.yaml'));
    expect(displayPath('/srv/project/mappings/x.yaml', '/home/operator')).to.equal('/srv/project/mappings/x.yaml');
    expect(displayPath('/srv/project', '/srv/project')).to.equal('/srv/project');
  });
});
