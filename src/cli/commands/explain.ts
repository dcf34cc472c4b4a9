import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Command } from 'commander';
import { RecordExplainer, formatRuleTrace, show } from '../../explain/record-explainer.js';
import { loadCase } from '../../fixtures/case-file.js';
import { playFixture } from '../../fixtures/run-fixtures.js';
import { buildPlan } from '../../plan/planner.js';
import { loadProfile, projectRootOf, type LoadedProfile } from '../../profile/load-profile.js';
import { describeCheck } from '../../sanity/body-findings.js';
import { connectionKey } from '../../snapshot/connections.js';
import type { Candidate, JsonObject } from '../../types.js';
import { openContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { displayPath } from '../../util/display-path.js';

/** Which records to explain: one student (state ID or Campus person id), one source key, or every record. */
export interface RecordFilter {
  student?: string;
  sourceKey?: string;
}

/** Every rule with the values it compared, every field with its mapping, the checks, and the operation. */
async function explainRecords(profile: LoadedProfile, snapshot: Database, state: Database, f: RecordFilter): Promise<string> {
  const derived = new Map<string, JsonObject>();
  const plan = await buildPlan({ profile, snapshot, state, onDerived: (c, k, d) => derived.set(`${c}/${k}`, d) });
  const explainer = new RecordExplainer(profile, snapshot);
  const studentCol = profile.def.source.student;
  const personCol = profile.def.source.person;
  const wanted = (c: Candidate): boolean => {
    const student = !f.student || [studentCol, personCol].some((col) => col && String(c.facts[col] ?? '') === f.student);
    const key = !f.sourceKey || c.sourceKey === f.sourceKey || c.sourceKey.endsWith(`=${f.sourceKey}`);
    return student && key;
  };
  const out: string[] = [];
  let found = 0;
  for (const conn of explainer.connections()) {
    const key = connectionKey(conn);
    const mine = explainer.candidates(conn).filter(wanted);
    if (mine.length === 0) continue;
    out.push(`Connection ${key} (config ${conn.configID}, school year ${conn.endYear}, ${conn.yearStart} .. ${conn.yearEnd})${conn.resourceEnabled ? '' : ' — resource toggled OFF: nothing is sent'}`);
    // The rules and bodies below are evaluated with today's preferences; the plan used those of the last resync.
    if (plan.warnings.some((w) => w.id === 'plan.preferences-changed' && w.connection === key)) {
      out.push('  note: the Resource Preferences changed since the last resync; the rules and bodies below use today\'s, but the operation shown is planned with those of the last resync (run `edfi-sync resync` to send the change)');
    }
    for (const c of mine) {
      found++;
      out.push(`\n  Record ${c.sourceKey}`);
      const { decision, trace } = await explainer.rules(c);
      out.push(...formatRuleTrace(trace));
      out.push(`    decision: ${decision.kind}${decision.reasons.length ? ' (' + decision.reasons.join('; ') + ')' : ''}`);
      if (decision.kind === 'kept') {
        const d = derived.get(`${key}/${c.sourceKey}`) ?? {};
        if (Object.keys(d).length) out.push(`    derived: ${JSON.stringify(d)}`);
        const body = await explainer.body(c, d);
        out.push('    body, field by field:');
        for (const fld of body.fields) out.push(`      ${fld.field.padEnd(36)} ${fld.error ? 'ERROR ' + fld.error : show(fld.value)}   [${fld.id}]`);
        for (const p of body.findings) out.push(`    ${p.severity === 'hold' ? 'holds it back' : 'warning'}: ${describeCheck(p.id)}: ${p.message}`);
      }
      const ops = plan.operations.filter((op) => op.connection === key && op.sourceKey === c.sourceKey);
      const issues = plan.issues.filter((i) => i.connection === key && i.sourceKey === c.sourceKey);
      if (ops.length === 0 && issues.length === 0) out.push(`    operation: none (${decision.kind === 'kept' ? 'unchanged since last sent' : 'not sent'})`);
      for (const op of ops) out.push(`    operation: ${op.method}${op.id ? ' ' + op.id : ''} — ${op.reason}`);
      for (const i of issues) out.push(`    held back: ${i.catalogueId} — ${i.message}`);
    }
    out.push('');
  }
  // Records sent before that the snapshot no longer has: explain their delete too.
  for (const op of plan.operations.filter((x) => x.method === 'DELETE' && !x.unit)) {
    const student = !f.student || op.student === f.student;
    const key = !f.sourceKey || op.sourceKey === f.sourceKey || op.sourceKey.endsWith(`=${f.sourceKey}`);
    if (student && key && !out.some((l) => l === `\n  Record ${op.sourceKey}`)) {
      found++;
      out.push(`Record ${op.sourceKey} (connection ${op.connection}): DELETE ${op.id} — ${op.reason} [${op.rules.join(', ')}]`);
    }
  }
  if (found === 0) {
    const what = f.student ? `student ${f.student}${f.sourceKey ? ` and record ${f.sourceKey}` : ''} (checked ${studentCol ?? ''}${personCol ? ' and ' + personCol : ''})` : f.sourceKey ? `record ${f.sourceKey}` : 'any record';
    out.push(`No candidate record for ${what} in any connection of profile '${profile.def.name}'.`);
  }
  return out.join('\n');
}

/** Why a record was or was not sent, on a snapshot (with the state file, against what was sent). */
export async function explain(o: { profile: string; snapshot: string; state?: string } & RecordFilter): Promise<string> {
  const ctx = openContext(o);
  try {
    const text = await explainRecords(ctx.profile, ctx.snapshot, ctx.state, o);
    // Without the state file every kept record reads as new: say so, or a record long in the ODS reads as a POST.
    return o.state ? text : `Without --state: each operation below is what a first run would send (give --state FILE to compare with what was sent).\n\n${text}`;
  } finally {
    ctx.close();
  }
}

/** The profile a fixture file belongs to: --profile, else the profile folder holding it, else its `profile:`. */
function fixtureProfile(file: string, named: string | undefined, caseProfile: string | undefined): LoadedProfile {
  if (named) return loadProfile(named);
  const owner = resolve(dirname(file), '..', 'profile.yaml');
  if (existsSync(owner)) return loadProfile(owner, projectRootOf(owner));
  if (caseProfile) return loadProfile(caseProfile);
  throw Object.assign(new Error(`cannot tell which profile ${file} is for: give --profile`), { exitCode: EXIT.usage });
}

/**
 * `explain --fixture FILE`: the fixture's nights are built as snapshots in a temporary folder, the nights before
 * the one asked for are applied as if every call succeeded, and that night is explained.
 */
export async function explainFixture(o: { fixture: string; profile?: string; night?: number } & RecordFilter): Promise<string> {
  const file = resolve(o.fixture);
  if (!existsSync(file)) throw Object.assign(new Error(`no such fixture file: ${o.fixture}`), { exitCode: EXIT.usage });
  const c = loadCase(file, displayPath(file));
  const profile = fixtureProfile(file, o.profile, c.profile);
  const night = o.night ?? 1;
  if (!Number.isInteger(night) || night < 1 || night > c.steps.length) {
    throw Object.assign(new Error(`--night must be between 1 and ${c.steps.length} (the fixture has ${c.steps.length} night(s))`), { exitCode: EXIT.usage });
  }
  let text = '';
  await playFixture(profile, c, async (n) => {
    if (n.index + 1 < night) return true;
    const step = c.steps[n.index]!;
    const header = `Fixture ${c.file}, night ${night} of ${c.steps.length}${step.description ? `: ${step.description}` : ''} (profile ${profile.def.name})`;
    text = `${header}\n\n${await explainRecords(profile, n.snapshot, n.state, o)}`;
    return false;
  });
  return text;
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('For one student (or every record of a fixture): every candidate record, every rule with the values it compared, the body field by field, and the operation')
    .option('--profile <name|path>', 'state profile (with --fixture: default the profile whose fixtures folder holds it)')
    .option('--snapshot <file>', 'Campus snapshot')
    .option('--fixture <file>', 'explain a fixture instead of a snapshot: its snapshot is built in a temporary file')
    .option('--night <n>', 'with --fixture: which night (1 = the fixture itself, 2 = its first `then:` step, ...)', (v) => Number(v))
    .option('--student <id>', 'student state ID (or Campus personID); with --fixture, default: every record')
    .option('--state <file>', 'state file, to show the operation against what was sent')
    .option('--source-key <key>', "one record only, e.g. 'participationID=42' or '42'")
    .option('--participation <id>', 'same as --source-key participationID=<id>')
    .action(async (o: { profile?: string; snapshot?: string; fixture?: string; night?: number; state?: string; student?: string; sourceKey?: string; participation?: string }) => {
      const sourceKey = o.sourceKey ?? (o.participation ? `participationID=${o.participation}` : undefined);
      if (o.fixture) {
        if (o.snapshot || o.state) throw Object.assign(new Error('--fixture builds its own snapshot and state: leave out --snapshot and --state'), { exitCode: EXIT.usage });
        process.stdout.write((await explainFixture({ fixture: o.fixture, profile: o.profile, night: o.night, student: o.student, sourceKey })) + '\n');
        return;
      }
      if (!o.profile || !o.snapshot || !o.student) {
        throw Object.assign(new Error('explain needs --profile, --snapshot and --student (or --fixture FILE)'), { exitCode: EXIT.usage });
      }
      process.stdout.write((await explain({ profile: o.profile, snapshot: o.snapshot, state: o.state, student: o.student, sourceKey })) + '\n');
    });
}
