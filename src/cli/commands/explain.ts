import type { Command } from 'commander';
import { buildPlan } from '../../plan/planner.js';
import { RecordEvaluator, mappingInput, ruleFacts } from '../../plan/record-evaluator.js';
import { CandidateReader } from '../../snapshot/candidates.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import type { Candidate, JsonObject } from '../../types.js';
import { openContext } from '../context.js';

function show(v: unknown): string {
  return v === undefined ? '(nothing)' : JSON.stringify(v);
}

/** Why a record was or was not sent: every rule with the values it compared, every field with its mapping. */
export async function explain(o: { profile: string; snapshot: string; state?: string; student: string; sourceKey?: string }): Promise<string> {
  const ctx = openContext(o);
  try {
    const { profile, snapshot, state } = ctx;
    const derived = new Map<string, JsonObject>();
    const plan = await buildPlan({ profile, snapshot, state, onDerived: (c, k, d) => derived.set(`${c}/${k}`, d) });
    const evaluator = new RecordEvaluator(profile);
    const reader = new CandidateReader(snapshot, profile);
    const studentCol = profile.def.source.student;
    const personCol = profile.def.source.person;
    const out: string[] = [];
    let found = 0;
    for (const conn of readConnections(snapshot, profile)) {
      const key = connectionKey(conn);
      const mine: Candidate[] = [];
      for (const c of reader.read(conn)) {
        const matches = [studentCol, personCol].some((col) => col && String(c.facts[col] ?? '') === o.student);
        if (matches && (!o.sourceKey || c.sourceKey === o.sourceKey || c.sourceKey.endsWith(`=${o.sourceKey}`))) mine.push(c);
      }
      if (mine.length === 0) continue;
      out.push(`Connection ${key} (config ${conn.configID}, school year ${conn.endYear}, ${conn.yearStart} .. ${conn.yearEnd})${conn.resourceEnabled ? '' : ' — resource toggled OFF: nothing is sent'}`);
      const mctx = evaluator.mappingContext(snapshot, conn);
      for (const c of mine) {
        found++;
        out.push(`\n  Record ${c.sourceKey}`);
        const { decision, trace } = await evaluator.rules.evaluate(ruleFacts(c), true);
        for (const t of trace ?? []) {
          const stops = t.type === 'trigger' ? !t.met : t.met;
          out.push(`    ${stops ? 'STOPS' : 'ok   '} ${t.type.padEnd(7)} ${t.ruleId}${stops ? ` — ${t.reason}` : ''}`);
          for (const cond of t.conditions) {
            out.push(`            ${cond.result ? 'true ' : 'false'}  ${cond.fact} = ${show(cond.factValue)}  ${cond.operator}  ${show(cond.value)}`);
          }
        }
        out.push(`    decision: ${decision.kind}${decision.reasons.length ? ' (' + decision.reasons.join('; ') + ')' : ''}`);
        if (decision.kind === 'kept') {
          const d = derived.get(`${key}/${c.sourceKey}`) ?? {};
          if (Object.keys(d).length) out.push(`    derived: ${JSON.stringify(d)}`);
          out.push('    body, field by field:');
          for (const f of await evaluator.mapper.trace(mappingInput(c, d), mctx)) {
            out.push(`      ${f.field.padEnd(36)} ${f.error ? 'ERROR ' + f.error : show(f.value)}   [${f.id}]`);
          }
          const { problems } = await evaluator.body(c, d, mctx);
          for (const p of problems) out.push(`    schema problem: ${p}`);
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
      if (op.student === o.student) {
        found++;
        out.push(`Record ${op.sourceKey} (connection ${op.connection}): DELETE ${op.id} — ${op.reason} [${op.rules.join(', ')}]`);
      }
    }
    if (found === 0) out.push(`No candidate record for student ${o.student} in any connection of profile '${profile.def.name}' (checked ${studentCol ?? ''}${personCol ? ' and ' + personCol : ''}).`);
    return out.join('\n');
  } finally {
    ctx.close();
  }
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('For one student: every candidate record, every rule with the values it compared, the body field by field, and the operation')
    .requiredOption('--profile <name|path>', 'state profile')
    .requiredOption('--snapshot <file>', 'Campus snapshot')
    .requiredOption('--student <id>', 'student state ID (or Campus personID)')
    .option('--state <file>', 'state file, to show the operation against what was sent')
    .option('--source-key <key>', "one record only, e.g. 'participationID=42' or '42'")
    .option('--participation <id>', 'same as --source-key participationID=<id>')
    .action(async (o: { profile: string; snapshot: string; state?: string; student: string; sourceKey?: string; participation?: string }) => {
      const sourceKey = o.sourceKey ?? (o.participation ? `participationID=${o.participation}` : undefined);
      process.stdout.write((await explain({ ...o, sourceKey })) + '\n');
    });
}
