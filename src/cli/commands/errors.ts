import type { Command } from 'commander';
import { ErrorLog, type ErrorLogEntry } from '../../state/error-log.js';
import { openState } from '../../state/state-db.js';

const COLUMNS: Array<keyof ErrorLogEntry> = ['at', 'connection', 'sourceKey', 'student', 'method', 'status', 'level', 'catalogueId', 'message', 'cause', 'fix'];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function errorsAsText(rows: ErrorLogEntry[]): string {
  if (rows.length === 0) return 'The error log is empty.';
  return rows
    .map((r) => [
      `#${r.errorId} ${r.at} ${r.level.toUpperCase()} ${r.method ?? ''} ${r.status ?? ''} ${r.resource ?? ''} ${r.sourceKey ?? ''}${r.student ? ` student ${r.student}` : ''} (connection ${r.connection ?? '-'})`,
      `  message: ${r.message}`,
      `  spec:    ${r.specMessage ?? ''} [${r.catalogueId ?? ''}]`,
      `  cause:   ${r.cause ?? ''}`,
      `  fix:     ${r.fix ?? ''}`,
    ].join('\n'))
    .join('\n\n') + `\n\n${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}`;
}

export function registerErrors(program: Command): void {
  program
    .command('errors')
    .description("Print the error log: each failed record with the API's message and the spec's cause and fix")
    .requiredOption('--state <file>', 'state file')
    .option('--resource <name>', 'only this resource')
    .option('--status <code>', 'only this HTTP status', (v) => parseInt(v, 10))
    .option('--student <id>', 'only this student (state ID)')
    .option('--run <id>', 'only this run', (v) => parseInt(v, 10))
    .option('--level <level>', 'error, warning or info')
    .option('--format <format>', 'text, csv or json', 'text')
    .action((o: { state: string; resource?: string; status?: number; student?: string; run?: number; level?: string; format: string }) => {
      const db = openState(o.state);
      try {
        const rows = new ErrorLog(db).list({ resource: o.resource, status: o.status, student: o.student, runId: o.run, level: o.level });
        if (o.format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else if (o.format === 'csv') {
          process.stdout.write(COLUMNS.join(',') + '\n' + rows.map((r) => COLUMNS.map((c) => csvCell(r[c])).join(',')).join('\n') + (rows.length ? '\n' : ''));
        } else process.stdout.write(errorsAsText(rows) + '\n');
      } finally {
        db.close();
      }
    });
}
