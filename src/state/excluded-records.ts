import type { Database } from 'better-sqlite3';
import type { ExcludedRecord } from '../plan/plan-types.js';
import type { Migration } from './state-db.js';

/** Records the report lists per run; the counts by reason are kept whole. */
export const EXCLUDED_SAMPLE = 500;

/** Counts of records kept out by the rules, per run and reason: the report reads these, whatever the sample holds. */
export const EXCLUDED_COUNTS: Migration = {
  name: 'excluded-counts',
  sql: `CREATE TABLE excluded_counts (
          run_id   INTEGER NOT NULL,
          reasons  TEXT NOT NULL,
          n        INTEGER NOT NULL,
          PRIMARY KEY (run_id, reasons)
        );`,
};

/**
 * The records the rules kept out of a run, for the report: the counts by reason and the first EXCLUDED_SAMPLE
 * records (a first night of a large state excludes hundreds of thousands; nobody reads them one by one). Kept for
 * the last five runs only.
 */
export function recordExcluded(db: Database, runId: number, sample: ExcludedRecord[], counts: Array<{ reasons: string; n: number }>): void {
  const insert = db.prepare('INSERT INTO excluded (run_id, connection, source_key, student, kind, rule_ids, reasons) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const count = db.prepare(`INSERT INTO excluded_counts (run_id, reasons, n) VALUES (?, ?, ?)
    ON CONFLICT (run_id, reasons) DO UPDATE SET n = n + excluded.n`);
  db.transaction(() => {
    db.prepare('DELETE FROM excluded WHERE run_id NOT IN (SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 5)').run();
    db.prepare('DELETE FROM excluded_counts WHERE run_id NOT IN (SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 5)').run();
    for (const c of counts) count.run(runId, c.reasons, c.n);
    for (const x of sample.slice(0, EXCLUDED_SAMPLE)) {
      insert.run(runId, x.connection, x.sourceKey, x.student, x.decision.kind, x.decision.ruleIds.join(' '), x.decision.reasons.join('; '));
    }
  })();
}
