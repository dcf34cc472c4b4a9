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

/**
 * "The following resources must be sent prior to this resource: Local Education Agencies, Students, Programs."
 * Looks each referenced record up once (GET by natural key) before sending, so a missing student is one clear
 * line instead of a 409 per record. Operations that refer to a missing record are held back as issues.
 */
export async function checkReferences(plan: Plan, profile: LoadedProfile, api: (connection: string) => ResourceApi): Promise<{ missing: MissingReference[]; plan: Plan }> {
  const upstream = profile.def.resource.upstream ?? [];
  if (upstream.length === 0) return { missing: [], plan };
  const known = new Map<string, boolean>();
  const missing = new Map<string, MissingReference>();
  const blocked = new Map<Operation, string[]>();
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
      const cacheKey = `${op.connection.split(':')[1]}|${u.resource}|${JSON.stringify(query)}`;
      let exists = known.get(cacheKey);
      if (exists === undefined) {
        const r = await api(op.connection).get(u.path, query, { limit: 1 });
        // Only a clean empty answer means "missing": an error (403, 500) is left for the real send to report.
        exists = !(r.ok && (r.items ?? []).length === 0);
        known.set(cacheKey, exists);
      }
      if (!exists) {
        const m = missing.get(cacheKey) ?? { resource: u.resource, reference: u.from, key: query, records: 0 };
        m.records++;
        missing.set(cacheKey, m);
        blocked.set(op, [...(blocked.get(op) ?? []), `${u.resource} ${JSON.stringify(query)}`]);
      }
    }
  }
  if (blocked.size === 0) return { missing: [], plan };
  const entry = profile.catalogue.match(409, 'POST', 'reference could not be resolved');
  const blockedUnits = new Set([...blocked.keys()].map((o) => o.unit).filter((u): u is string => Boolean(u)));
  const issues: PlanIssue[] = [...blocked].map(([op, refs]) => ({
    connection: op.connection, resource: op.resource, sourceKey: op.sourceKey,
    student: op.student ?? null,
    catalogueId: entry.id, status: 409, method: op.method === 'PUT' ? 'PUT' : 'POST',
    message: `not sent: the referenced ${refs.join(', ')} does not exist in the ODS (checked before sending)`, body: op.body,
    check: 'reference-check',
  }));
  // A key change whose new record cannot be sent keeps its old record: both halves wait.
  const operations = plan.operations.filter((op) => !blocked.has(op) && !(op.unit && blockedUnits.has(op.unit)));
  return { missing: [...missing.values()], plan: { ...plan, operations, issues: [...plan.issues, ...issues] } };
}

export function missingReferencesText(missing: MissingReference[]): string {
  return missing
    .map((m) => `missing in the ODS: ${m.resource} ${Object.entries(m.key).map(([k, v]) => `${k}=${v}`).join(', ')} (${m.reference}), needed by ${m.records} record(s): send ${m.resource} first, then sync again`)
    .join('\n');
}
