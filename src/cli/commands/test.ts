import type { Command } from 'commander';
import { runFixtures, type FixtureRun } from '../../fixtures/run-fixtures.js';
import { loadProfile } from '../../profile/load-profile.js';
import { EXIT } from '../exit-codes.js';
import { listProfiles } from './validate.js';

export function fixtureReport(name: string, run: FixtureRun, checkCoverage = true): { text: string; ok: boolean } {
  const lines: string[] = [`Profile ${name}: ${run.cases.length} fixture(s)`];
  let ok = true;
  for (const c of run.cases) {
    lines.push(`  ${c.passed ? 'PASS' : 'FAIL'}  ${c.file}${c.description ? ` — ${c.description}` : ''}`);
    if (c.error) lines.push(`        ${c.error.replace(/\n/g, '\n        ')}`);
    for (const s of c.steps) {
      for (const d of s.differences) {
        lines.push(`        night ${s.step}${d.line ? ` (${c.file}:${d.line})` : ''}: ${d.message}`);
      }
    }
    if (!c.passed) ok = false;
  }
  const never = run.coverage.filter((r) => r.fired === 0);
  const always = run.coverage.filter((r) => r.passed === 0);
  lines.push('  Rule coverage (records each rule stopped / let through across all fixtures):');
  for (const r of run.coverage) {
    lines.push(`    ${r.fired === 0 ? '!!' : '  '} ${r.ruleId.padEnd(44)} stopped ${String(r.fired).padStart(3)}  let through ${String(r.passed).padStart(3)}`);
  }
  if (never.length > 0 && checkCoverage) {
    ok = false;
    for (const r of never) lines.push(`  FAIL  rule ${r.ruleId} (${r.file}:${r.line ?? '?'}) never fires in any fixture: add a fixture that exercises it`);
  }
  for (const r of always) lines.push(`  warning: rule ${r.ruleId} never lets a record through in any fixture`);
  const failed = run.cases.filter((c) => !c.passed).length;
  lines.push(`${run.cases.length - failed} passed, ${failed} failed`);
  return { text: lines.join('\n'), ok };
}

export function registerTest(program: Command): void {
  program
    .command('test')
    .description("Run each profile's fixture snapshots, compare the plans with the expected operations, and report rule coverage")
    .option('--profile <name|path>', 'one profile (default: every profile under profiles/)')
    .option('--only <text>', 'only fixtures whose file name contains this')
    .action(async (o: { profile?: string; only?: string }) => {
      const names = o.profile ? [o.profile] : listProfiles();
      let ok = true;
      for (const name of names) {
        const profile = loadProfile(name);
        // Coverage is judged on the whole set: a subset (--only) exercises fewer rules by design.
        const report = fixtureReport(profile.def.name, await runFixtures(profile, { only: o.only }), !o.only);
        process.stdout.write(report.text + '\n');
        ok &&= report.ok;
      }
      process.exitCode = ok ? EXIT.ok : EXIT.apiFailed;
    });
}
