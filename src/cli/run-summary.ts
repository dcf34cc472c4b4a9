import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { EXIT, exitName, mostSevere, type ExitName } from './exit-codes.js';

/** What one connection's run did, as counts a scheduler or a dashboard can add up. */
export interface ConnectionCounts {
  /** Source rows read. */
  candidates: number;
  /** Kept by the rules (wanted in the ODS). */
  kept: number;
  /** Kept out by the rules. */
  excluded: number;
  /** Wanted but held back by a data problem: not sent (in the error log). */
  heldBack: number;
  /** Wanted, but sent as another connection's record of the same ODS instance (one owner per natural key), or kept in the ODS for it. */
  shared: number;
  unchanged: number;
  /** Operations planned: POST, PUT, DELETE (a key change counts its DELETE and its POST). */
  toSend: number;
  created: number;
  updated: number;
  deleted: number;
  alreadyGone: number;
  failed: number;
}

export function zeroCounts(): ConnectionCounts {
  return { candidates: 0, kept: 0, excluded: 0, heldBack: 0, shared: 0, unchanged: 0, toSend: 0, created: 0, updated: 0, deleted: 0, alreadyGone: 0, failed: 0 };
}

export interface ConnectionOutcome {
  connection: string;
  districtNumber: number | null;
  schoolYear: number;
  exitCode: number;
  exitReason: ExitName;
  /** Why it did not end ok: the refusal, the unreachable API, the missing credentials. Never a credential. */
  message?: string;
  /** What to do about it (the spec's fix where there is one). */
  fix?: string;
  counts: ConnectionCounts;
}

/** The --summary-json document of a run. */
export interface RunSummary {
  runId: string;
  /** The run's number in the state file (`errors --run`, `report --run`), when it has one. */
  stateRunId: number | null;
  command: string;
  profile: string | null;
  startedAt: string;
  finishedAt?: string;
  exitCode: number;
  exitReason: ExitName;
  message?: string;
  connections: ConnectionOutcome[];
  totals: ConnectionCounts;
}

export const newRunId = (): string => randomUUID();

export function startSummary(command: string, runId = newRunId()): RunSummary {
  return { runId, stateRunId: null, command, profile: null, startedAt: new Date().toISOString(), exitCode: EXIT.ok, exitReason: 'ok', connections: [], totals: zeroCounts() };
}

/** Sets the run's exit code from its connections (the most urgent one) unless a failure of the whole run set it. */
export function finishSummary(s: RunSummary, code?: number, message?: string): RunSummary {
  s.finishedAt = new Date().toISOString();
  s.exitCode = code ?? mostSevere(s.connections.map((c) => c.exitCode));
  s.exitReason = exitName(s.exitCode);
  if (message) s.message = message;
  const totals = zeroCounts();
  for (const c of s.connections) for (const k of Object.keys(totals) as Array<keyof ConnectionCounts>) totals[k] += c.counts[k];
  s.totals = totals;
  return s;
}

/** Written whole or not at all (a scheduler may read it the moment the process ends). */
export function writeSummaryJson(file: string, s: RunSummary): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, file);
}
