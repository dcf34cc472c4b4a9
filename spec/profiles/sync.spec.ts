import { join } from 'node:path';
import { expect } from 'chai';
import { runSync } from '../../src/cli/commands/sync.js';
import { preloadFromSnapshot } from '../../src/cli/commands/test-server.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { generateSnapshot } from '../../src/snapshot/generate.js';
import { useServerWorld } from '../helpers/server-world.js';
import { projectProfiles } from '../helpers/profiles.js';

// Every profile, end to end: a generated district sent to the local Ed-Fi test server (which knows the Ed-Fi
// descriptor lists and, preloaded, the state's own) is accepted whole, and an unchanged snapshot sends nothing.
describe('profiles: sync against the local Ed-Fi test server', function () {
  const w = useServerWorld('all', 'profiles-sync', 'profiles-key', 'profiles-secret');
  const DATA_PATH = '/data/v3/{endYear}';

  for (const name of projectProfiles()) {
    it(`${name}: a generated snapshot is sent with no API error; the same snapshot again sends nothing`, async function () {
      const snapshot = join(w.dir, `${name}.sqlite`);
      generateSnapshot({ students: 120, seed: 3, out: snapshot, profile: name, endYears: [2026] });
      await preloadFromSnapshot(w.server, snapshot, [name], DATA_PATH);
      const o = { profile: name, snapshot, state: join(w.dir, `${name}.state.sqlite`), apiBase: w.server.url, dataPath: DATA_PATH, concurrency: 4, quiet: true };
      const first = await runSync(o);
      // Generated districts have data problems a district would fix (held back, exit 7), but the ODS refuses nothing.
      expect([EXIT.ok, EXIT.heldBack]).to.include(first);
      expect(w.server.store.count('studentCTEProgramAssociations') + w.server.instance('/data/v3/2026').count('studentCTEProgramAssociations')).to.be.greaterThan(0);
      const before = w.server.requests.length;
      expect(await runSync(o)).to.equal(first);
      const sent = w.server.requests.slice(before).filter((r) => r.method !== 'GET' && r.path.includes('studentCTEProgramAssociations'));
      expect(sent).to.deep.equal([]);
    });
  }
});
