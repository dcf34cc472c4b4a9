import type { Command } from 'commander';

// The options every sending command shares, declared once so their names and help read the same everywhere.

export function runOptions(cmd: Command, apiRequired: boolean): Command {
  cmd
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .requiredOption('--state <file>', 'state file: identity mapping, error log, run history (created if missing)');
  if (apiRequired) cmd.requiredOption('--api-base <url>', 'Ed-Fi ODS/API root, e.g. https://ods.example.org/api');
  else cmd.option('--api-base <url>', 'Ed-Fi ODS/API root, e.g. https://ods.example.org/api');
  return cmd
    .option('--data-path <path>', "data API path; year-specific ODS instances: '/data/v3/{endYear}'", '/data/v3')
    .option('--concurrency <n>', 'requests in flight', (v) => parseInt(v, 10), 8)
    .option('--credentials-file <file>', 'file with EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines (keep it outside the profiles)');
}

export function deleteGuardOptions(cmd: Command): Command {
  return cmd
    .option('--allow-mass-delete', 'allow more deletes than the safety limit')
    .option('--max-delete-share <x>', "safety limit: share of a connection's mapped records one run may delete, above 0 and at most 1 (default 0.10)", Number)
    .option('--max-delete-count <n>', 'safety limit: deletes a connection may always make, a whole number (default 5)', Number);
}
