import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { parse } from 'yaml';
import { generateSnapshot } from '../../src/snapshot/generate.js';
import { DISTRICTS } from '../../src/snapshot/generate-catalog.js';
import { repoPath } from '../../src/util/repo-root.js';
import { KnownDescriptors, descriptorOfElement } from '../../src/validate/known-descriptors.js';
import { connectionOwners, connectionProfileOf, loadProjectProfile, projectProfiles } from '../helpers/profiles.js';

interface Pref { configID: number; resource: string; element: string; campusValue: string; edfiCode: string }

/** The preferences the generator copies as they are from a profile's fixture base (not the per-program ones). */
function copiedPreferences(name: string): string[] {
  const base = parse(readFileSync(repoPath('profiles', name, 'fixture-base.yaml'), 'utf8')) as { tables?: { EdFiResourcePreference?: Pref[] } };
  return (base.tables?.EdFiResourcePreference ?? [])
    .filter((p) => !['programTypeDescriptor', 'careerPathwayDescriptor'].includes(p.element))
    .map((p) => `${p.resource}/${p.element}/${String(p.campusValue)}=${String(p.edfiCode)}`)
    .sort();
}

// `edfi-sync generate` sets up each profile's connections the way its fixture base says, in its own namespaces.
describe('profiles: the snapshot generator', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-gen-profiles-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of projectProfiles()) {
    it(`${name}: every connection is the profile's, with its fixture base's preferences, and every descriptor it maps to is published`, function () {
      const out = join(dir, `${name}.sqlite`);
      generateSnapshot({ students: 150, seed: 11, out, profile: name, endYears: [2026] });
      const db = new Database(out, { readonly: true });
      try {
        // A variant for another Data Standard is generated with the connections of the profile it serves.
        const owner = connectionProfileOf(name);
        expect(db.prepare('SELECT DISTINCT profile FROM EdFiConfiguration').pluck().all()).to.deep.equal([owner]);
        const prefs = db.prepare('SELECT * FROM EdFiResourcePreference').all() as Pref[];
        const configs = db.prepare('SELECT configID FROM EdFiConfiguration').pluck().all() as number[];
        for (const id of configs) {
          const copied = prefs.filter((p) => p.configID === id && !['programTypeDescriptor', 'careerPathwayDescriptor'].includes(p.element))
            .map((p) => `${p.resource}/${p.element}/${p.campusValue}=${p.edfiCode}`).sort();
          expect(copied, `connection ${id}`).to.deep.equal(copiedPreferences(owner));
        }
        const known = new KnownDescriptors(loadProjectProfile(name));
        const unknown = prefs.flatMap((p) => {
          const descriptor = descriptorOfElement(p.element);
          const uri = descriptor ? known.uri(descriptor, p.edfiCode) : undefined;
          if (!descriptor || !uri) return [];
          const k = known.known(descriptor, uri);
          return k === false || known.unchecked(descriptor, uri) ? [`${p.element} ${p.edfiCode} -> ${uri}`] : [];
        });
        expect([...new Set(unknown)]).to.deep.equal([]);
      } finally {
        db.close();
      }
    });
  }

  it('with every profile, the districts are taken by the profiles in turn, and every profile gets one', function () {
    const out = join(dir, 'all.sqlite');
    generateSnapshot({ students: 150, seed: 11, out, profile: 'all', endYears: [2025, 2026] });
    const db = new Database(out, { readonly: true });
    try {
      const rows = db.prepare('SELECT c.profile, d.districtID FROM EdFiConfiguration c JOIN District d USING (districtID) ORDER BY d.districtID, c.endYear').all() as Array<{ profile: string; districtID: number }>;
      const profiles = connectionOwners();
      const districts = [...new Set(rows.map((r) => r.districtID))];
      // More profiles than the catalogue has districts: more districts, so that every profile has connections.
      expect(districts).to.have.length(Math.max(DISTRICTS.length, profiles.length));
      districts.forEach((d, i) => {
        expect(rows.filter((r) => r.districtID === d).map((r) => r.profile), `district ${d}`).to.deep.equal([profiles[i % profiles.length], profiles[i % profiles.length]]);
      });
      expect([...new Set(rows.map((r) => r.profile))].sort(), 'profiles with connections').to.deep.equal([...profiles].sort());
      const numbers = db.prepare('SELECT number FROM District').pluck().all() as string[];
      expect(new Set(numbers).size, 'State District Numbers are distinct').to.equal(numbers.length);
    } finally {
      db.close();
    }
  });
});
