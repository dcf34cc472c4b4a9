// npm run bench:rules [-- --students N] [--rounds R]: per-record cost of rules and mappings, interpreted
// (json-rules-engine, JSONata) against compiled (src/rules/compiled-rules.ts, src/mapping/jsonata-compile.ts), for
// every profile, on the candidates of a generated snapshot held in memory (no SQLite in the timed loops). Prints
// microseconds per record (median of the rounds), the ratio, and the load average before and after: the machine is
// shared, so a figure means little without it. Never part of the tests.
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import type { MappingContext } from '../src/mapping/functions.js';
import { repoRoot } from '../src/util/repo-root.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const students = arg('students', 20_000);
const rounds = arg('rounds', 5);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median microseconds per record over the rounds, after one untimed warm-up round. */
async function perRecord(n: number, run: () => Promise<void> | void): Promise<number> {
  await run();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await run();
    times.push(((performance.now() - t) * 1000) / n);
  }
  return median(times);
}

function row(label: string, us: number, baseline?: number): void {
  const ratio = baseline !== undefined ? `${(baseline / us).toFixed(1)}x faster` : '';
  console.log(`  ${label.padEnd(44)} ${us.toFixed(2).padStart(9)} us/record   ${ratio}`);
}

async function main(): Promise<void> {
  const dir = '.bench-rules';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'snapshot.sqlite');
  generateSnapshot({ students, seed: 42, out: file, profile: 'all' });
  console.log(`rules and mappings, per record: ${students} students (every profile), Node ${process.version}, ${rounds} rounds (median)`);
  console.log(`load average before: ${load()}`);

  for (const name of listProfiles(repoRoot())) {
    const profile = loadProfile(name, repoRoot());
    const snapshot = openSnapshot(file);
    const reader = new CandidateReader(snapshot, profile);
    const facts: JsonObject[] = [];
    const inputs: Array<{ input: JsonObject; ctx: MappingContext }> = [];
    const derived = Object.fromEntries((profile.def.derive ?? []).map((d) => [d.fact, true]));
    for (const conn of readConnections(snapshot, profile)) {
      const ctx: MappingContext = {
        preferences: readPreferenceTable(snapshot, conn.configID),
        descriptorNamespaces: profile.def.descriptorNamespaces ?? { default: 'uri://ed-fi.org' },
        yearStart: conn.yearStart,
        yearEnd: conn.yearEnd,
      };
      for (const c of reader.read(conn)) {
        facts.push(ruleFacts(c));
        inputs.push({ input: mappingInput(c, derived), ctx });
      }
    }
    snapshot.close();

    const engine = new InterpretedRules(profile.rules);
    const compiled = new CompiledRules(profile.rules);
    const mapper = new Mapper(profile.mapping);
    console.log(`\nprofile ${name}: ${facts.length} candidate records, ${profile.rules.length} rules, ${profile.mapping.fields.length} mapping fields (${profile.mapping.fields.filter((f) => f.fast).length} compiled)`);
    const rulesInterpreted = await perRecord(facts.length, async () => {
      for (const f of facts) await engine.evaluate(f);
    });
    const rulesCompiled = await perRecord(facts.length, () => {
      for (const f of facts) compiled.decide(f);
    });
    row('rules, json-rules-engine', rulesInterpreted);
    row('rules, compiled', rulesCompiled, rulesInterpreted);
    const mapInterpreted = await perRecord(inputs.length, async () => {
      for (const { input, ctx } of inputs) await mapper.mapInterpreted(input, ctx);
    });
    const mapCompiled = await perRecord(inputs.length, async () => {
      for (const { input, ctx } of inputs) await mapper.map(input, ctx);
    });
    row('mapping, JSONata (one expression per body)', mapInterpreted);
    row(`mapping, compiled${mapper.allCompiled ? '' : ' + JSONata for the rest'}`, mapCompiled, mapInterpreted);
    if (mapper.allCompiled) {
      const mapSync = await perRecord(inputs.length, () => {
        for (const { input, ctx } of inputs) mapper.mapSync(input, ctx);
      });
      row('mapping, compiled, without a promise (mapSync)', mapSync, mapInterpreted);
    }
  }
  console.log(`\nload average after: ${load()}`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
