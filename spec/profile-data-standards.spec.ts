// Profiles that serve the same Ed-Fi connections for different Data Standards (a state's profile and its DS 5.x
// sibling) must say the same thing wherever both Data Standards have the element: same rules, same queries, same
// natural key, and field by field the same mapping. An element only one of them sends must be listed, with a
// reason, under the other's notReported. Discovered from profiles/: a new pair is checked without a change here.
import { expect } from 'chai';
import { listProfiles } from '../src/cli/commands/validate.js';
import { dataStandardMatches } from '../src/api/data-standard.js';
import { loadProfile, type LoadedProfile } from '../src/profile/load-profile.js';
import { repoRoot } from '../src/util/repo-root.js';

const profiles = listProfiles(repoRoot()).map((name) => loadProfile(name, repoRoot()));
const serves = (p: LoadedProfile): string => p.def.connectionProfile ?? p.def.name;

const pairs: Array<[LoadedProfile, LoadedProfile]> = [];
for (const a of profiles) {
  for (const b of profiles) {
    if (a.def.name < b.def.name && serves(a) === serves(b) && a.def.dataStandard !== b.def.dataStandard) pairs.push([a, b]);
  }
}

describe('profiles of one state for different Data Standards', () => {
  it('exist for every state profile that has a Data Standard 5.x sibling (discovered)', () => {
    expect(pairs.length).to.be.greaterThan(0);
    for (const [a, b] of pairs) expect(dataStandardMatches(a.def.dataStandard, '5.2.0') || dataStandardMatches(b.def.dataStandard, '5.2.0')).to.equal(true);
  });

  for (const [a, b] of pairs) {
    describe(`${a.def.name} (${a.def.dataStandard}) and ${b.def.name} (${b.def.dataStandard})`, () => {
      it('share the rules, the source and connection queries, the natural key and the error catalogue', () => {
        expect(b.def.rules).to.deep.equal(a.def.rules);
        expect(b.def.source).to.deep.equal(a.def.source);
        expect(b.def.connections).to.deep.equal(a.def.connections);
        expect(b.def.naturalKey).to.deep.equal(a.def.naturalKey);
        expect(b.def.errors).to.deep.equal(a.def.errors);
        expect(b.def.keyChangeFields ?? []).to.deep.equal(a.def.keyChangeFields ?? []);
        expect(b.def.immutableFields ?? []).to.deep.equal(a.def.immutableFields ?? []);
      });

      it('map every element both send with the same id and expression', () => {
        const bFields = new Map(b.mapping.fields.map((f) => [f.field, f]));
        const shared = a.mapping.fields.filter((f) => bFields.has(f.field));
        expect(shared.length).to.be.greaterThan(3);
        for (const f of shared) {
          const g = bFields.get(f.field)!;
          expect({ id: g.id, expr: g.expr.trim() }, `${f.field} differs between ${a.mapping.file} and ${b.mapping.file}`).to.deep.equal({ id: f.id, expr: f.expr.trim() });
        }
      });

      it('list every element only one of them sends under the other one\'s notReported, with a decision', () => {
        for (const [from, to] of [[a, b], [b, a]] as const) {
          const sent = new Set(to.mapping.fields.map((f) => f.field));
          const notReported = new Map(to.mapping.notReported.map((n) => [n.field, n]));
          for (const f of from.mapping.fields.filter((x) => !sent.has(x.field))) {
            const entry = notReported.get(f.field);
            expect(entry, `${to.def.name} neither maps nor lists ${f.field}`).to.not.equal(undefined);
            expect(entry?.decision ?? '', `${to.def.name}: ${f.field} not reported without a decision`).to.match(/\w/);
          }
        }
      });
    });
  }
});
