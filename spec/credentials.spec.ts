// The credentials file: every form an operator writes it in is read, and no mistake in it ever prints any part
// of the secret (JSON.parse's own message would quote the text around the mistake).
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CredentialsError, jsonErrorOffset, readCredentials } from '../src/cli/credentials.js';

const SECRET = 'Zq9-credential-SECRET+/=77';
const ID = 'district-client-41';

describe('readCredentials', () => {
  let dir: string;
  const saved = { id: process.env.EDFI_CLIENT_ID, secret: process.env.EDFI_CLIENT_SECRET };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edfi-creds-'));
    delete process.env.EDFI_CLIENT_ID;
    delete process.env.EDFI_CLIENT_SECRET;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved.id === undefined) delete process.env.EDFI_CLIENT_ID;
    else process.env.EDFI_CLIENT_ID = saved.id;
    if (saved.secret === undefined) delete process.env.EDFI_CLIENT_SECRET;
    else process.env.EDFI_CLIENT_SECRET = saved.secret;
  });

  const file = (text: string): string => {
    const f = join(dir, 'edfi.env');
    writeFileSync(f, text);
    return f;
  };
  const failure = (f: string): CredentialsError => {
    try {
      readCredentials(f);
    } catch (err) {
      expect(err).to.be.instanceOf(CredentialsError);
      return err as CredentialsError;
    }
    throw new Error('expected a CredentialsError');
  };
  const expectNoSecret = (err: Error): void => {
    const all = `${err.message}\n${String(err.stack)}`;
    for (const part of [SECRET, SECRET.slice(0, 8), SECRET.slice(-8), 'credential-SECRET']) expect(all, 'a part of the secret').to.not.include(part);
  };

  it('reads KEY=VALUE lines with export, quotes, comments and a BOM, and JSON in either naming', () => {
    const lines = file(`\ufeff# Ed-Fi key for the district\nexport EDFI_CLIENT_ID="${ID}"\nEDFI_CLIENT_SECRET='${SECRET}' # rotated yearly\n`);
    expect(readCredentials(lines)).to.deep.equal({ clientId: ID, clientSecret: SECRET });
    expect(readCredentials(file(JSON.stringify({ clientId: ID, clientSecret: SECRET })))).to.deep.equal({ clientId: ID, clientSecret: SECRET });
    expect(readCredentials(file(JSON.stringify({ key: ID, secret: SECRET })))).to.deep.equal({ clientId: ID, clientSecret: SECRET });
  });

  it('takes the environment when no file is given, and what the file lacks from it', () => {
    process.env.EDFI_CLIENT_ID = ID;
    process.env.EDFI_CLIENT_SECRET = SECRET;
    expect(readCredentials()).to.deep.equal({ clientId: ID, clientSecret: SECRET });
    expect(readCredentials(file(`EDFI_CLIENT_ID=other-id\n`))).to.deep.equal({ clientId: 'other-id', clientSecret: SECRET });
  });

  it('malformed JSON: names the file and the line and column, never the text', () => {
    const err = failure(file(`{\n  "clientId": "${ID}",\n  "clientSecret": ${SECRET}\n}`));
    expect(err.message).to.match(/edfi\.env is not valid JSON at line 3, column \d+/);
    expect(err.exitCode).to.equal(3);
    expectNoSecret(err);
  });

  it('a JSON value of the wrong type, an array, an unbalanced quote, a line that is not NAME=VALUE: located, the secret not shown', () => {
    for (const text of [
      JSON.stringify({ clientId: ID, clientSecret: [SECRET] }),
      JSON.stringify([ID, SECRET]),
      `EDFI_CLIENT_ID=${ID}\nEDFI_CLIENT_SECRET="${SECRET}\n`,
      `EDFI_CLIENT_ID=${ID}\n${SECRET}\n`,
      `EDFI_CLIENT_ID=${ID}\nEDFI_CLIENT_SECRET: ${SECRET}\n`,
    ]) {
      const err = failure(file(text));
      expect(err.exitCode).to.equal(3);
      expectNoSecret(err);
    }
    expect(failure(file(`EDFI_CLIENT_ID=${ID}\n\n${SECRET}\n`)).message).to.match(/line 3 is not NAME=VALUE .*not shown because they may hold the secret/);
  });

  it('a missing, unreadable or incomplete file, and no credentials at all: clear messages and exit codes', () => {
    expect(failure(join(dir, 'nope.env')).message).to.equal(`credentials file ${join(dir, 'nope.env')}: no such file`);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    expect(failure(folder).message).to.match(/it is a folder/);
    const partial = failure(file(`EDFI_CLIENT_ID=${ID}\n`));
    expect(partial.message).to.match(/gives no EDFI_CLIENT_SECRET/);
    expect(partial.exitCode).to.equal(3);
    try {
      readCredentials();
      expect.fail('no credentials');
    } catch (err) {
      // A connection without a usable key and secret is a configuration problem (exit 3), as with a targets file.
      expect((err as CredentialsError).exitCode).to.equal(3);
      // Said once: what is not set, and the two ways to give it.
      expect((err as Error).message).to.equal('Ed-Fi API credentials are missing: EDFI_CLIENT_ID and EDFI_CLIENT_SECRET are not set (set them, or give --credentials-file)');
    }
  });

  it('finds where a JSON text stops being valid, as JSON.parse would refuse it', () => {
    for (const good of ['{"a":1}', ' [1, -2.5e3, "x\\u00e9", true, false, null, {"b": []}] ', '"s"']) {
      expect(() => JSON.parse(good)).to.not.throw();
      expect(jsonErrorOffset(good), good).to.equal(undefined);
    }
    for (const [bad, at] of [['{"a":1,}', 7], ['{"a" 1}', 5], ['[1 2]', 3], ['{"a":tru}', 5], ['{"a":"x}', 8], ['{"a":1} x', 8], ['', 0]] as const) {
      expect(() => JSON.parse(bad)).to.throw();
      expect(jsonErrorOffset(bad), bad).to.equal(at);
    }
  });
});
