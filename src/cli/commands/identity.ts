import type { Command } from 'commander';
import { IdentityMap, type IdentityRow } from '../../state/identity-map.js';
import { openStateFile } from '../state-file.js';

const COLUMNS = ['connection', 'resource', 'sourceKey', 'student', 'edfiId', 'lastMethod', 'lastStatus', 'lastOutcome', 'lastSentAt'] as const;

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function identityText(rows: IdentityRow[]): string {
  if (rows.length === 0) return 'No records in the identity mapping.';
  const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line([...COLUMNS]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(COLUMNS.map((c) => String(r[c] ?? ''))))].join('\n') + `\n${rows.length} record(s)`;
}

export function registerIdentity(program: Command): void {
  program
    .command('identity')
    .description('The Ed-Fi Identity Mapping Report: every record sent, its Ed-Fi id and last outcome')
    .requiredOption('--state <file>', 'state file')
    .option('--student <id>', 'only this student')
    .option('--source-key <key>', 'only this Campus record')
    .option('--edfi-id <id>', 'only this Ed-Fi id')
    .option('--resource <name>', 'only this resource')
    .option('--format <format>', 'text, csv or json', 'text')
    .action((o: { state: string; student?: string; sourceKey?: string; edfiId?: string; resource?: string; format: string }) => {
      const db = openStateFile(o.state, { mustExist: true });
      try {
        const rows = new IdentityMap(db).find({ student: o.student, sourceKey: o.sourceKey, edfiId: o.edfiId, resource: o.resource });
        if (o.format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else if (o.format === 'csv') process.stdout.write([COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n');
        else process.stdout.write(identityText(rows) + '\n');
      } finally {
        db.close();
      }
    });
}
