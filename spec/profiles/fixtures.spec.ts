import { expect } from 'chai';
import { listDescriptorValues } from '../../src/edfi/schemas.js';
import { fixtureFiles, runFixtures, type FixtureRun } from '../../src/fixtures/run-fixtures.js';
import { repoRoot } from '../../src/util/repo-root.js';
import { KnownDescriptors } from '../../src/validate/known-descriptors.js';
import { loadProjectProfile, projectProfiles } from '../helpers/profiles.js';

// Every profile's fixtures are the executable form of its specification: each fixture is one test, every rule,
// mapping field, key-change, immutable-field, delete and sanity rule must be exercised by some fixture, and every
// descriptor value the fixtures send must be on a published list (Ed-Fi's, or the state's own for its namespaces).
for (const name of projectProfiles()) {
  describe(`profile ${name}: fixtures`, function () {
    const profile = loadProjectProfile(name);
    let run: FixtureRun;

    before(async function () {
      run = await runFixtures(profile, { cwd: repoRoot() });
    });

    it('has fixtures', function () {
      expect(fixtureFiles(profile).length).to.be.greaterThan(0);
    });

    for (const file of fixtureFiles(profile)) {
      const short = file.slice(file.lastIndexOf('/') + 1);
      it(short, function () {
        const c = run.cases.find((x) => x.file.endsWith(short));
        expect(c, `fixture ${short} did not run`).to.not.equal(undefined);
        const problems = [c!.error ?? '', ...c!.steps.flatMap((s) => s.differences.map((d) => [`night ${s.step} line ${d.line ?? '?'}: ${d.message}`, ...(d.why ?? []).map((w) => `  why: ${w}`)].join('\n')))].filter(Boolean);
        expect(problems, problems.join('\n')).to.deep.equal([]);
      });
    }

    it('exercises every rule, mapping field, key-change, immutable-field, delete and sanity rule', function () {
      const never = run.coverage.filter((r) => r.hits === 0).map((r) => `${r.kind} ${r.id} (${r.file}:${r.line ?? '?'})`);
      expect(never, `not exercised by any fixture: ${never.join(', ')}`).to.deep.equal([]);
    });

    it('sends only descriptor values on a published list: Ed-Fi\'s, or its own for the namespaces it declares', function () {
      const known = new KnownDescriptors(profile);
      const unknown = new Set<string>();
      const bodies = run.cases.flatMap((c) => c.steps.flatMap((s) => (s.plan?.operations ?? []).map((op) => op.body).filter((b) => b !== undefined)));
      expect(bodies.length).to.be.greaterThan(0);
      for (const body of bodies) {
        for (const d of listDescriptorValues(profile.def.resource.schema, body)) {
          const k = known.known(d.descriptor, d.value);
          // A value in a namespace the state declares needs the state's published list to be checked at all.
          if (k === false || known.unchecked(d.descriptor, d.value)) unknown.add(`${d.path} ${d.value}`);
        }
      }
      expect([...unknown], 'publish these values in the profile\'s descriptors.yaml, or correct the mapping').to.deep.equal([]);
    });
  });
}
