import type { Database } from 'better-sqlite3';
import type { CatalogueEntry, ErrorCatalogue } from '../errors/catalogue.js';
import type { PlanIssue, PlanWarning } from '../plan/plan-types.js';
import { entryFor, ErrorLog, heldBackEntry } from '../state/error-log.js';
import { IdentityMap, naturalKeyHash, OwedDeletes, type IdentityRow } from '../state/identity-map.js';
import type { JsonObject, Operation } from '../types.js';
import { hashJson } from '../util/hash.js';

export interface RecorderOptions {
  /** Outcomes written per transaction at most (default 1024). */
  batch?: number;
  /** The longest an outcome waits for its transaction, in ms (default 200). */
  intervalMs?: number;
}

/**
 * Writes what the API calls did into the state file, a batch of outcomes per transaction (one transaction per
 * call was most of the emitter's own cost). Crash-safe all the same: every outcome is a fact a re-run can learn
 * again from the ODS. A POST whose outcome was lost is re-sent and the ODS upserts it by natural key (200); a lost
 * DELETE meets 404 and is cleared; a key change whose outcome was lost is planned again from the old row, and its
 * POST finds the new record by natural key. A key change's owed DELETE is written in the same transaction as its
 * POST's outcome, so the old record is never forgotten while it still exists.
 */
export class OutcomeRecorder {
  private readonly identity: IdentityMap;
  private readonly owed: OwedDeletes;
  private readonly errors: ErrorLog;
  private readonly batch: number;
  private readonly intervalMs: number;
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Ed-Fi ids a key change or a take-over wrote in this run: a later DELETE of them would remove a wanted record. */
  private readonly claimedNow = new Set<string>();

  constructor(private readonly db: Database, private readonly catalogue: ErrorCatalogue, private readonly runId: number | null, opts: RecorderOptions = {}) {
    this.identity = new IdentityMap(db);
    this.owed = new OwedDeletes(db);
    this.errors = new ErrorLog(db);
    // Each transaction rewrites the pages it touched; more outcomes per transaction share them.
    this.batch = opts.batch ?? 1024;
    this.intervalMs = opts.intervalMs ?? 200;
  }

  private enqueue(write: () => void): void {
    this.queue.push(write);
    if (this.queue.length >= this.batch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  /** Writes every queued outcome in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const writes = this.queue;
    this.queue = [];
    // IMMEDIATE: parallel per-connection jobs share a state file; a transaction that starts as a reader and then
    // writes could meet another writer and fail instead of waiting.
    this.db.transaction(() => {
      for (const w of writes) w();
    }).immediate();
  }

  private now(): string {
    return new Date().toISOString();
  }

  private existing(op: Operation): IdentityRow | undefined {
    return this.identity.get(op.connection, op.resource, op.sourceKey);
  }

  private student(op: Operation): string | null {
    return op.student ?? this.existing(op)?.student ?? null;
  }

  /** A POST or PUT went through: the record now owns the ODS record `id` of its natural key. */
  written(op: Operation, status: number, id: string | undefined): void {
    if (op.unit || op.takesOver) this.claimedNow.add(`${op.instance ?? ''}|${id ?? op.id ?? ''}`);
    const at = this.now();
    this.enqueue(() => {
      const instance = op.instance ?? this.existing(op)?.instance ?? null;
      const body = { ...(op.body ?? {}) };
      delete body.id;
      const edfiId = id ?? op.id ?? null;
      const me = { connection: op.connection, sourceKey: op.sourceKey };
      const nkHash = naturalKeyHash(op.naturalKey);
      const from = op.takesOver && 'connection' in op.takesOver ? op.takesOver : undefined;
      if (from && !from.stillWanted) {
        // The record that held this ODS record is no longer wanted at all: its row goes with its claim.
        const prev = this.identity.get(from.connection, op.resource, from.sourceKey);
        if (prev && prev.edfiId === edfiId) this.identity.remove(from.connection, op.resource, from.sourceKey);
      }
      if (instance !== null && edfiId) {
        // One owner per ODS record and natural key in the instance: whoever claimed either before lets go. A POST
        // answered 201 made a new record: only a stale claim on its natural key can be in the way.
        this.identity.releaseKey(instance, op.resource, nkHash, me);
        if (status !== 201 || op.method === 'PUT' || op.takesOver) {
          this.identity.releaseId(instance, op.resource, edfiId, me);
          this.owed.remove(instance, op.resource, edfiId);
          this.owed.removeByKey(instance, op.resource, nkHash);
        }
        const old = op.replaces;
        if (old?.owed && old.id !== edfiId) {
          const before = this.existing(op);
          this.owed.add({
            instance, resource: op.resource, edfiId: old.id, nkHash: naturalKeyHash(old.naturalKey), naturalKey: old.naturalKey,
            connection: op.connection, sourceKey: op.sourceKey, student: before?.student ?? op.student ?? null, reason: op.reason, since: at,
          });
        }
      }
      this.identity.upsert({
        connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: op.student ?? this.existing(op)?.student ?? null, instance, edfiId,
        naturalKey: op.naturalKey, body, bodyHash: op.bodyHash ?? hashJson(body), lastMethod: op.method, lastStatus: status,
        lastOutcome: 'ok', lastSentAt: at,
      }, nkHash);
      this.errors.resolve(op.connection, op.resource, op.sourceKey, this.runId);
      if (!edfiId) {
        // Sent, but the API named no id (a gateway that drops the Location header): the record is POSTed again every
        // night (an upsert, no duplicate) and cannot be deleted until its id is known. Said, not hidden.
        this.errors.add({
          runId: this.runId, at, connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: op.student ?? null, method: op.method, status,
          level: 'warning', catalogueId: 'emit.id-unknown', specMessage: null, body: null,
          message: `the API answered ${status} without a Location header: the record was sent but its Ed-Fi id is unknown`,
          cause: 'The Ed-Fi API (or a gateway in front of it) answered the POST without the Location header that names the new record\'s id.',
          fix: 'Run `edfi-sync resync` for the connection: it finds the record in the ODS by its natural key and keeps its id, so later changes are sent as PUTs and a record Campus drops can be deleted. Check that the gateway passes the Location header through.',
        });
      }
    });
  }

  /** A DELETE went through (or met 404): the ODS record is gone. */
  deleted(op: Operation, status: number): void {
    this.releaseClaim(op, status, 'deleted');
  }

  /**
   * This record no longer holds `op.id` (deleted, or another record holds it). The first half of a key-change-field
   * DELETE then POST keeps its row without an id, so the POST is still owed if this run stops here; otherwise the
   * record is gone from the mapping.
   */
  private releaseClaim(op: Operation, status: number | null, outcome: 'deleted' | 'released'): void {
    const at = this.now();
    this.enqueue(() => {
      const instance = op.instance ?? this.existing(op)?.instance ?? null;
      if (instance !== null && op.id) this.owed.remove(instance, op.resource, op.id);
      const row = this.existing(op);
      if (row && row.edfiId === op.id) {
        if (op.restore) this.identity.upsert({ ...row, edfiId: null, lastMethod: 'DELETE', lastStatus: status, lastOutcome: outcome, lastSentAt: at });
        else this.identity.remove(op.connection, op.resource, op.sourceKey);
      }
      this.errors.resolve(op.connection, op.resource, op.sourceKey, this.runId);
    });
  }

  /** The old body went back in after a key-change-field POST was refused: the record is as it was before. */
  restored(op: Operation, status: number, id: string | undefined, oldBody: JsonObject): void {
    const at = this.now();
    this.enqueue(() => {
      const row = this.existing(op);
      if (!row) return;
      this.identity.upsert({ ...row, edfiId: id ?? null, body: oldBody, bodyHash: hashJson(oldBody), lastMethod: 'POST', lastStatus: status, lastOutcome: 'ok', lastSentAt: at });
    });
  }

  /** Logs a failure with the spec's cause and fix; returns the catalogue entry so the caller can act on it. */
  failed(op: Operation, status: number, message: string): CatalogueEntry {
    const entry = this.catalogue.match(status, op.method, message);
    const at = this.now();
    this.enqueue(() => {
      const logged = entryFor({
        runId: this.runId, at, connection: op.connection, resource: op.resource, sourceKey: op.sourceKey,
        student: this.student(op), method: op.method, status, message, body: op.body ? JSON.stringify(op.body) : null,
      }, entry);
      if (entry.level !== 'info') this.errors.supersede(logged);
      this.errors.add(logged);
      const row = this.existing(op);
      if (entry.clearsIdentity) {
        this.gone(op, row, status, at);
      } else if (row && op.method !== 'DELETE') {
        // Keep the body last sent with success: the next run compares against what the ODS really holds.
        this.identity.upsert({ ...row, lastMethod: op.method, lastStatus: status, lastOutcome: 'error', lastSentAt: at });
      } else if (row && op.method === 'DELETE' && row.edfiId === op.id) {
        this.identity.upsert({ ...row, lastMethod: op.method, lastStatus: status, lastOutcome: 'error', lastSentAt: at });
      } else if (!row && op.method === 'POST' && op.body) {
        // A record that never reached the ODS: remembered without an id, so it is POSTed again next run.
        this.identity.upsert({
          connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: this.student(op), instance: op.instance ?? null,
          edfiId: null, naturalKey: op.naturalKey, body: op.body, bodyHash: op.bodyHash ?? hashJson(op.body), lastMethod: 'POST',
          lastStatus: status, lastOutcome: 'error', lastSentAt: at,
        });
      }
    });
    return entry;
  }

  /** A 404: the ODS no longer has `op.id`; whoever claimed it lets go (a DELETE's debt is settled). */
  private gone(op: Operation, row: IdentityRow | undefined, status: number, at: string): void {
    const instance = op.instance ?? row?.instance ?? null;
    if (instance !== null && op.id) {
      this.owed.remove(instance, op.resource, op.id);
      this.identity.releaseId(instance, op.resource, op.id, { connection: op.connection, sourceKey: op.sourceKey });
    }
    if (!row || row.edfiId !== op.id) return;
    if (op.method === 'DELETE' && !op.restore) this.identity.remove(op.connection, op.resource, op.sourceKey);
    else this.identity.upsert({ ...row, edfiId: null, lastMethod: op.method, lastStatus: status, lastOutcome: 'gone', lastSentAt: at });
  }

  /**
   * Another record holds the Ed-Fi id this DELETE would remove (its claim moved in this run, or an older state
   * file mapped one ODS record twice): the record is still wanted and must stay.
   */
  heldByAnother(op: Operation): boolean {
    if (op.method !== 'DELETE' || !op.id) return false;
    if (this.claimedNow.has(`${op.instance ?? ''}|${op.id}`)) return true;
    return this.identity.holders(op.resource, op.id).some((r) => !(r.connection === op.connection && r.sourceKey === op.sourceKey)
      && (op.instance === undefined || r.instance === null || r.instance === op.instance));
  }

  /** A DELETE not sent because another record holds the id: only this record's claim on it is dropped. */
  letGo(op: Operation): void {
    this.releaseClaim(op, null, 'released');
  }

  forget(connection: string, resource: string, sourceKey: string): void {
    this.enqueue(() => {
      this.identity.remove(connection, resource, sourceKey);
      this.errors.resolve(connection, resource, sourceKey, this.runId, 'no longer wanted');
    });
  }

  /** A record the plan held back ("held back, not sent", with the check that held it), or a warning about one record. */
  issue(i: PlanIssue): void {
    if (i.level === 'warning') {
      this.warning(i.resource, { id: i.catalogueId, message: i.message, connection: i.connection, sourceKey: i.sourceKey, student: i.student });
      return;
    }
    const e = heldBackEntry(i, this.catalogue, this.runId, this.now());
    this.enqueue(() => this.errors.add(e));
  }

  /** A plan warning (a school year without a valid configuration, a sanity rule of severity warn about one record, ...). */
  warning(resource: string, w: PlanWarning): void {
    const at = this.now();
    const c = this.catalogue.byId(w.id);
    this.enqueue(() => this.errors.add({
      runId: this.runId, at, connection: w.connection ?? null, resource, sourceKey: w.sourceKey ?? null, student: w.student ?? null, method: null, status: null,
      level: 'warning', message: w.message, catalogueId: w.id, specMessage: c?.specMessage ?? null, cause: c?.cause ?? null, fix: c?.fix ?? null, body: null,
    }));
  }
}
