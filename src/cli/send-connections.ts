import type { Database } from 'better-sqlite3';
import { emitPlan, emptyEmitSummary, type EmitSummary } from '../emit/emitter.js';
import { checkReferences, missingReferencesText, uncheckedReferencesText } from '../emit/reference-check.js';
import type { Plan } from '../plan/plan-types.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { ErrorLog } from '../state/error-log.js';
import type { RunLog } from '../log/run-log.js';
import type { ConnectionApis } from './connection-apis.js';
import { exitCodeOf } from './cli-error.js';
import { EXIT } from './exit-codes.js';
import { sendingProgress } from './progress.js';
import { exitCodeOfSignal, type StopSignal } from './stop-signal.js';

/** One connection's part of a plan. Warnings that belong to no connection travel with the first part. */
export function planOf(plan: Plan, connection: string, withGlobalWarnings: boolean): Plan {
  return {
    ...plan,
    operations: plan.operations.filter((o) => o.connection === connection),
    issues: plan.issues.filter((i) => i.connection === connection),
    excluded: plan.excluded.filter((x) => x.connection === connection),
    forget: plan.forget.filter((f) => f.connection === connection),
    warnings: plan.warnings.filter((w) => (w.connection === undefined ? withGlobalWarnings : w.connection === connection)),
    connections: plan.connections.filter((c) => c.connection === connection),
  };
}

/** What sending one connection came to. */
export interface ConnectionSend {
  emit: EmitSummary;
  /** Set when the connection could not be sent at all or stopped: exit code, message, fix. */
  stopped?: { code: number; message: string; fix?: string };
  /** Operations sent after the reference check. */
  sent: number;
  /** Records held back because the API could not answer their reference lookup (--check-references). */
  uncheckedHeldBack?: number;
}

export interface SendOptions {
  plan: Plan;
  /** The connections to send, in order (refused ones are left out by the caller). */
  connections: string[];
  apis: ConnectionApis;
  profile: LoadedProfile;
  state: Database;
  runId: number;
  log: RunLog;
  concurrency: number;
  checkReferences?: boolean;
  /** With checkReferences: send the records whose reference lookup failed. */
  sendUncheckedReferences?: boolean;
  /** SIGTERM / SIGINT: no further request; connections not reached yet are stopped before they start. */
  stop?: StopSignal;
}

function emptyEmit(heldBack: number): EmitSummary {
  return { ...emptyEmitSummary(), heldBack };
}

/**
 * Sends a plan one connection at a time, each to its own target with its own key and secret: a connection whose
 * credentials are missing or refused, or whose API cannot be reached, stops alone and the others still run.
 */
export async function sendByConnection(o: SendOptions): Promise<Map<string, ConnectionSend>> {
  const out = new Map<string, ConnectionSend>();
  const errors = new ErrorLog(o.state);
  const resource = o.profile.def.resource.name;
  let first = true;
  for (const connection of o.connections) {
    if (o.stop?.by) {
      const message = `connection ${connection}: not sent, the run was stopped by ${o.stop.by} (run again)`;
      out.set(connection, { emit: emptyEmit(0), sent: 0, stopped: { code: exitCodeOfSignal(o.stop.by), message, fix: 'Run the connection again: what was sent is written down.' } });
      continue;
    }
    let part = planOf(o.plan, connection, first);
    let uncheckedHeldBack = 0;
    first = false;
    // A connection whose resource is toggled off sends nothing at all: its API is not needed, nor its key asked about.
    const toggledOff = o.plan.connections.find((c) => c.connection === connection)?.resourceEnabled === false;
    let api;
    try {
      api = o.apis.api(connection);
    } catch (err) {
      if (toggledOff) {
        out.set(connection, { emit: emptyEmit(0), sent: 0 });
        continue;
      }
      // Not even sent: the records it holds back and the plan's warnings are still this run's findings.
      errors.addHeldBack(part.issues, o.profile.catalogue, o.runId);
      errors.addWarnings(part.warnings, resource, o.runId, o.profile.catalogue);
      const text = (err as Error).message;
      const message = text.startsWith(`connection ${connection}`) ? text : `connection ${connection}: ${text}`;
      const why = stoppedBefore(err);
      errors.add({
        runId: o.runId, at: new Date().toISOString(), connection, resource, sourceKey: null, student: null, method: null, status: null,
        level: 'error', message, catalogueId: null, specMessage: null, cause: why.cause, fix: why.fix, body: null,
      });
      out.set(connection, { emit: emptyEmit(part.issues.length), sent: 0, stopped: { code: exitCodeOf(err), message, fix: why.fix } });
      continue;
    }
    try {
      if (o.checkReferences) {
        const checked = await checkReferences(part, o.profile, () => api, { sendUnchecked: o.sendUncheckedReferences });
        if (checked.missing.length > 0) o.log.event('warn', 'missing-references', { connection, counts: { missing: checked.missing.length } }, missingReferencesText(checked.missing));
        if (checked.unchecked.length > 0) {
          o.log.event('warn', 'unchecked-references', { connection, counts: { unchecked: checked.unchecked.length } }, uncheckedReferencesText(checked.unchecked, Boolean(o.sendUncheckedReferences)));
        }
        part = checked.plan;
        uncheckedHeldBack = checked.heldUnchecked;
      }
      // A night with nothing to send still asks for a token: a key refused (expired, rotated) is known the first
      // night, not the first night something changes.
      // (A connection whose resource is toggled off sends nothing at all: its key is not asked about.)
      if (part.operations.length === 0 && !toggledOff && api.authenticate) await api.authenticate();
      const progress = sendingProgress(o.log, connection);
      const emit = await emitPlan({
        api, profile: o.profile, plan: part, state: o.state, runId: o.runId, concurrency: o.concurrency,
        onProgress: (d, t) => progress.update(d, t), signal: o.stop?.signal,
      });
      progress.stop();
      const result: ConnectionSend = { emit, sent: part.operations.length, ...(uncheckedHeldBack > 0 ? { uncheckedHeldBack } : {}) };
      if (emit.aborted && o.stop?.by && o.stop.signal.aborted) {
        result.stopped = { code: exitCodeOfSignal(o.stop.by), message: `connection ${connection}: ${emit.aborted}`, fix: 'Run the connection again: what was sent is written down.' };
      } else if (emit.aborted) result.stopped = refusedOrUnreachable(emit.aborted, connection, o);
      out.set(connection, result);
    } catch (err) {
      // The reference check asks the API first: credentials refused or an API not reached stop this connection.
      if ((err as { name?: string }).name !== 'EdFiAuthError') throw err;
      out.set(connection, { emit: emptyEmit(part.issues.length), sent: 0, stopped: refusedOrUnreachable((err as Error).message, connection, o) });
    }
  }
  return out;
}

/** Why a connection was not sent at all: its key and secret, its API's root document, or a profile for another Data Standard. */
function stoppedBefore(err: unknown): { cause: string; fix: string } {
  const name = (err as { name?: string }).name;
  if (name === 'DiscoveryError') {
    return { cause: "The Ed-Fi API's root document could not be read, so its token and data URLs are unknown.", fix: 'Check the API root URL of the connection (--api-base or its target) and that the API is up, then run the connection again.' };
  }
  if (name === 'RouteContextError') {
    return { cause: "The API's URLs have a placeholder (a tenant, a district, an instance) that nothing fills for this connection, so its token and data URLs are unknown.", fix: 'Give the value with --route-context NAME=VALUE, or routeContext in the connection\'s target, then run the connection again.' };
  }
  if (name === 'ConfigError') {
    return { cause: 'The profile does not fit the Ed-Fi API of this connection (another Data Standard), so nothing was sent.', fix: 'Run the connection with the profile written for the API\'s Data Standard, as the message names it.' };
  }
  if (name === 'MissingCredentialsError' || name === 'CredentialsError') {
    return { cause: 'The connection has no usable key and secret.', fix: 'With --api-base: set EDFI_CLIENT_ID and EDFI_CLIENT_SECRET, or give --credentials-file. With --targets: set what the connection\'s target names (see `edfi-sync connections --targets`).' };
  }
  return { cause: 'The connection could not be set up, so nothing was sent.', fix: 'Correct what the message names (the command line or the connection\'s target), then run the connection again.' };
}

/** Credentials refused or API not reached: logged once for the connection, with where its key came from and the spec's fix. */
function refusedOrUnreachable(reason: string, connection: string, o: SendOptions): { code: number; message: string; fix?: string } {
  const target = o.apis.target(connection);
  const refused = /\((400|401|403)\b/.test(reason) || /invalid_client|unauthorized/i.test(reason);
  const message = refused
    ? `connection ${connection}: ${target.apiRoot} refused its key and secret (from ${target.credentialsFrom}): ${reason}`
    : `connection ${connection}: ${target.apiRoot} could not be reached: ${reason}`;
  const entry = refused ? o.profile.catalogue.match(403, 'POST', reason) : undefined;
  // Logged under the spec's "Authorization denied" row, whose fix goes on to resync linking resources: right for a
  // 403 on a record, not for a key or secret the token URL refused (400 invalid_client, 401), which gets its own.
  const fix = refused && !/\(403\b/.test(reason)
    ? `Double check your API credentials (key/secret) of this connection (from ${target.credentialsFrom}): the API refused them (expired, rotated, mistyped, or issued for another API or school year); then run the connection again.`
    : entry?.fix ?? 'Check that the API root is right and the ODS/API is up, then run the connection again.';
  new ErrorLog(o.state).add({
    runId: o.runId, at: new Date().toISOString(), connection, resource: o.profile.def.resource.name, sourceKey: null, student: null,
    method: null, status: null, level: 'error', message, catalogueId: entry?.id ?? null, specMessage: entry?.specMessage ?? null,
    cause: entry?.cause ?? 'The Ed-Fi API did not answer.', fix, body: null,
  });
  return { code: EXIT.unreachable, message, fix };
}
