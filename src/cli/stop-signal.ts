import type { RunLog } from '../log/run-log.js';
import { EXIT } from './exit-codes.js';

/** A run stopped by SIGTERM or SIGINT before it finished planning. */
export class StoppedError extends Error {
  readonly exitCode: number;
  constructor(readonly by: NodeJS.Signals) {
    super(`stopped by ${by} while planning; nothing was sent (run again)`);
    this.name = 'StoppedError';
    this.exitCode = exitCodeOfSignal(by);
  }
}

export function exitCodeOfSignal(by: NodeJS.Signals): number {
  return by === 'SIGINT' ? EXIT.interrupted : EXIT.stopped;
}

export interface StopSignal {
  readonly signal: AbortSignal;
  /** The signal that asked the run to stop, once one did. */
  readonly by: NodeJS.Signals | undefined;
  /** Throws StoppedError once a stop was asked (planning checks it as it goes). */
  throwIfStopped(): void;
  dispose(): void;
}

/**
 * SIGTERM (how Kubernetes, Airflow and systemd end a job) and SIGINT (Ctrl-C) ask the run to stop: no further request
 * is started, the ones in flight are answered and written down, the lock released, the run and --summary-json
 * finished. A second signal ends the process at once (a killed run is still safe to run again).
 */
export function listenForStop(log: RunLog): StopSignal {
  const controller = new AbortController();
  let by: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals): void => {
    if (by) process.exit(128 + (s === 'SIGINT' ? 2 : 15));
    by = s;
    controller.abort(s);
    log.event('warn', 'stopping', { signal: s }, `${s}: stopping; no new request is sent, the ones in flight are finished and written down (${s} again ends at once)`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    get by() {
      return by;
    },
    throwIfStopped() {
      if (by) throw new StoppedError(by);
    },
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
