import type { Command } from 'commander';
import { connectionLock, holderText, lockRows, lockState, WHOLE_STATE } from '../../state/lock.js';
import { markInterrupted } from '../../state/runs.js';
import { usageError } from '../cli-error.js';
import { EXIT } from '../exit-codes.js';
import { openStateFile } from '../state-file.js';

export interface UnlockOptions {
  state: string;
  connection?: string[];
  all?: boolean;
  force?: boolean;
}

/**
 * Ends locks whose run is gone, for an operator: a run on another host (a pod evicted, a container removed) cannot be
 * asked whether it is alive, so its lock stays until it has been silent for the stale time. A lock whose holder this
 * host can see alive is refused unless --force. Returns the exit code.
 */
export function unlock(o: UnlockOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  if (!o.all && (!o.connection || o.connection.length === 0)) throw usageError('name the locks to end: --connection KEY (repeatable) or --all');
  const db = openStateFile(o.state, { mustExist: true });
  try {
    const names = o.all ? undefined : new Set(o.connection!.map(connectionLock));
    const rows = lockRows(db).filter((r) => !names || names.has(r.name));
    if (rows.length === 0) {
      out('No lock to end: no run holds these connections.');
      return EXIT.ok;
    }
    let refused = 0;
    for (const row of rows) {
      const what = row.name === WHOLE_STATE ? 'the state file' : row.name.replace(/^connection:/, 'connection ');
      if (lockState(row) === 'live' && !o.force) {
        out(`kept: ${what}, held by ${holderText(row)}; it looks alive (use --force if you know it is gone)`);
        refused++;
        continue;
      }
      db.prepare('DELETE FROM lock WHERE name = ? AND pid = ? AND token IS ?').run(row.name, row.pid, row.token);
      const runs = markInterrupted(db, row.name === WHOLE_STATE ? null : row.name.replace(/^connection:/, ''));
      out(`ended: ${what}, held by ${holderText(row)}${runs.length ? ` (run ${runs.join(', ')} marked interrupted)` : ''}`);
    }
    if (rows.length > refused) out('A run that stopped while sending may have left records Campus no longer wants in the ODS: `edfi-sync resync` removes them.');
    return refused > 0 ? EXIT.refused : EXIT.ok;
  } finally {
    db.close();
  }
}

export function registerUnlock(program: Command): void {
  program
    .command('unlock')
    .description('End the locks a run left when it stopped without finishing (its container removed, its pod evicted on another host)')
    .requiredOption('--state <file>', 'state file')
    .option('--connection <key...>', 'the connections whose locks end (districtID:endYear)')
    .option('--all', 'every lock of the state file')
    .option('--force', 'end a lock even if its holder looks alive on this host')
    .action((o: UnlockOptions) => {
      process.exitCode = unlock(o);
    });
}
