import { expect } from 'chai';
import { listProfiles } from '../src/cli/commands/validate.js';
import { fixtureFiles, runFixtures } from '../src/fixtures/run-fixtures.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { repoRoot } from '../src/util/repo-root.js';

// Every shipped profile's fixtures are the executable form of its specification: each fixture is one test,
// and every rule must be made to stop a record by some fixture.
for (const name of listProfiles(repoRoot())) {
  describe(`profile ${name}: fixtures`, function () {
    const profile = loadProfile(name, repoRoot());
    let run: Awaited<ReturnType<typeof runFixtures>>;

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
        const problems = [c!.error ?? '', ...c!.steps.flatMap((s) => s.differences.map((d) => `night ${s.step} line ${d.line ?? '?'}: ${d.message}`))].filter(Boolean);
        expect(problems, problems.join('\n')).to.deep.equal([]);
      });
    }

    it('makes every rule stop at least one record', function () {
      const never = run.coverage.filter((r) => r.hits === 0).map((r) => `${r.kind} ${r.id}`);
      expect(never, `rules no fixture exercises: ${never.join(', ')}`).to.deep.equal([]);
    });
  });
}
