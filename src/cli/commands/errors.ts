import type { Command } from 'commander';
import { ErrorLog, HELD_BACK, type ErrorLogEntry } from '../../state/error-log.js';
import { openStateFile } from '../state-file.js';

const COLUMNS: Array<keyof ErrorLogEntry> = [
  'errorId', 'state', 'firstSeen', 'lastSeen', 'count', 'connection', 'resource', 'sourceKey', 'student', 'method', 'status', 'heldBack',
  'level', 'catalogueId', 'message', 'specMessage', 'cause', 'fix', 'resolvedAt',
];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What happened to the record: the request that failed, or that it was held back and by which check. */
export function whatHappened(r: ErrorLogEntry): string {
  if (r.heldBack) return `${HELD_BACK} (check: ${r.heldBack})`;
  if (r.method) return `${r.method} ${r.status ?? ''}`.trim();
  return r.level === 'warning' ? 'warning' : 'not sent';
}

export function errorsAsText(rows: ErrorLogEntry[], all = false): string {
  if (rows.length === 0) return all ? 'The error log is empty.' : 'No open problems in the error log (`--all` shows resolved ones too).';
  return rows
    .map((r) => {
      const seen = r.count && r.count > 1 ? `first seen ${r.firstSeen}, last seen ${r.lastSeen}, ${r.count} times` : `seen ${r.lastSeen ?? r.at}`;
      const state = r.state === 'resolved' ? `RESOLVED ${r.resolvedAt ?? ''}${r.resolution ? ` (${r.resolution})` : ''}` : 'OPEN';
      // Lines with nothing to say (a connection-level problem has no spec text, a warning may have no fix) are left out.
      return [
        `#${r.errorId} ${state} ${r.level.toUpperCase()} ${whatHappened(r)} ${r.resource ?? ''} ${r.sourceKey ?? ''}${r.student ? ` student ${r.student}` : ''} (connection ${r.connection ?? '-'})`,
        `  ${seen}`,
        `  message: ${r.message}`,
        r.specMessage ? `  spec:    ${r.specMessage}${r.catalogueId ? ` [${r.catalogueId}]` : ''}` : r.catalogueId ? `  id:      ${r.catalogueId}` : '',
        r.cause ? `  cause:   ${r.cause}` : '',
        r.fix ? `  fix:     ${r.fix}` : '',
      ].filter(Boolean).join('\n');
    })
    .join('\n\n') + `\n\n${rows.length} ${all ? '' : 'open '}entr${rows.length === 1 ? 'y' : 'ies'}`;
}

interface ErrorsOptions {
  state: string;
  resource?: string;
  status?: number;
  student?: string;
  connection?: string;
  run?: number;
  level?: string;
  all?: boolean;
  format: string;
}

export function registerErrors(program: Command): void {
  program
    .command('errors')
    .description("Print the error log's open problems: one entry per record and problem with first and last seen, count, the API's message and the spec's cause and fix")
    .requiredOption('--state <file>', 'state file')
    .option('--all', 'also the resolved entries (the history)')
    .option('--resource <name>', 'only this resource')
    .option('--connection <key>', "only this connection 'districtID:endYear'")
    .option('--status <code>', 'only this HTTP status', (v) => parseInt(v, 10))
    .option('--student <id>', 'only this student (state ID)')
    .option('--run <id>', 'only entries seen in this run (its number in the state file)', (v) => parseInt(v, 10))
    .option('--level <level>', 'error, warning or info')
    .option('--format <format>', 'text, csv or json', 'text')
    .action((o: ErrorsOptions) => {
      const db = openStateFile(o.state, { mustExist: true });
      try {
        const rows = new ErrorLog(db).list({
          resource: o.resource, status: o.status, student: o.student, connection: o.connection, runId: o.run, level: o.level,
          state: o.all ? 'all' : 'open',
        });
        if (o.format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else if (o.format === 'csv') {
          process.stdout.write(COLUMNS.join(',') + '\n' + rows.map((r) => COLUMNS.map((c) => csvCell(r[c])).join(',')).join('\n') + (rows.length ? '\n' : ''));
        } else process.stdout.write(errorsAsText(rows, o.all) + '\n');
      } finally {
        db.close();
      }
    });
}
