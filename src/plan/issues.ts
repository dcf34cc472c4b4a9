import type { LoadedProfile } from '../profile/load-profile.js';
import type { JsonObject } from '../types.js';
import type { PlanIssue } from './plan-types.js';

/** Catalogue entry of a held-back record: the profile's entry for this kind of problem (ids end in ".kind"), else by status. */
export function planIssue(
  profile: LoadedProfile,
  where: { connection: string; sourceKey: string; student: string | null },
  problem: { method: PlanIssue['method']; status: number; message: string; kind: string; body?: JsonObject; level?: 'warning' },
): PlanIssue {
  const { kind, status, method, message } = problem;
  const entry = profile.catalogue.entries.find((e) => e.id === kind || e.id.endsWith('.' + kind)) ?? profile.catalogue.match(status, method, message);
  return {
    connection: where.connection,
    resource: profile.def.resource.name,
    sourceKey: where.sourceKey,
    student: where.student,
    catalogueId: entry.id,
    status,
    method,
    message,
    body: problem.body,
    ...(problem.level ? { level: problem.level } : {}),
  };
}

/** The spec's "409: A natural key conflict occurred ... Check for duplicate data in your Campus site." */
export const NATURAL_KEY_CONFLICT = 'natural-key-conflict';

export function duplicateMessage(winner: string, naturalKey: JsonObject | null): string {
  return `same natural key as ${winner}${naturalKey ? ` (${Object.values(naturalKey).join(', ')})` : ''}: duplicate data in Campus`;
}
