import { emptyEmitSummary, type EmitSummary } from '../emit/emitter.js';
import type { RunLog } from '../log/run-log.js';
import type { MassDeleteViolation } from '../plan/mass-delete.js';
import type { Plan } from '../plan/plan-types.js';
import type { ConnectionRef } from '../targets/types.js';
import { EXIT, exitName } from './exit-codes.js';
import { connectionPlanCounts } from './output.js';
import type { ConnectionOutcome, RunSummary } from './run-summary.js';
import type { ConnectionSend } from './send-connections.js';

// How a run of several connections ends: each connection's counts and exit code, and what is printed about them.

export function emitSummaryText(s: EmitSummary, plan: Plan): string {
  const lines = [
    'Sync summary:',
    `  sent (new)        ${s.created}`,
    `  updated           ${s.updated}`,
    `  deleted           ${s.deleted}${s.alreadyGone ? ` (+${s.alreadyGone} already gone)` : ''}`,
    `  unchanged         ${plan.summary.unchanged}`,
    `  shared            ${plan.summary.shared + s.keptForOther}${plan.summary.shared + s.keptForOther > 0 ? " (sent as another connection's record of the same ODS instance)" : ''}`,
    `  not sent (rules)  ${plan.excluded.length}`,
    `  held back         ${s.heldBack}`,
    `  failed            ${s.failed}`,
  ];
  if (s.restored) lines.push(`  restored          ${s.restored} (a key change was refused; the record was put back as it was)`);
  for (const [status, n] of Object.entries(s.failedByStatus)) lines.push(`    HTTP ${status === '0' ? 'no answer' : status}: ${n}`);
  for (const [id, n] of Object.entries(s.failedByError)) lines.push(`    ${id}: ${n}`);
  if (s.aborted) lines.push(`  stopped early: ${s.aborted}`);
  if (s.failed + s.heldBack > 0) lines.push("  See `edfi-sync errors --state <file>` for each error with its cause and fix.");
  return lines.join('\n');
}

export function addEmit(total: EmitSummary, s: EmitSummary): void {
  for (const k of ['created', 'updated', 'deleted', 'alreadyGone', 'failed', 'heldBack', 'keptForOther', 'restored'] as const) total[k] += s[k];
  for (const [k, n] of Object.entries(s.failedByStatus)) total.failedByStatus[k] = (total.failedByStatus[k] ?? 0) + n;
  for (const [k, n] of Object.entries(s.failedByError)) total.failedByError[k] = (total.failedByError[k] ?? 0) + n;
  if (s.aborted && !total.aborted) total.aborted = s.aborted;
}

/**
 * Each connection's sends with what an enclosing command sent for it before (resync's DELETEs of records nobody
 * wants) added in, so that its counts and exit code are worked out in one place. `sent` is not changed.
 */
export function withEarlier(sent: Map<string, ConnectionSend>, earlier: Map<string, EmitSummary> | undefined): Map<string, ConnectionSend> {
  if (!earlier || earlier.size === 0) return sent;
  const out = new Map(sent);
  for (const [key, before] of earlier) {
    const now = sent.get(key);
    const emit = emptyEmitSummary();
    addEmit(emit, before);
    if (now) addEmit(emit, now.emit);
    out.set(key, now ? { ...now, emit } : { emit, sent: 0 });
  }
  return out;
}

/**
 * A connection's exit code. Everything sent: ok. Data problems only: heldBack (ok with --held-back-ok). Failures at
 * the API: apiFailed, or unreachable when no request got any answer at all. Records held back because the API could
 * not answer their reference lookups are no data problem: apiFailed, so that a scheduler tries again later.
 */
export function connectionExit(send: ConnectionSend | undefined, refused: boolean, heldBack: number, heldBackOk: boolean): number {
  if (refused) return EXIT.refused;
  // A dry run sends nothing: the plan is done.
  if (!send) return EXIT.ok;
  if (send.stopped) return send.stopped.code;
  const e = send?.emit;
  if (e && e.failed > 0) {
    const answered = e.created + e.updated + e.deleted + e.alreadyGone + (e.failed - (e.failedByStatus['0'] ?? 0));
    return answered === 0 ? EXIT.unreachable : EXIT.apiFailed;
  }
  if (send.uncheckedHeldBack) return EXIT.apiFailed;
  if (heldBack > 0) return heldBackOk ? EXIT.ok : EXIT.heldBack;
  return EXIT.ok;
}

/** Each connection's counts and exit code after a run (sent, refused by the guard, or stopped). */
export function connectionOutcomes(
  plan: Plan, keys: string[], refs: Map<string, ConnectionRef>, sent: Map<string, ConnectionSend>,
  refused: Map<string, MassDeleteViolation>, heldBackOk: boolean,
): ConnectionOutcome[] {
  return keys.map((key) => {
    const ref = refs.get(key)!;
    const s = sent.get(key);
    const counts = connectionPlanCounts(plan, key);
    if (s) {
      const e = s.emit;
      Object.assign(counts, { heldBack: e.heldBack, created: e.created, updated: e.updated, deleted: e.deleted, alreadyGone: e.alreadyGone, failed: e.failed });
      // A DELETE not sent because another connection's record of the same instance still maps the ODS record.
      counts.shared += e.keptForOther;
    }
    const exitCode = connectionExit(s, refused.has(key), counts.heldBack, heldBackOk);
    const outcome: ConnectionOutcome = { connection: key, districtNumber: ref.districtNumber, schoolYear: ref.schoolYear, exitCode, exitReason: exitName(exitCode), counts };
    const v = refused.get(key);
    if (v) {
      outcome.message = `refused: ${v.deletes} delete(s) of ${v.mapped} mapped record(s); the limit is ${v.limit}`;
      outcome.fix = 'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete.';
    }
    if (s?.stopped) {
      outcome.message = s.stopped.message;
      if (s.stopped.fix) outcome.fix = s.stopped.fix;
    }
    return outcome;
  });
}

/** The end of a run: the counts, each connection that did not end ok, the exit code. */
export function reportOutcomes(summary: RunSummary, total: EmitSummary, plan: Plan, log: RunLog, sent: boolean): void {
  if (sent && log.format === 'text') log.event('info', 'summary', {}, emitSummaryText(total, plan));
  for (const c of summary.connections) {
    const show = log.format === 'json' || c.exitCode !== EXIT.ok || summary.connections.length > 1;
    if (!show) continue;
    log.event(c.exitCode === EXIT.ok || c.exitCode === EXIT.heldBack ? 'info' : 'error', 'connection-end', {
      connection: c.connection, counts: { ...c.counts }, exitCode: c.exitCode, exitReason: c.exitReason,
      ...(c.message ? { reason: c.message } : {}), ...(c.fix ? { fix: c.fix } : {}),
    }, outcomeText(c));
  }
  if (sent && total.failed + total.heldBack > 0 && log.format === 'text') {
    log.event('warn', 'not-sent', {}, `${total.failed} record(s) failed, ${total.heldBack} held back (see \`edfi-sync errors\`)`);
  }
}

function outcomeText(c: ConnectionOutcome): string {
  const n = c.counts;
  const head = `connection ${c.connection} (district ${c.districtNumber ?? '?'}, school year ${c.schoolYear}): ${c.exitReason} — ` +
    `${n.created} new, ${n.updated} updated, ${n.deleted} deleted, ${n.unchanged} unchanged, ${n.shared ? `${n.shared} shared, ` : ''}${n.heldBack} held back, ${n.failed} failed`;
  return [head, c.message && `  ${c.message}`, c.fix && `  fix: ${c.fix}`].filter(Boolean).join('\n');
}

