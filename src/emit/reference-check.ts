import type { Plan, PlanIssue } from '../plan/plan-types.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { JsonObject, Operation } from '../types.js';
import type { ResourceApi } from './api.js';

export interface MissingReference {
  resource: string;
  reference: string;
  key: Record<string, string | number>;
  records: number;
}

/** A referenced record the API could not be asked about (500, 400 to the query, no answer): not known missing. */
export interface UncheckedReference extends MissingReference {
  status: number;
  message: string;
}

export interface ReferenceCheckOptions {
  /** Send the records whose reference could not be looked up (default: hold them back, with a line each). */
  sendUnchecked?: boolean;
}

export interface ReferenceCheck {
  missing: MissingReference[];
  unchecked: UncheckedReference[];
  /** Records held back because a lookup failed at the API (not because a reference is missing). */
  heldUnchecked: number;
  plan: Plan;
}

type Lookup = { exists: boolean } | { exists: 'unknown'; status: number; message: string };

/** Lookups in flight at once: a retried failing lookup then delays the run by its backoff once, not per record. */
const LOOKUP_CONCURRENCY = 8;

/**
 * "The following resources must be sent prior to this resource: Local Education Agencies, Students, Programs."
 * Looks each referenced record up once (GET by natural key) before sending, so a missing student is one clear
 * line instead of a 409 per record. Operations that refer to a missing record are held back as issues.
 */
export async function checkReferences(plan: Plan, profile: LoadedProfile, api: (connection: string) => ResourceApi, options: ReferenceCheckOptions = {}): Promise<ReferenceCheck> {
  const upstream = profile.def.resource.upstream ?? [];
  if (upstream.length === 0) return { missing: [], unchecked: [], heldUnchecked: 0, plan };
  const known = new Map<string, Lookup>();
  const missing = new Map<string, MissingReference>();
  const unchecked = new Map<string, UncheckedReference>();
  const blocked = new Map<Operation, string[]>();
  const notChecked = new Map<Operation, { refs: string[]; status: number; message: string }>();
  const instanceIds = new Map<ResourceApi, number>();
  // First every distinct lookup (each instance is asked once per referenced record: the client of a connection
  // is its instance), then the lookups, a few at a time, then each operation's verdict.
  const needs: Array<{ op: Operation; u: (typeof upstream)[number]; query: Record<string, string | number>; cacheKey: string }> = [];
  const lookups = new Map<string, { client: ResourceApi; path: string; query: Record<string, string | number> }>();
  for (const op of plan.operations) {
    if (!op.body) continue;
    for (const u of upstream) {
      const ref = op.body[u.from] as JsonObject | undefined;
      if (!ref || typeof ref !== 'object') continue;
      const query: Record<string, string | number> = {};
      for (const [param, field] of Object.entries(u.query)) {
        const v = ref[field];
        if (typeof v === 'string' || typeof v === 'number') query[param] = v;
      }
      const client = api(op.connection);
      const cacheKey = `${instanceIds.get(client) ?? instanceIds.set(client, instanceIds.size).get(client)}|${u.resource}|${JSON.stringify(query)}`;
      if (!lookups.has(cacheKey)) lookups.set(cacheKey, { client, path: u.path, query });
      needs.push({ op, u, query, cacheKey });
    }
  }
  const pending = [...lookups];
  const worker = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const [cacheKey, { client, path, query }] = next;
      const r = await client.get(path, query, { limit: 1 });
      // Only a clean empty answer means "missing"; an error means the check could not be made.
      known.set(cacheKey, r.ok ? { exists: (r.items ?? []).length > 0 } : { exists: 'unknown', status: r.status, message: r.message ?? `HTTP ${r.status}` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, pending.length) }, worker));
  for (const { op, u, query, cacheKey } of needs) {
    const found = known.get(cacheKey) as Lookup;
    const label = `${u.resource} ${JSON.stringify(query)}`;
    if (found.exists === false) {
      const m = missing.get(cacheKey) ?? { resource: u.resource, reference: u.from, key: query, records: 0 };
      m.records++;
      missing.set(cacheKey, m);
      blocked.set(op, [...(blocked.get(op) ?? []), label]);
    } else if ('status' in found) {
      const m = unchecked.get(cacheKey) ?? { resource: u.resource, reference: u.from, key: query, records: 0, status: found.status, message: found.message };
      m.records++;
      unchecked.set(cacheKey, m);
      const n = notChecked.get(op) ?? { refs: [], status: found.status, message: found.message };
      n.refs.push(label);
      notChecked.set(op, n);
    }
  }
  const held = new Map(blocked);
  const issues: PlanIssue[] = [];
  if (blocked.size > 0) {
    const entry = profile.catalogue.match(409, 'POST', 'reference could not be resolved');
    for (const [op, refs] of blocked) {
      issues.push({
        connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: op.student ?? null,
        catalogueId: entry.id, status: 409, method: op.method === 'PUT' ? 'PUT' : 'POST',
        // A key whose claims do not reach the record sees an empty answer too (an ODS/API filters what it may not
        // show): the message leaves both open, and the 403 row's fixes apply as much as the send order.
        message: `not sent: the referenced ${refs.join(', ')} was not found in the ODS (checked before sending: it does not exist yet, or this key/secret may not see it)`, body: op.body,
        checks: ['reference-check'],
      });
    }
  }
  let heldUnchecked = 0;
  if (!options.sendUnchecked) {
    for (const [op, n] of notChecked) {
      if (held.has(op)) continue;
      held.set(op, n.refs);
      heldUnchecked++;
      const message = `not sent: the referenced ${n.refs.join(', ')} could not be checked (the lookup got ${n.status === 0 ? 'no answer' : `HTTP ${n.status}`}: ${n.message})`;
      const entry = profile.catalogue.match(n.status, 'GET', `reference could not be checked: ${n.message}`);
      issues.push({
        connection: op.connection, resource: op.resource, sourceKey: op.sourceKey, student: op.student ?? null,
        catalogueId: entry.id, status: n.status, method: op.method === 'PUT' ? 'PUT' : 'POST', message, body: op.body,
        checks: ['reference-check'],
      });
    }
  }
  if (held.size === 0) return { missing: [...missing.values()], unchecked: [...unchecked.values()], heldUnchecked, plan };
  const heldUnits = new Set([...held.keys()].map((o) => o.unit).filter((u): u is string => Boolean(u)));
  // A key change whose new record cannot be sent keeps its old record: both halves wait.
  const operations = plan.operations.filter((op) => !held.has(op) && !(op.unit && heldUnits.has(op.unit)));
  return { missing: [...missing.values()], unchecked: [...unchecked.values()], heldUnchecked, plan: { ...plan, operations, issues: [...plan.issues, ...issues] } };
}

export function missingReferencesText(missing: MissingReference[]): string {
  return missing
    .map((m) => `missing in the ODS: ${m.resource} ${keyText(m.key)} (${m.reference}), needed by ${m.records} record(s): send ${m.resource} first, then sync again`)
    .join('\n');
}

/** One line per lookup that could not be made, saying what happened to the records that needed it. */
export function uncheckedReferencesText(unchecked: UncheckedReference[], sent: boolean): string {
  return unchecked
    .map(
      (m) =>
        `could not check: ${m.resource} ${keyText(m.key)} (${m.reference}): the lookup got ${m.status === 0 ? 'no answer' : `HTTP ${m.status}`} (${m.message}); ` +
        (sent ? `${m.records} record(s) sent without the check` : `${m.records} record(s) held back (--send-unchecked-references sends them anyway)`),
    )
    .join('\n');
}

function keyText(key: Record<string, string | number>): string {
  return Object.entries(key).map(([k, v]) => `${k}=${v}`).join(', ');
}
