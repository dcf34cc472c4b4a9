import type { Database } from 'better-sqlite3';
import type { RunLog } from '../log/run-log.js';
import { acquireLocks, connectionLock, holderText, type LockRow } from '../state/lock.js';
import { markInterrupted } from '../state/runs.js';

/**
 * The locks of a run's connections. A lock taken over from a run that stopped without finishing (killed, its pod
 * evicted) is said, with what it may have left: POSTs the ODS answered but the run could not write down are sent
 * again only if Campus still wants them; a record Campus no longer wants stays in the ODS until a resync. Its run is
 * marked interrupted (it read "running" for ever).
 */
export function lockConnections(db: Database, connections: string[], log: RunLog): () => void {
  const taken: LockRow[] = [];
  const release = acquireLocks(db, connections.map(connectionLock), (row) => taken.push(row));
  for (const row of taken) {
    const connection = row.name.replace(/^connection:/, '');
    const runs = markInterrupted(db, row.name.startsWith('connection:') ? connection : null);
    log.event('warn', 'lock-taken-over', { connection, holder: holderText(row), interruptedRuns: runs },
      `${row.name.startsWith('connection:') ? `connection ${connection}` : 'state file'}: took over the lock of a run that stopped without finishing (${holderText(row)})` +
      `${runs.length > 0 ? `; run ${runs.join(', ')} marked interrupted` : ''}. Records it sent but had not written down are sent again if Campus still wants them; ` +
      `if Campus changed since, run \`edfi-sync resync${row.name.startsWith('connection:') ? ` --connection ${connection}` : ''}\` to remove what it no longer wants.`);
  }
  return release;
}
