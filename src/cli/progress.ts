import { SingleBar } from 'cli-progress';
import type { RunLog } from '../log/run-log.js';

export interface ProgressSink {
  update(done: number, total: number): void;
  /** Ends the bar (terminal) or writes the last line (log). */
  stop(): void;
}

/** On a non-terminal, a progress line is written at most every 10 seconds and every tenth of the work, and at the end. */
export const LOG_INTERVAL_MS = 10_000;
export const LOG_STEP = 0.1;

interface Terminal {
  isTTY?: boolean;
  write(s: string): unknown;
}

/**
 * Progress of sending one connection: a bar redrawn in place on a terminal (cli-progress); on a non-terminal (a
 * scheduler's log) a line, or a JSON `progress` event, no more often than every 10 seconds and every 10%, and a
 * last one at the end, so a nightly log is not filled with counters.
 */
export function sendingProgress(log: RunLog, connection: string, o: { stream?: Terminal; now?: () => number } = {}): ProgressSink {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  if (!log.verbose) return { update() {}, stop() {} };
  if (log.format === 'text' && stream.isTTY && process.env.CI === undefined) {
    const bar = new SingleBar({
      format: `sending ${connection} [{bar}] {value}/{total} {percentage}% {eta_formatted} left`,
      stream: stream as NodeJS.WritableStream,
      hideCursor: false,
      clearOnComplete: false,
    });
    let started = false;
    return {
      update(done, total) {
        if (!started) (bar.start(total, done), (started = true));
        else bar.update(done);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastAt = now();
  let lastShare = 0;
  let last: { done: number; total: number } | undefined;
  let lastWritten: string | undefined;
  const write = (done: number, total: number): void => {
    const pct = Math.floor((done / total) * 100);
    lastWritten = `${done}/${total}`;
    log.event('info', 'progress', { connection, counts: { done, total } }, `sending ${connection}: ${done}/${total} (${pct}%)`);
  };
  return {
    update(done, total) {
      last = { done, total };
      if (total <= 0) return;
      const share = done / total;
      if (now() - lastAt >= LOG_INTERVAL_MS && share - lastShare >= LOG_STEP && done < total) {
        write(done, total);
        lastAt = now();
        lastShare = share;
      }
    },
    stop() {
      if (last && last.total > 0 && lastWritten !== `${last.done}/${last.total}`) write(last.done, last.total);
    },
  };
}

/** Progress of planning, where the total is not known in advance: a line redrawn on a terminal, silent in logs. */
export function planningProgress(stream: NodeJS.WriteStream = process.stderr): ((done: number, connection: string) => void) | undefined {
  if (!stream.isTTY || process.env.CI !== undefined) return undefined;
  // Cleared after each write's line: the plan summary that follows starts on a clean line.
  return (done, connection) => stream.write(`\rplanning connection ${connection}: ${done} records read\x1b[K\r`);
}
