import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listProfiles } from '../src/cli/commands/validate.js';
import { Mapper } from '../src/mapping/mapper.js';
import { mappingInput, ruleFacts } from '../src/plan/record-evaluator.js';
import { readPreferenceTable } from '../src/snapshot/preferences.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { CompiledRules } from '../src/rules/compiled-rules.js';
import { InterpretedRules } from '../src/rules/engine-rules.js';
import { CandidateReader } from '../src/snapshot/candidates.js';
import { readConnections } from '../src/snapshot/connections.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { openSnapshot } from '../src/snapshot/open.js';
import type { JsonObject } from '../src/types.js';
import { repoRoot } from '../src/util/repo-root.js';

// Rules and mappings are compiled once into plain functions (src/rules/compiled-rules.ts,
// src/mapping/jsonata-compile.ts). Here every profile's compiled rules and mapping are held to json-rules-engine
// and JSONata themselves, record by record, on a generated snapshot in which every profile has districts.

describe('compiled rules and mappings agree with json-rules-engine and JSONata on generated snapshots', function () {
  this.timeout(300_000);
  let dir: string;
  let file: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-compiled-'));
    file = join(dir, 'generated.sqlite');
    generateSnapshot({ students: 1500, seed: 20251, out: file, profile: 'all' });
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of listProfiles(repoRoot())) {
    describe(`profile ${name}`, function () {
      it('decides every candidate exactly as json-rules-engine does, with the same compared values', async function () {
        const profile = loadProfile(name, repoRoot());
        const snapshot = openSnapshot(file);
        try {
          const reader = new CandidateReader(snapshot, profile);
          const engine = new InterpretedRules(profile.rules);
          const compiled = new CompiledRules(profile.rules);
          expect(compiled.interpreted, 'every rule of a shipped profile compiles').to.deep.equal([]);
          const kinds = new Map<string, number>();
          for (const conn of readConnections(snapshot, profile)) {
            for (const c of reader.read(conn)) {
              const facts = ruleFacts(c);
              const want = await engine.evaluate(facts, true);
              const explained = compiled.explain(facts);
              expect(explained, c.sourceKey).to.deep.equal(want);
              expect(compiled.decide(facts), c.sourceKey).to.deep.equal(want.decision);
              kinds.set(want.decision.kind, (kinds.get(want.decision.kind) ?? 0) + 1);
            }
          }
          const total = [...kinds.values()].reduce((a, b) => a + b, 0);
          expect(total, 'candidates compared').to.be.greaterThan(200);
          expect(kinds.get('kept') ?? 0, 'kept records').to.be.greaterThan(0);
          expect(kinds.size, `decision kinds seen: ${[...kinds.keys()].join(', ')}`).to.be.greaterThan(1);
        } finally {
          snapshot.close();
        }
      });

      it('maps every candidate to the body JSONata makes (compiled fields and JSONata fields together)', async function () {
        const profile = loadProfile(name, repoRoot());
        const snapshot = openSnapshot(file);
        try {
          const reader = new CandidateReader(snapshot, profile);
          const mapper = new Mapper(profile.mapping);
          const derivedFacts = (profile.def.derive ?? []).map((d) => d.fact);
          let n = 0;
          for (const conn of readConnections(snapshot, profile)) {
            const ctx = {
              preferences: readPreferenceTable(snapshot, conn.configID),
              descriptorNamespaces: profile.def.descriptorNamespaces ?? { default: 'uri://ed-fi.org' },
              yearStart: conn.yearStart,
              yearEnd: conn.yearEnd,
            };
            for (const c of reader.read(conn)) {
              // Derived facts take both values across records, as the derive stage gives them.
              const derived: JsonObject = Object.fromEntries(derivedFacts.map((f) => [f, n % 2 === 0]));
              const input = mappingInput(c, derived);
              const want = await mapper.mapInterpreted(input, ctx).then((b) => ({ body: b }), (e: Error) => ({ error: e.message }));
              const got = await mapper.map(input, ctx).then((b) => ({ body: b }), (e: Error) => ({ error: e.message }));
              if ('error' in want) expect(got, c.sourceKey).to.have.property('error');
              else expect(got, c.sourceKey).to.deep.equal(want);
              if (mapper.allCompiled && 'body' in want) expect(mapper.mapSync(input, ctx)).to.deep.equal(want.body);
              n++;
            }
          }
          expect(n, 'records mapped').to.be.greaterThan(200);
        } finally {
          snapshot.close();
        }
      });
    });
  }
});
