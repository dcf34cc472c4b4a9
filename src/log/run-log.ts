import { pino, stdTimeFunctions, type Logger } from 'pino';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';

/** What an event carries besides its name: the connection it is about and its counts. No credential, ever. */
export interface EventFields {
  connection?: string;
  counts?: Record<string, number>;
  [field: string]: unknown;
}

/**
 * The log of one command run. In text format (a person at a terminal) events print their human text; in json
 * format (a log collector) every event is one JSON object per line: time, level, runId, connection, event, counts.
 * Both go to stderr: stdout carries the command's data (plan operations, listings).
 */
export interface RunLog {
  readonly runId: string;
  readonly format: LogFormat;
  /** Whether info-level output is wanted (false with --quiet). */
  readonly verbose: boolean;
  event(level: LogLevel, event: string, fields: EventFields, text?: string): void;
}

// Resolved at each write, so a test that replaces process.stderr.write sees the lines.
const stderrStream = { write: (s: string): boolean => process.stderr.write(s) };

export function createRunLog(o: { runId: string; format?: LogFormat; quiet?: boolean; stream?: { write(s: string): unknown } }): RunLog {
  const format = o.format ?? 'text';
  const verbose = !o.quiet;
  const stream = o.stream ?? stderrStream;
  let logger: Logger | undefined;
  if (format === 'json') {
    logger = pino(
      {
        base: { runId: o.runId },
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        messageKey: 'msg',
      },
      stream,
    );
  }
  return {
    runId: o.runId,
    format,
    verbose,
    event(level, event, fields, text) {
      if (level === 'info' && !verbose) return;
      // A JSON line carries the first line of the human text as its message; the counts carry the rest.
      if (logger) logger[level]({ event, ...fields }, text?.split('\n')[0]);
      else if (text !== undefined) stream.write(text.endsWith('\n') ? text : `${text}\n`);
    },
  };
}

export function isLogFormat(v: string): v is LogFormat {
  return v === 'text' || v === 'json';
}
