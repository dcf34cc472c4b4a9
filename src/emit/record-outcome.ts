import type { Database } from 'better-sqlite3';
import type { ErrorCatalogue } from '../errors/catalogue.js';
import { entryFor, ErrorLog } from '../state/error-log.js';
import { IdentityMap, type IdentityRow } from '../state/identity-map.js';
import type { Operation } from '../types.js';
import { hashJson } from '../util/hash.js';

/**
 * Writes what one API call did into the state file right away, so a run killed at any point leaves a state
 * the next run converges from: a POST whose answer was lost is re-sent and the ODS upserts it by natural key.
 */
export class OutcomeRecorder {
  private readonly identity: IdentityMap;
  private readonly errors: ErrorLog;

  constructor(private readonly db: Database, private readonly catalogue: ErrorCatalogue, private readonly runId: number | null) {
    this.identity = new IdentityMap(db);
    this.errors = new ErrorLog(db);
  }

  private existing(op: Operation): IdentityRow | undefined {
    return this.identity.get(op.connection, op.resource, op.sourceKey);
  }

  private student(op: Operation): string | null {
    return op.student ?? this.existing(op)?.student ?? null;
  }

  succeeded(op: Operation, status: number, id: string | undefined): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      if (op.method === 'DELETE') {
        if (op.unit) {
          // First half of a key change: the old record is gone; keep the row without an id so the POST half
          // is still owed if this run stops here.
          const row = this.existing(op);
          if (row) this.identity.upsert({ ...row, edfiId: null, lastMethod: 'DELETE', lastStatus: status, lastOutcome: 'deleted', lastSentAt: now });
        } else {
          this.identity.remove(op.connection, op.resource, op.sourceKey);
        }
      } else {
        const body = { ...(op.body ?? {}) };
        delete body.id;
        this.identity.upsert({
          connection: op.connection,
          resource: op.resource,
          sourceKey: op.sourceKey,
          student: this.student(op),
          edfiId: id ?? op.id ?? null,
          naturalKey: op.naturalKey,
          body,
          bodyHash: op.bodyHash ?? hashJson(body),
          lastMethod: op.method,
          lastStatus: status,
          lastOutcome: 'ok',
          lastSentAt: now,
        });
      }
      this.errors.resolve(op.connection, op.resource, op.sourceKey, this.runId);
    }).immediate();
  }

  /** Logs a failure with the spec's cause and fix; returns the catalogue entry so the caller can act on it. */
  failed(op: Operation, status: number, message: string) {
    const entry = this.catalogue.match(status, op.method, message);
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.errors.add(
        entryFor(
          {
            runId: this.runId, at: now, connection: op.connection, resource: op.resource, sourceKey: op.sourceKey,
            student: this.student(op), method: op.method, status, message, body: op.body ? JSON.stringify(op.body) : null,
          },
          entry,
        ),
      );
      const row = this.existing(op);
      if (entry.clearsIdentity) {
        if (row && op.method === 'DELETE' && !op.unit) this.identity.remove(op.connection, op.resource, op.sourceKey);
        else if (row) this.identity.upsert({ ...row, edfiId: null, lastMethod: op.method, lastStatus: status, lastOutcome: 'gone', lastSentAt: now });
      } else if (row) {
        // Keep the body last sent with success: the next run compares against what the ODS really holds.
        this.identity.upsert({ ...row, lastMethod: op.method, lastStatus: status, lastOutcome: 'error', lastSentAt: now });
      } else if (op.method === 'POST' && op.body) {
        // A record that never reached the ODS: remembered without an id, so it is POSTed again next run.
        this.identity.upsert({
          connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: this.student(op), edfiId: null,
          naturalKey: op.naturalKey, body: op.body, bodyHash: op.bodyHash ?? hashJson(op.body), lastMethod: 'POST',
          lastStatus: status, lastOutcome: 'error', lastSentAt: now,
        });
      }
    }).immediate();
    return entry;
  }

  /**
   * Another record's identity row (any connection: a shared ODS instance serves several school years) holding
   * the Ed-Fi id this DELETE would remove. That happens when the other record's POST met this one's natural key
   * and the ODS updated the record instead of creating one: the record is still wanted, so it must stay.
   */
  heldByAnother(op: Operation): IdentityRow | undefined {
    if (op.method !== 'DELETE' || !op.id) return undefined;
    return this.identity.holders(op.resource, op.id).find((r) => r.connection !== op.connection || r.sourceKey !== op.sourceKey);
  }

  /** A DELETE not sent because another record holds the id: only this record's claim on it is dropped. */
  letGo(op: Operation): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      const row = this.existing(op);
      if (op.unit && row) this.identity.upsert({ ...row, edfiId: null, lastMethod: 'DELETE', lastStatus: null, lastOutcome: 'released', lastSentAt: now });
      else this.identity.remove(op.connection, op.resource, op.sourceKey);
      this.errors.resolve(op.connection, op.resource, op.sourceKey, this.runId);
    }).immediate();
  }

  forget(connection: string, resource: string, sourceKey: string): void {
    this.db.transaction(() => {
      this.identity.remove(connection, resource, sourceKey);
      this.errors.resolve(connection, resource, sourceKey, this.runId, 'no longer wanted');
    }).immediate();
  }
}
