import type { DeriveDef } from '../profile/profile-def.js';
import type { Json, JsonObject } from '../types.js';

/** What a derive rule needs of a kept record: small, so a whole connection fits in memory. */
export interface DeriveInput {
  sourceKey: string;
  values: Record<string, Json>;
}

function compare(a: Json | undefined, b: Json | undefined): number {
  // NULL sorts as the smallest value: with "desc" it comes last, which is what "most recent date" wants.
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Columns a derive rule reads, so the planner keeps just those. */
export function deriveColumns(defs: DeriveDef[]): string[] {
  const cols = new Set<string>();
  for (const d of defs) {
    d.groupBy.forEach((g) => cols.add(g));
    d.orderBy.forEach((o) => cols.add(o.split(' ')[0]!));
  }
  return [...cols];
}

/**
 * Cross-record facts (e.g. the student's primary CTE program): within each group of kept records, the first in
 * the given order gets `true`, the others `false`. Returns the derived facts per source key.
 */
export function applyDerive(defs: DeriveDef[], records: DeriveInput[]): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const r of records) out.set(r.sourceKey, {});
  for (const d of defs) {
    const order = d.orderBy.map((o) => {
      const [col, dir] = o.split(' ');
      return { col: col!, desc: dir === 'desc' };
    });
    const groups = new Map<string, DeriveInput[]>();
    for (const r of records) {
      const g = JSON.stringify(d.groupBy.map((c) => r.values[c] ?? null));
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(r);
    }
    for (const list of groups.values()) {
      list.sort((x, y) => {
        for (const { col, desc } of order) {
          const c = compare(x.values[col], y.values[col]);
          if (c !== 0) return desc ? -c : c;
        }
        return x.sourceKey < y.sourceKey ? -1 : x.sourceKey > y.sourceKey ? 1 : 0;
      });
      list.forEach((r, i) => (out.get(r.sourceKey)![d.fact] = i === 0));
    }
  }
  return out;
}
