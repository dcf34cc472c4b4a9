import { CommanderError } from 'commander';
import { ConfigError } from '../util/errors.js';
import { EXIT } from './exit-codes.js';

/** A failure the command line reports with its own exit code and no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
export const inputError = (message: string): CliError => new CliError(message, EXIT.input);

/** The exit code a thrown error stands for. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof ConfigError) return EXIT.config;
  const e = err as { name?: string; exitCode?: unknown };
  if (e?.name === 'SnapshotSchemaError') return EXIT.input;
  if (e?.name === 'MissingCredentialsError') return EXIT.config;
  return typeof e?.exitCode === 'number' ? e.exitCode : EXIT.internal;
}

/** The message printed for it: analyst-file problems as a located list. */
export function errorText(err: unknown): string {
  if (err instanceof ConfigError) {
    return `Invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n${err.message}`;
  }
  const e = err as { name?: string; message?: string };
  if (e?.name === 'SnapshotSchemaError') return String(e.message);
  return `edfi-sync: ${e?.message ?? String(err)}`;
}
