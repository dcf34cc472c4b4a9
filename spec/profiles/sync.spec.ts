import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { dataStandardMatches, flavorForDataStandard } from '../../src/api/data-standard.js';
import { runSync } from '../../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../../src/cli/commands/test-server.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { generateSnapshot } from '../../src/snapshot/generate.js';
import { startTestServer } from '../../src/testserver/server.js';
import { loadProjectProfile, projectProfiles } from '../helpers/profiles.js';

// Every profile, end to end: a generated district sent to a local Ed-Fi test server of the API generation its Data
// Standard fits (which knows the Ed-Fi descriptor lists and, preloaded, the state's own) is accepted whole, and an
// unchanged snapshot sends nothing. The API is found from its root URL, as a district points the tool at it.
describe('profiles: sync against the local Ed-Fi test server', function () {
  let dir: string;
  const saved = { id: process.env.EDFI_CLIENT_ID, secret: process.env.EDFI_CLIENT_SECRET };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'edfi-profiles-sync-'));
    process.env.EDFI_CLIENT_ID = 'profiles-key';
    process.env.EDFI_CLIENT_SECRET = 'profiles-secret';
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const [name, value] of [['EDFI_CLIENT_ID', saved.id], ['EDFI_CLIENT_SECRET', saved.secret]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  for (const name of projectProfiles()) {
    it(`${name}: a generated snapshot is sent with no API error; the same snapshot again sends nothing`, async function () {
      const flavor = flavorForDataStandard(loadProjectProfile(name).def.dataStandard);
      const server = await startTestServer({ flavor, yearSpecific: true, clientId: 'profiles-key', clientSecret: 'profiles-secret' });
      try {
        const snapshot = join(dir, `${name}.sqlite`);
        generateSnapshot({ students: 120, seed: 3, out: snapshot, profile: name, endYears: [2026] });
        await preloadFromSnapshot(server, snapshot, [name]);
        const o = { profile: name, snapshot, state: join(dir, `${name}.state.sqlite`), apiBase: server.url, concurrency: 4, quiet: true };
        const first = await runSync(o);
        // Generated districts have data problems a district would fix (held back, exit 7), but the ODS refuses nothing.
        expect([EXIT.ok, EXIT.heldBack]).to.include(first);
        expect(server.instanceFor(2026).count('studentCTEProgramAssociations')).to.be.greaterThan(0);
        const before = server.requests.length;
        expect(await runSync(o)).to.equal(first);
        const sent = server.requests.slice(before).filter((r) => r.method !== 'GET' && r.path.includes('studentCTEProgramAssociations'));
        expect(sent).to.deep.equal([]);
      } finally {
        await server.close();
      }
    });
  }

  // ODS/API 5.x serves Data Standard 3.3.1-b: a profile that names it is sent there as to a 6.x.
  for (const name of projectProfiles().filter((n) => dataStandardMatches(loadProjectProfile(n).def.dataStandard, '3.3.1-b'))) {
    it(`${name}: an ODS/API 5.x (Data Standard 3.3.1-b) takes the records`, async function () {
      const server = await startTestServer({ flavor: 'ods-6', dataStandard: '3.3.1-b', clientId: 'profiles-key', clientSecret: 'profiles-secret' });
      try {
        const snapshot = join(dir, `${name}-ods5.sqlite`);
        generateSnapshot({ students: 40, seed: 5, out: snapshot, profile: name, endYears: [2026] });
        await preloadFromSnapshot(server, snapshot, [name]);
        const o = { profile: name, snapshot, state: join(dir, `${name}-ods5.state.sqlite`), apiBase: server.url, concurrency: 4, quiet: true };
        expect([EXIT.ok, EXIT.heldBack]).to.include(await runSync(o));
        const sent = server.store.list('studentCTEProgramAssociations');
        expect(sent.length).to.be.greaterThan(0);
        // Kept as the Data Standard 4.0 model (an ODS/API 5.x has it), not cut to the 5.x one.
        expect(sent.some((i) => Array.isArray((i.body as { ctePrograms?: unknown }).ctePrograms))).to.equal(true);
      } finally {
        await server.close();
      }
    });
  }
});
