import type { RunLog } from '../log/run-log.js';
import { errorText, exitCodeOf } from './cli-error.js';
import { exitName } from './exit-codes.js';
import { finishSummary, writeSummaryJson, type RunSummary } from './run-summary.js';

/** Errors a command already reported in its own format (a JSON log line): main does not print them again. */
export const reportedErrors = new WeakSet<object>();

/**
 * Runs a command's body and reports how it ended, in every case: the --summary-json file (with the exit code and
 * reason even when the run failed before it could plan) and the run-end event. A failure is thrown on to main,
 * which sets the exit code.
 */
export async function reportRun(o: { summaryJson?: string }, summary: RunSummary, log: RunLog, body: () => Promise<number>): Promise<number> {
  let code: number;
  try {
    code = await body();
  } catch (err) {
    const failed = exitCodeOf(err);
    const message = errorText(err).replace(/^edfi-sync: /, '');
    finishSummary(summary, failed, message);
    if (o.summaryJson) writeSummaryJson(o.summaryJson, summary);
    if (log.format === 'json' && err && typeof err === 'object') {
      log.event('error', 'run-end', { exitCode: failed, exitReason: exitName(failed), stateRunId: summary.stateRunId }, message);
      reportedErrors.add(err);
    }
    throw err;
  }
  if (!summary.finishedAt) finishSummary(summary, code);
  if (o.summaryJson) writeSummaryJson(o.summaryJson, summary);
  log.event(summary.exitCode === 0 ? 'info' : 'warn', 'run-end', {
    counts: { ...summary.totals }, exitCode: summary.exitCode, exitReason: summary.exitReason, stateRunId: summary.stateRunId,
  }, log.format === 'json' ? `${summary.command} finished: ${summary.exitReason}` : undefined);
  return summary.exitCode;
}
