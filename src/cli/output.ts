import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { RunLog } from '../log/run-log.js';
import type { Plan } from '../plan/plan-types.js';
import type { Operation } from '../types.js';
import { zeroCounts, type ConnectionCounts } from './run-summary.js';

/** One operation per line, as the plan's contract says: method, resource, sourceKey, naturalKey, body, id, rules. */
export function operationLine(op: Operation): string {
  const { bodyHash: _h, ...rest } = op;
  return JSON.stringify(rest);
}

export async function writeOperations(ops: Operation[], out: string | undefined): Promise<void> {
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

/**
 * A connection's counts from the plan. Every record the rules keep is held back, shared (another connection of the
 * same ODS instance sends it), unchanged or sent (POST or PUT, or a key change's DELETE + POST); "to send" counts
 * the operations, so records held back are never in it. Unchanged records are records already in the ODS: never
 * more than the connection's identity rows (a connection never sent has none unchanged).
 */
export function connectionPlanCounts(plan: Plan, connection: string): ConnectionCounts {
  const counts = zeroCounts();
  const c = plan.connections.find((x) => x.connection === connection);
  if (!c) return counts;
  const ops = plan.operations.filter((o) => o.connection === connection);
  const sentRecords = new Set(ops.filter((o) => o.method !== 'DELETE' || o.unit).map((o) => o.sourceKey));
  counts.candidates = c.candidates;
  counts.kept = c.kept;
  counts.excluded = plan.excluded.filter((x) => x.connection === connection).length;
  counts.heldBack = plan.issues.filter((i) => i.connection === connection).length;
  counts.shared = c.shared;
  counts.toSend = ops.length;
  counts.unchanged = Math.max(0, Math.min(c.identityRows, c.kept - counts.heldBack - counts.shared - sentRecords.size));
  return counts;
}

/** The human summary of a plan (stderr): per connection, counts per operation, per exclusion reason, per problem. Its warnings go out on their own (planWarnings). */
export function planSummaryText(plan: Plan): string {
  const s = plan.summary;
  const lines: string[] = [];
  lines.push(`Plan for profile '${plan.profile}', resource ${plan.resource}`);
  for (const c of plan.connections) {
    const n = connectionPlanCounts(plan, c.connection);
    lines.push(`  connection ${c.connection} (config ${c.configID}, school year ${c.endYear}): ${c.candidates} candidate(s), ` +
      `${c.kept} kept by the rules, ${n.heldBack} held back (not sent), ${n.toSend} to send, ${n.unchanged} unchanged, ` +
      `${n.shared ? `${n.shared} shared with another connection, ` : ''}${c.deletes} delete(s)` +
      `${c.note ? ' — ' + c.note : ''}`);
  }
  if (plan.connections.length === 0) lines.push('  no Ed-Fi connection in the snapshot uses this profile');
  lines.push('Operations to send:');
  lines.push(table([
    ['POST', s.operations.POST ?? 0],
    ['PUT', s.operations.PUT ?? 0],
    ['DELETE', s.operations.DELETE ?? 0],
    ['(of which key changes, DELETE + POST)', s.keyChanges],
    ['unchanged', s.unchanged],
  ]));
  const reasons = Object.entries(s.excludedByReason).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    lines.push('Not sent, by rule (a record stopped by several rules counts under each):');
    lines.push(table(reasons.map(([r, n]) => [r, n])));
  }
  const issues = Object.entries(s.issues);
  if (issues.length > 0) {
    lines.push('Held back, not sent (see the error log):');
    lines.push(table(issues.map(([r, n]) => [r, n])));
  }
  return lines.join('\n');
}

/** The plan's warnings as warn-level events: shown with --quiet too (a warning says something needs doing). */
export function planWarnings(plan: Plan, log: RunLog): void {
  for (const w of plan.warnings) log.event('warn', 'plan-warning', { ...(w.connection ? { connection: w.connection } : {}), warning: w.id }, log.format === 'text' ? `warning [${w.id}]: ${w.message}` : w.message);
}

/** The plan as JSON log events: one per connection with its counts, one per warning. */
export function planEvents(plan: Plan, log: RunLog): void {
  for (const c of plan.connections) {
    const counts = connectionPlanCounts(plan, c.connection);
    log.event('info', 'plan', { connection: c.connection, counts: { ...counts, deletes: c.deletes, evaluated: c.evaluated }, ...(c.note ? { note: c.note } : {}) });
  }
  planWarnings(plan, log);
}
