import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoPath } from '../src/util/repo-root.js';

// The analyst guide is what a new state is written from: its examples must be what the files take, and the CI
// steps it shows must be the workflow file's.
describe('the analyst guide', function () {
  const guide = readFileSync(repoPath('docs', 'analyst-guide.md'), 'utf8');
  // Every YAML example is checked, excerpts too: lines left out of an excerpt are said in a YAML comment, never
  // with a bare "..." line (which would make it something the files cannot take).
  const yamlBlocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('walks through a computed fact, an any: rule, a descriptor in its own namespace, sanity rules and CI', function () {
    const headings = [...guide.matchAll(/^## (.*)$/gm)].map((m) => m[1]!);
    for (const topic of [/any:/, /computed fact/i, /own namespace/, /sanity rules/i, /continuous integration/i, /source query/i]) {
      expect(headings.some((h) => topic.test(h)), `a section about ${String(topic)} in ${headings.join(' | ')}`).to.equal(true);
    }
  });

  it('every YAML example parses, none cut with a bare "..." line', function () {
    expect(yamlBlocks.length).to.be.greaterThan(10);
    for (const block of yamlBlocks) {
      expect(block, 'an excerpt says what it leaves out in a comment').not.to.match(/^\s*\.\.\.\s*$/m);
      expect(() => parse(block), block).not.to.throw();
    }
  });

  it("the CI steps it shows are the workflow file's, word for word", function () {
    const workflow = parse(readFileSync(repoPath('.github', 'workflows', 'profiles.yml'), 'utf8')) as { jobs: Record<string, { steps: Array<{ name?: string; run?: string }> }> };
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps).filter((s) => s.run !== undefined);
    const shown = yamlBlocks.map((b) => parse(b) as unknown).find((b): b is Array<{ name?: string; run?: string }> =>
      Array.isArray(b) && b.some((s) => typeof (s as { run?: unknown }).run === 'string'));
    expect(shown, 'a YAML block of the guide with the CI steps').not.to.equal(undefined);
    expect(shown).to.deep.equal(steps.map((s) => ({ name: s.name, run: s.run })));
  });
});
