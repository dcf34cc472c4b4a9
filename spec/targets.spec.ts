// The targets file: which API root, flavor, data path and credential source each connection (district number and
// school year) uses. Never a key or secret in the file: names of environment variables, or a file per connection.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MissingCredentialsError, readCredentialSource } from '../src/targets/credential-source.js';
import { parseApiFlavor } from '../src/api/flavor.js';
import { instanceOf, targetsFromCommandLine, targetsFromFile } from '../src/targets/targets.js';
import type { ConnectionRef } from '../src/targets/types.js';
import { ConfigError } from '../src/util/errors.js';

const A: ConnectionRef = { key: '1:2026', districtNumber: 4826100, schoolYear: 2026 };
const A25: ConnectionRef = { key: '1:2025', districtNumber: 4826100, schoolYear: 2025 };
const B: ConnectionRef = { key: '2:2026', districtNumber: 480101, schoolYear: 2026 };
const C: ConnectionRef = { key: '3:2026', districtNumber: 1150025, schoolYear: 2026 };

describe('targets file', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-targets-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(text: string): string {
    const f = join(dir, 'targets.yaml');
    writeFileSync(f, text);
    return f;
  }

  function problems(text: string): string {
    try {
      targetsFromFile(file(text));
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('the file was accepted');
  }

  const VALID = `
defaults:
  apiRoot: https://ods.example.org/api
  dataPath: /data/v3/{schoolYear}
  credentials: { keyEnv: "EDFI_KEY_{district}", secretEnv: "EDFI_SECRET_{district}" }
targets:
  - district: 4826100
    apiRoot: https://cedar.example.org/api
  - district: 4826100
    schoolYear: 2025
    flavor: ods-6
    dataPath: /data/v3
    routeContext: { tenantIdentifier: "cedar-{district}" }
  - district: 480101
    credentials: { file: secrets/osage.env }
  - schoolYear: 2026
    dataPath: /api-2026/data/v3
`;

  it('matches the most specific entry (district and year, district, year, defaults) and fills {district} and {schoolYear}', function () {
    const t = targetsFromFile(file(VALID));
    expect(t.specFor(A)).to.deep.include({ apiRoot: 'https://cedar.example.org/api', dataPath: '/data/v3/2026', credentials: { kind: 'env', keyEnv: 'EDFI_KEY_4826100', secretEnv: 'EDFI_SECRET_4826100' } });
    expect(t.specFor(A25)).to.deep.include({ apiRoot: 'https://ods.example.org/api', dataPath: '/data/v3', flavor: 'ods-6', routeContext: { tenantIdentifier: 'cedar-4826100' } });
    expect(t.specFor(B)).to.deep.include({ apiRoot: 'https://ods.example.org/api', credentials: { kind: 'file', file: join(dir, 'secrets', 'osage.env') } });
    expect(t.specFor(C)).to.deep.include({ apiRoot: 'https://ods.example.org/api', dataPath: '/api-2026/data/v3' });
    expect(t.specFor(A25).definedAt).to.match(/targets\.yaml:9$/);
    expect(instanceOf(t.specFor(A))).to.equal('https://cedar.example.org/api/data/v3/2026');
  });

  it('reads the key and secret from the named environment variables, or from the connection\'s file', function () {
    const t = targetsFromFile(file(VALID));
    const saved = { ...process.env };
    try {
      process.env.EDFI_KEY_4826100 = 'cedar-key';
      process.env.EDFI_SECRET_4826100 = 'cedar-Secret-0a9b';
      expect(t.resolve(A)).to.deep.equal({
        apiRoot: 'https://cedar.example.org/api', dataPath: '/data/v3/2026', credentials: { clientId: 'cedar-key', clientSecret: 'cedar-Secret-0a9b' },
        credentialsFrom: 'environment EDFI_KEY_4826100 / EDFI_SECRET_4826100',
      });
    } finally {
      process.env = saved;
    }
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'osage.env'), "# Osage River\nEDFI_CLIENT_ID=osage-key\nexport EDFI_CLIENT_SECRET='osage-Secret-77'\n");
    expect(t.resolve(B).credentials).to.deep.equal({ clientId: 'osage-key', clientSecret: 'osage-Secret-77' });
    expect(t.resolve(B).credentialsFrom).to.equal(`file ${join(dir, 'secrets', 'osage.env')}`);
  });

  it('a connection whose variables are unset fails alone, naming the variables and never a value', function () {
    const t = targetsFromFile(file(VALID));
    const saved = { ...process.env };
    try {
      process.env.EDFI_KEY_1150025 = 'prairie-key';
      delete process.env.EDFI_SECRET_1150025;
      expect(() => t.resolve(C)).to.throw(MissingCredentialsError, 'connection 3:2026: no secret in environment EDFI_KEY_1150025 / EDFI_SECRET_1150025');
      expect(() => readCredentialSource({ kind: 'file', file: join(dir, 'nope.env') }, '2:2026')).to.throw(MissingCredentialsError, /cannot read the credentials file .*nope\.env \(ENOENT\)/);
    } finally {
      process.env = saved;
    }
  });

  it('refuses a key or secret written into the file, without repeating it', function () {
    const literal = 'q8Zr5Kx2Vb7Nw3Lp9Tc4Hs6';
    const named = problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  credentials: { keyEnv: EDFI_KEY, secret: ${literal} }\n`);
    expect(named).to.contain('defaults.credentials.secret: a key or secret written into the targets file is refused');
    expect(named).to.not.contain(literal);
    const asName = problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  credentials: { keyEnv: EDFI_KEY, secretEnv: ${literal} }\n`);
    expect(asName).to.contain('defaults.credentials.secretEnv: this looks like a key or secret, not the name of an environment variable');
    expect(asName).to.not.contain(literal);
    const inUrl = problems(`defaults:\n  apiRoot: https://key:${literal}@ods.example.org/api\n  credentials: { keyEnv: EDFI_KEY, secretEnv: EDFI_SECRET }\n`);
    expect(inUrl).to.contain('defaults.apiRoot: credentials in the URL (user:password@) are refused');
    expect(inUrl).to.not.contain(literal);
    const notAName = problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  credentials: { keyEnv: EDFI_KEY, secretEnv: "s3cr3t pass!" }\n`);
    expect(notAName).to.contain('defaults.credentials.secretEnv').and.to.contain('must match pattern').and.to.not.contain('s3cr3t');
  });

  it('refuses unknown properties, two entries for the same connections, and names the line', function () {
    expect(problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  apiroot: x\n`)).to.match(/targets\.yaml:\d+:\d+: defaults: unknown property 'apiroot'/);
    expect(problems(`targets:\n  - { district: 1, apiRoot: "https://a/api" }\n  - { district: 1, apiRoot: "https://b/api" }\n`)).to.contain('targets[1] is for the same district and school year as targets[0]');
    expect(problems(`targets:\n  - { apiRoot: "https://a/api" }\n`)).to.contain("missing required property 'district'");
    expect(problems(`defaults:\n  district: 1\n  apiRoot: "https://a/api"\n`)).to.contain('district and schoolYear belong in the entries of targets');
  });

  it('refuses an API flavor the engine does not know when the file is read, with its line (not at send time)', function () {
    const text = problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  flavor: ods-api-5\n  credentials: { keyEnv: K, secretEnv: S }\n`);
    expect(text).to.match(/targets\.yaml:3:\d+: defaults\.flavor: must be one of "ods-6", "ods-7", "dms"/);
    expect(problems(`defaults:\n  apiRoot: https://ods.example.org/api\n  routeContext: { "tenant id": x }\n  credentials: { keyEnv: K, secretEnv: S }\n`)).to.contain('defaults.routeContext');
  });

  it('a connection the file does not cover is a configuration problem naming it', function () {
    const t = targetsFromFile(file(`targets:\n  - district: 4826100\n    apiRoot: https://cedar.example.org/api\n    credentials: { keyEnv: K, secretEnv: S }\n`));
    expect(() => t.specFor(B)).to.throw(ConfigError, 'connection 2:2026 (district 480101, school year 2026): no apiRoot and credentials (add an entry for it under targets, or defaults)');
  });

  it('without a targets file, --api-base and one key for all keep working ({endYear} in the data path)', function () {
    const saved = { ...process.env };
    try {
      process.env.EDFI_CLIENT_ID = 'one-key';
      process.env.EDFI_CLIENT_SECRET = 'one-Secret-1';
      const t = targetsFromCommandLine({ apiBase: 'http://127.0.0.1:9/api', dataPath: '/data/v3/{endYear}' });
      expect(t.resolve(A)).to.deep.equal({
        apiRoot: 'http://127.0.0.1:9/api', dataPath: '/data/v3/2026', credentials: { clientId: 'one-key', clientSecret: 'one-Secret-1' },
        credentialsFrom: 'environment EDFI_CLIENT_ID / EDFI_CLIENT_SECRET',
      });
      expect(instanceOf(t.specFor(A25))).to.equal('http://127.0.0.1:9/api/data/v3/2025');
    } finally {
      process.env = saved;
    }
  });
});


describe('deploy/targets.example.yaml', function () {
  it('is a valid targets file whose entries resolve as its comments say', async function () {
    const { repoPath } = await import('../src/util/repo-root.js');
    const t = targetsFromFile(repoPath('deploy', 'targets.example.yaml'));
    // No data path: the API's root document gives each school year's data URL.
    expect(t.specFor(A)).to.deep.include({ apiRoot: 'https://cedar-valley.ods.example.org/api' });
    expect(t.specFor(A).dataPath).to.equal(undefined);
    // A flavor the engine knows (the schema allows no other), and the district's secret file named again.
    const legacy = t.specFor({ ...B, schoolYear: 2025 });
    expect(legacy).to.deep.include({ apiRoot: 'https://legacy.ods.example.org/api', flavor: 'ods-6', dataPath: '/data/v3' });
    expect(parseApiFlavor(legacy.flavor!)).to.equal('ods-6');
    expect(legacy.credentials).to.deep.equal({ kind: 'file', file: '/run/secrets/edfi/480101.env' });
    expect(t.specFor(B).credentials).to.deep.equal({ kind: 'file', file: '/run/secrets/edfi/480101.env' });
    expect(t.specFor(C)).to.deep.include({ apiRoot: 'https://ods7.example.org/api', routeContext: { tenantIdentifier: 'district-1150025' } });
    expect(t.specFor(C).credentials).to.deep.equal({ kind: 'env', keyEnv: 'EDFI_KEY_1150025', secretEnv: 'EDFI_SECRET_1150025' });
  });
});
