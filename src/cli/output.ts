import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Plan } from '../plan/plan-types.js';
import type { Operation } from '../types.js';

/** One operation per line, as the plan's contract says: method, resource, sourceKey, naturalKey, body, id, rules. */
export function operationLine(op: Operation): string {
  const { bodyHash: _h, ...rest } = op;
  return JSON.stringify(rest);
}

export async function writeOperations(ops: Iterable<Operation>, out: string | undefined): Promise<void> {
  const stream: Writable = out ? createWriteStream(out) : process.stdout;
  for (const op of ops) {
    if (!stream.write(operationLine(op) + '\n')) await new Promise((r) => stream.once('drain', r));
  }
  if (out) await new Promise<void>((resolve) => stream.end(() => resolve()));
}

function table(rows: Array<[string, string | number]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join('\n');
}

/** The human summary of a plan (stderr): counts per operation, per exclusion reason, per problem. */
export function planSummaryText(plan: Pick<Plan, 'profile' | 'resource' | 'summary' | 'connections' | 'warnings'>): string {
  const s = plan.summary;
  const lines: string[] = [];
  lines.push(`Plan for profile '${plan.profile}', resource ${plan.resource}`);
  for (const c of plan.connections) {
    lines.push(`  connection ${c.connection} (config ${c.configID}, school year ${c.endYear}, ODS ${c.instance}): ${c.candidates} candidate(s), ${c.kept} to send, ${c.evaluated} evaluated, ${c.deletes} delete(s)${c.shared ? `, ${c.shared} shared` : ''}${c.note ? ' — ' + c.note : ''}`);
  }
  if (plan.connections.length === 0) lines.push('  no Ed-Fi connection in the snapshot uses this profile');
  lines.push('Operations:');
  lines.push(table([
    ['POST', s.operations.POST ?? 0],
    ['PUT', s.operations.PUT ?? 0],
    ['DELETE', s.operations.DELETE ?? 0],
    ['(of which key changes: new record first, then the old one deleted)', s.keyChanges],
    ['unchanged', s.unchanged],
    ['shared (sent as another connection\'s record of the same ODS instance)', s.shared],
  ]));
  const reasons = Object.entries(s.excludedByReason).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    lines.push('Not sent, by reason:');
    lines.push(table(reasons.map(([r, n]) => [r, n])));
  }
  const issues = Object.entries(s.issues);
  if (issues.length > 0) {
    lines.push('Records held back (see the error log):');
    lines.push(table(issues.map(([r, n]) => [r, n])));
  }
  for (const w of plan.warnings) lines.push(`warning [${w.id}]: ${w.message}`);
  return lines.join('\n');
}
