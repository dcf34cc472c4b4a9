import type { Database } from 'better-sqlite3';
import { phaseOf, planSource, type Plan, type PlanSource } from '../plan/plan-types.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Operation } from '../types.js';
import type { ResourceApi } from './api.js';
import { EdFiAuthError } from './token.js';
import { PoolStoppedError, TaskPool } from './pool.js';
import { OutcomeRecorder, type RecorderOptions } from './record-outcome.js';

export interface EmitOptions {
  /** One API for every connection, or one per connection (year-specific ODS instances). */
  api: ResourceApi | ((connection: string) => ResourceApi);
  profile: LoadedProfile;
  /** A plan in memory or a streamed one (read phase by phase from disk). */
  plan: Plan | PlanSource;
  state: Database;
  runId: number | null;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** How outcomes are batched into transactions (tests of crash safety tune it). */
  recorder?: RecorderOptions;
  /** Once aborted (SIGTERM), no further operation is started; the ones in flight finish and are written down. */
  signal?: AbortSignal;
}

export interface EmitSummary {
  /** Records the ODS did not have before: POST answered 201, or 200 after a retry (the earlier attempt had created it). */
  created: number;
  /** PUTs, and POSTs the ODS answered 200 on the first attempt (it already had the natural key). */
  updated: number;
  deleted: number;
  alreadyGone: number;
  failed: number;
  /** Records not sent because the plan held them back (invalid body, duplicate key, immutable change). */
  heldBack: number;
  /** DELETEs not sent because another record (another school year in a shared ODS) still holds the ODS record. */
  keptForOther: number;
  /** Records put back as they were after a key-change field's new POST was refused. */
  restored: number;
  failedByStatus: Record<string, number>;
  failedByError: Record<string, number>;
  /** Set when the run stopped early (credentials refused): the rest was not attempted. */
  aborted?: string;
}

export function emptyEmitSummary(): EmitSummary {
  return { created: 0, updated: 0, deleted: 0, alreadyGone: 0, failed: 0, heldBack: 0, keptForOther: 0, restored: 0, failedByStatus: {}, failedByError: {} };
}

/** Requests in a row (each retried) answered by no server or a server error, after which a connection stops. */
export const API_DOWN_AFTER = 25;

function isSource(plan: Plan | PlanSource): plan is PlanSource {
  return typeof (plan as PlanSource).operationCount === 'function';
}

/** Operations grouped into units that run in order (a key change), read lazily in emit order. */
function* unitsOf(ops: Iterable<Operation>): Generator<Operation[]> {
  let unit: Operation[] = [];
  for (const op of ops) {
    if (unit.length > 0 && !(op.unit && unit[0]!.unit === op.unit)) {
      yield unit;
      unit = [];
    }
    unit.push(op);
  }
  if (unit.length > 0) yield unit;
}

/**
 * Executes a plan against an Ed-Fi API, phase by phase (deletes, key changes, new records, updates), and records
 * every outcome in the state file. Operations are read as they are sent: a plan of a million records is never
 * in memory at once.
 */
export async function emitPlan(o: EmitOptions): Promise<EmitSummary> {
  const summary = emptyEmitSummary();
  const source = isSource(o.plan) ? o.plan : planSource(o.plan);
  const resourcePath = o.profile.def.resource.path;
  const recorder = new OutcomeRecorder(o.state, o.profile.catalogue, o.runId, o.recorder);
  try {
    for (const i of source.issues()) {
      recorder.issue(i);
      if (i.level !== 'warning') summary.heldBack++;
    }
    for (const w of source.warnings) recorder.warning(source.resource, w);
    for (const f of source.forget()) recorder.forget(f.connection, source.resource, f.sourceKey);
    recorder.flush();

    // An API that answers nothing but server errors (or nothing at all) to this many requests in a row, each already
    // retried, is down: the connection stops rather than log an error for every record of the night.
    let downStreak = 0;
    let stopped: unknown;
    const fail = (op: Operation, status: number, message: string): void => {
      if (status === 0 || status >= 500) {
        if (++downStreak >= API_DOWN_AFTER && !stopped) {
          stopped = new Error(`the Ed-Fi API looks down: ${downStreak} requests in a row got ${status === 0 ? 'no answer' : 'a server error'} (last: ${status === 0 ? '' : `${status} `}${message}); the connection's other operations were not sent`);
        }
      } else downStreak = 0;
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
          summary.keptForOther++;
          recorder.letGo(op);
          return true;
        }
        const r = await api.delete(resourcePath, op.id!);
        if (r.ok) {
          summary.deleted++;
          recorder.deleted(op, r.status);
          return true;
        }
        if (r.status === 404) {
          // "This error can be ignored. The ID was cleared from the Ed-Fi Identity Mapping Report."
          summary.alreadyGone++;
          recorder.failed(op, 404, r.message ?? 'Resource to delete was not found.');
          return true;
        }
        fail(op, r.status, r.message ?? `HTTP ${r.status}`);
        return false;
      }
      if (op.method === 'PUT') {
        const r = await api.put(resourcePath, op.id!, op.body ?? {});
        if (r.ok) {
          summary.updated++;
          recorder.written(op, r.status, op.id);
          return true;
        }
        if (r.status === 404) {
          // The ODS lost the record: forget the stale id and create it again.
          recorder.failed(op, 404, r.message ?? 'Resource to update was not found.');
          const { id: _id, ...body } = op.body ?? {};
          const { takesOver: _t, ...rest } = op;
          return runOne({ ...rest, method: 'POST', id: undefined, body, reason: 'PUT found no record: sent as new' });
        }
        fail(op, r.status, r.message ?? `HTTP ${r.status}`);
        return false;
      }
      const r = await api.post(resourcePath, op.body ?? {});
      if (r.ok) {
        // A 200 after a retry answers our own earlier attempt, whose answer was lost: the record is new all the same.
        if (r.status === 201 || r.attempts > 1) summary.created++;
        else summary.updated++;
        recorder.written(op, r.status, r.id);
        return true;
      }
      fail(op, r.status, r.message ?? `HTTP ${r.status}`);
      if (op.restore) {
        // A key-change field's DELETE went through but the new body was refused: put the record back as it was.
        const back = await api.post(resourcePath, op.restore);
        if (back.ok) {
          summary.restored++;
          recorder.restored(op, back.status, back.id, op.restore);
        }
      }
      return false;
    };

    const total = source.operationCount();
    let done = 0;
    const concurrency = Math.max(1, o.concurrency ?? 8);
    const pool = new TaskPool<void>(concurrency);
    let phase = -1;
    const onStop = (err: unknown): void => {
      stopped ??= err instanceof PoolStoppedError ? err.reason : err;
    };
    for (const unit of unitsOf(source.operations())) {
      const p = phaseOf(unit[0]!);
      if (p !== phase) {
        // Every delete is done before key changes start, and so on.
        await pool.onIdle();
        phase = p;
      }
      if (stopped || o.signal?.aborted) break;
      await pool.whenBelow(concurrency * 4);
      if (stopped || o.signal?.aborted) break;
      pool.submit({
        run: async () => {
          // A unit queued when the stop came is not started; one started is finished (a key change's DELETE and
          // POST go together).
          if (o.signal?.aborted || stopped) return;
          for (const op of unit) {
            const ok = await runOne(op);
            if (ok) downStreak = 0;
            done++;
            o.onProgress?.(done, total);
            // A later operation of a unit is not sent when an earlier one failed: a key change's old record stays.
            if (!ok) {
              done += unit.length - unit.indexOf(op) - 1;
              break;
            }
          }
        },
      }).catch(onStop);
    }
    await pool.onIdle();
    if (!stopped && o.signal?.aborted) summary.aborted = `stopped by ${String(o.signal.reason)} after ${done} of ${total} operation(s); the rest are sent by the next run`;
    if (stopped) {
      // The pool stops at the first throw (the credentials were refused); the rest would fail the same way.
      summary.aborted = stopped instanceof EdFiAuthError ? stopped.message : `stopped: ${(stopped as Error).message}`;
    }
  } finally {
    recorder.flush();
  }
  return summary;
}
