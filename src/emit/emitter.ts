import type { Database } from 'better-sqlite3';
import type { Plan } from '../plan/plan-types.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { ErrorLog } from '../state/error-log.js';
import type { Operation } from '../types.js';
import type { ResourceApi } from './api.js';
import { EdFiAuthError } from './token.js';
import { PoolStoppedError, TaskPool } from './pool.js';
import { OutcomeRecorder } from './record-outcome.js';

export interface EmitOptions {
  /** One API for every connection, or one per connection (year-specific ODS instances). */
  api: ResourceApi | ((connection: string) => ResourceApi);
  profile: LoadedProfile;
  plan: Plan;
  state: Database;
  runId: number | null;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EmitSummary {
  created: number;
  updated: number;
  deleted: number;
  alreadyGone: number;
  failed: number;
  /** Records not sent because the plan held them back (invalid body, duplicate key, immutable change). */
  heldBack: number;
  failedByStatus: Record<string, number>;
  failedByError: Record<string, number>;
  /** Set when the run stopped early (credentials refused): the rest was not attempted. */
  aborted?: string;
}

function emptySummary(): EmitSummary {
  return { created: 0, updated: 0, deleted: 0, alreadyGone: 0, failed: 0, heldBack: 0, failedByStatus: {}, failedByError: {} };
}

/** Groups operations into units that must run in order: a key change's DELETE then POST. */
function unitsOf(ops: Operation[]): Operation[][] {
  const units: Operation[][] = [];
  const byUnit = new Map<string, Operation[]>();
  for (const op of ops) {
    if (op.unit) {
      let u = byUnit.get(op.unit);
      if (!u) {
        byUnit.set(op.unit, (u = []));
        units.push(u);
      }
      u.push(op);
    } else {
      units.push([op]);
    }
  }
  return units;
}

/** Phase of a unit: all deletes finish before key changes, key changes before new records, those before updates. */
function phaseOf(unit: Operation[]): number {
  const first = unit[0]!;
  if (unit.length > 1 || first.unit) return 1;
  return first.method === 'DELETE' ? 0 : first.method === 'POST' ? 2 : 3;
}

/** Executes a plan against an Ed-Fi API and records every outcome in the state file as it happens. */
export async function emitPlan(o: EmitOptions): Promise<EmitSummary> {
  const summary = emptySummary();
  const resourcePath = o.profile.def.resource.path;
  const recorder = new OutcomeRecorder(o.state, o.profile.catalogue, o.runId);

  // Records the plan held back ("held back, not sent", with the check that held them) and plan warnings stay
  // readable after the run, in the same log as the API's errors.
  const log = new ErrorLog(o.state);
  log.addHeldBack(o.plan.issues, o.profile.catalogue, o.runId);
  log.addWarnings(o.plan.warnings, o.plan.resource, o.runId, o.profile.catalogue);
  summary.heldBack = o.plan.issues.length;
  for (const f of o.plan.forget) recorder.forget(f.connection, o.plan.resource, f.sourceKey);

  const fail = (op: Operation, status: number, message: string): void => {
    const entry = recorder.failed(op, status, message);
    if (entry.level === 'info') return;
    summary.failed++;
    summary.failedByStatus[String(status)] = (summary.failedByStatus[String(status)] ?? 0) + 1;
    summary.failedByError[entry.id] = (summary.failedByError[entry.id] ?? 0) + 1;
  };

  const apiFor = (op: Operation): ResourceApi => (typeof o.api === 'function' ? o.api(op.connection) : o.api);
  const runOne = async (op: Operation): Promise<boolean> => {
    const api = apiFor(op);
    if (op.method === 'DELETE') {
      if (recorder.heldByAnother(op)) {
        // Deleting would take a record another Campus record still maps to out of the ODS.
        recorder.letGo(op);
        return true;
      }
      const r = await api.delete(resourcePath, op.id!);
      if (r.ok) {
        summary.deleted++;
        recorder.succeeded(op, r.status, op.id);
        return true;
      }
      if (r.status === 404) {
        // "This error can be ignored. The ID was cleared from the Ed-Fi Identity Mapping Report."
        summary.alreadyGone++;
        recorder.failed(op, 404, r.message ?? 'Resource to delete was not found.');
        if (op.unit) recorder.succeeded(op, 404, undefined);
        return true;
      }
      fail(op, r.status, r.message ?? `HTTP ${r.status}`);
      return false;
    }
    if (op.method === 'PUT') {
      const r = await api.put(resourcePath, op.id!, op.body ?? {});
      if (r.ok) {
        summary.updated++;
        recorder.succeeded(op, r.status, op.id);
        return true;
      }
      if (r.status === 404) {
        // The ODS lost the record: forget the stale id and create it again.
        recorder.failed(op, 404, r.message ?? 'Resource to update was not found.');
        const { id: _id, ...body } = op.body ?? {};
        return runOne({ ...op, method: 'POST', id: undefined, body, reason: 'PUT found no record: sent as new' });
      }
      fail(op, r.status, r.message ?? `HTTP ${r.status}`);
      return false;
    }
    const r = await api.post(resourcePath, op.body ?? {});
    if (r.ok) {
      if (r.status === 201) summary.created++;
      else summary.updated++;
      recorder.succeeded(op, r.status, r.id);
      return true;
    }
    fail(op, r.status, r.message ?? `HTTP ${r.status}`);
    return false;
  };

  const units = unitsOf(o.plan.operations);
  const total = o.plan.operations.length;
  let done = 0;
  const pool = new TaskPool<void>(Math.max(1, o.concurrency ?? 8));
  for (let phase = 0; phase <= 3; phase++) {
    const inPhase = units.filter((u) => phaseOf(u) === phase);
    const tasks = inPhase.map((unit) =>
      pool.submit({
        run: async () => {
          for (const op of unit) {
            const ok = await runOne(op);
            done++;
            o.onProgress?.(done, total);
            // A key change's POST is not sent when its DELETE failed: both stay owed for the next run.
            if (!ok) {
              done += unit.length - unit.indexOf(op) - 1;
              break;
            }
          }
        },
      }),
    );
    const settled = await Promise.allSettled(tasks);
    const authFailure = settled.find((s) => s.status === 'rejected');
    if (authFailure) {
      // The pool stops at the first throw (the credentials were refused); the rest would fail the same way.
      let cause: unknown = (authFailure as PromiseRejectedResult).reason;
      if (cause instanceof PoolStoppedError) cause = cause.reason;
      summary.aborted = cause instanceof EdFiAuthError ? cause.message : `stopped: ${(cause as Error).message}`;
      break;
    }
  }
  return summary;
}
