import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { htmlReport } from '../../report/html-report.js';
import { inputError } from '../cli-error.js';
import { openStateFile } from '../state-file.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Write one self-contained HTML page for a run: counts, chart, error log with fixes, excluded records')
    .requiredOption('--state <file>', 'state file')
    .requiredOption('--html <file>', 'HTML file to write')
    .option('--run <id>', 'run id (default: the latest sync)', (v) => parseInt(v, 10))
    .action((o: { state: string; html: string; run?: number }) => {
      const db = openStateFile(o.state, { mustExist: true });
      try {
        let html: string;
        try {
          html = htmlReport(db, o.run);
        } catch (err) {
          // No such run (or none yet): the state file does not hold what was asked for.
          throw inputError(`state file ${o.state}: ${(err as Error).message}`);
        }
        writeFileSync(o.html, html);
        process.stderr.write(`wrote ${o.html}\n`);
      } finally {
        db.close();
      }
    });
}
