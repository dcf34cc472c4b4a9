import type { LoadedProfile } from '../profile/load-profile.js';
import type { EvalCache } from '../state/eval-cache.js';
import type { IdentityMap, IdentityRow } from '../state/identity-map.js';
import type { JsonObject, Operation } from '../types.js';
import { canonicalJson } from '../util/hash.js';
import { isOwnRow, type KeyClaim } from './claim.js';
import { duplicateMessage, NATURAL_KEY_CONFLICT, planIssue } from './issues.js';
import { changedPaths, naturalKeyOf } from './paths.js';
import { phaseOf, type PlanIssue } from './plan-types.js';
import { NEW_RECORD_REASON, OWN, SEEN, type DesiredRow, type WorkTables } from './work-tables.js';

export interface DiffContext {
  profile: LoadedProfile;
  identity: IdentityMap;
  cache: EvalCache;
  tables: WorkTables;
  instance: string;
  /** A retry touches only its records: others are neither sent nor deleted. */
  inScope: (sourceKey: string) => boolean;
  onDesired?: (connection: string, sourceKey: string, naturalKey: JsonObject, body: JsonObject, student: string | null) => void;
  count: { unchanged: number; shared: Map<string, number>; heldBack: Map<string, number> };
}

/** The rule ids an operation names for a record sent: its decision's rules, then the mapping. */
export function sentRules(cache: EvalCache, profile: LoadedProfile, decisionId: number): string[] {
  return [...cache.decision(decisionId).ruleIds, profile.mapping.id];
}

type Wanted = DesiredRow & { body: JsonObject; naturalKey: JsonObject };

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/**
 * The diff stage: what the ODS must be told so that the record of each natural key holds the winner's body.
 * - The winner holds the key itself: nothing (in step), a PUT, or for a key-change field a DELETE then POST.
 * - Another record (or a key change's leftover) holds it: the winner takes that ODS record over with a PUT and
 *   the other claim ends; no DELETE, no duplicate, and a swap of keys between two records converges in one run.
 * - Nobody holds it: a POST. If the winner held another key before (a natural-key change), its old record is
 *   deleted only after the POST succeeded, unless another record now wants that old key (then it takes it over).
 */
export function diffClaim(c: KeyClaim, ctx: DiffContext): void {
  const { tables, profile } = ctx;
  for (const d of c.duplicates) {
    tables.loser(d.connection, d.sourceKey, 'duplicate');
    bump(ctx.count.heldBack, d.connection);
    if (!ctx.inScope(d.sourceKey)) continue;
    tables.issue({
      ...planIssue(profile, d, {
        method: d.ownEdfiId ? 'PUT' : 'POST', status: 409, kind: NATURAL_KEY_CONFLICT, body: d.body ?? undefined,
        message: duplicateMessage(c.winner!.sourceKey, d.naturalKey),
      }),
      checks: ['duplicate-natural-key'],
    });
  }
  for (const s of c.shared) {
    tables.loser(s.connection, s.sourceKey, 'shared');
    bump(ctx.count.shared, s.connection);
  }
  const w = c.winner;
  if (!w) return;
  if (ctx.onDesired && w.body && w.naturalKey) ctx.onDesired(w.connection, w.sourceKey, w.naturalKey, w.body, w.student);
  if (!ctx.inScope(w.sourceKey)) return;
  if (isOwnRow(c.holder, w) && w.own === OWN.inStep) {
    ctx.count.unchanged++;
    return;
  }
  const want = w as Wanted;
  const old = w.own === OWN.sameKey || w.own === OWN.otherKey ? ctx.identity.get(w.connection, profile.def.resource.name, w.sourceKey) : undefined;
  const rules = sentRules(ctx.cache, profile, w.decisionId);
  const base = {
    resource: profile.def.resource.name, connection: w.connection, sourceKey: w.sourceKey, student: w.student,
    naturalKey: want.naturalKey, bodyHash: w.bodyHash, instance: ctx.instance,
  };
  if (old && immutableChanged(ctx, want, old)) return;
  if (isOwnRow(c.holder, w) && old?.edfiId) {
    update(ctx, want, old, base, rules);
    return;
  }

  // Someone else holds the key, or nobody does.
  const holder = c.holder;
  const keyChange = w.own === OWN.otherKey && old?.edfiId ? old : undefined;
  const unit = `${w.connection}/${w.sourceKey}`;
  const reasons: string[] = [];
  let keyRules: string[] = [];
  if (keyChange) {
    const k = keyChangeReason(profile, keyChange.body, want.body);
    reasons.push(k.reason);
    keyRules = k.rules;
  }
  const owedOld = keyChange ? !tables.isWanted(ctx.instance, w.ownNkHash!) : false;
  const replaces = keyChange ? { id: keyChange.edfiId!, naturalKey: keyChange.naturalKey, owed: owedOld } : undefined;
  let first: Operation;
  if (holder) {
    const id = holder.kind === 'record' ? holder.row.edfiId! : holder.owed.edfiId;
    reasons.push(holder.kind === 'record'
      ? `takes over the ODS record of ${holder.row.connection}/${holder.row.sourceKey}, which has the same natural key`
      : 'takes over an ODS record a key change left behind (same natural key)');
    first = {
      ...base, method: 'PUT', id, rules: [...rules, ...keyRules], reason: reasons.join('; '),
      takesOver: holder.kind === 'record'
        ? { connection: holder.row.connection, sourceKey: holder.row.sourceKey, stillWanted: stillWanted(tables, holder.row.connection, holder.row.sourceKey) }
        : { owedDelete: true },
      ...(replaces ? { replaces } : {}),
    };
  } else {
    if (!keyChange) reasons.push(w.own === OWN.noId ? NEW_RECORD_REASON.failed : NEW_RECORD_REASON.fresh);
    first = { ...base, method: 'POST', rules: [...rules, ...keyRules], reason: reasons.join('; '), ...(replaces ? { replaces } : {}) };
  }
  if (keyChange && owedOld) {
    // POST (or take over) the new record first; the old one is deleted only once that succeeded.
    const del: Operation = {
      method: 'DELETE', resource: base.resource, connection: w.connection, sourceKey: w.sourceKey, student: keyChange.student ?? w.student,
      naturalKey: keyChange.naturalKey, id: keyChange.edfiId!, rules: [...rules, ...keyRules], reason: reasons[0]!, unit, instance: ctx.instance,
    };
    tables.operation(1, { ...first, unit }, false, true, w.id);
    tables.operation(1, del, false, false, null);
    warnOnSend(ctx, w);
    return;
  }
  tables.operation(phaseOf(first), first, false, Boolean(keyChange), w.id);
  warnOnSend(ctx, w);
}

/** The winner holds its key: a PUT, or a DELETE then POST when a profile key-change field changed. */
function update(ctx: DiffContext, w: Wanted, old: IdentityRow, base: Omit<Operation, 'method' | 'rules' | 'reason'>, rules: string[]): void {
  const { profile, tables } = ctx;
  const keyFields = (profile.def.keyChangeFields ?? []).map((f) => f.path);
  if (keyFields.length > 0 && changedPaths(old.body, w.body, keyFields).length > 0) {
    // The Ed-Fi natural key is unchanged, so a POST first would upsert onto this very record and the DELETE would
    // then remove it: DELETE first, then POST; if that POST is refused, the old body is POSTed again.
    const k = keyChangeReason(profile, old.body, w.body);
    const unit = `${w.connection}/${w.sourceKey}`;
    tables.operation(1, {
      method: 'DELETE', resource: base.resource, connection: w.connection, sourceKey: w.sourceKey, student: old.student ?? w.student,
      naturalKey: old.naturalKey, id: old.edfiId!, rules: [...rules, ...k.rules], reason: k.reason, unit, restore: old.body, instance: ctx.instance,
    }, false, false, null);
    tables.operation(1, { ...base, method: 'POST', rules: [...rules, ...k.rules], reason: k.reason, unit, restore: old.body }, false, true, w.id);
    warnOnSend(ctx, w);
    return;
  }
  const fields = Object.keys({ ...old.body, ...w.body }).filter((k) => canonicalJson(old.body[k]) !== canonicalJson(w.body[k]));
  const op: Operation = {
    ...base, method: 'PUT', id: old.edfiId!, rules,
    reason: fields.length > 0 ? `changed: ${fields.join(', ')}` : 'resend (last send did not succeed)',
  };
  tables.operation(phaseOf(op), op, false, false, w.id);
  warnOnSend(ctx, w);
}

/**
 * Whether this run still wants a record of its own (kept and winning its key, held back by a check or an immutable
 * field): its row then stays, without the id it gives up. A record excluded, gone from Campus, a Campus duplicate
 * or sent as another connection's record loses its row.
 */
function stillWanted(tables: WorkTables, connection: string, sourceKey: string): boolean {
  const seen = tables.seenState(connection, sourceKey);
  if (!seen) return false;
  if (seen.state === SEEN.heldBack) return true;
  return seen.state === SEEN.kept && (seen.loser === undefined || seen.loser === 'immutable');
}

/** A profile's immutable field (a state's "District Numbers cannot change after data has been sent"): logged, nothing sent. */
function immutableChanged(ctx: DiffContext, w: Wanted, old: IdentityRow): boolean {
  // Every immutable field that changed is named (they often change together, e.g. two references to one LEA).
  const changed = (ctx.profile.def.immutableFields ?? []).filter((f) => changedPaths(old.body, w.body, [f.path]).length > 0);
  if (changed.length === 0) return false;
  const f = changed[0]!;
  const more = changed.slice(1).map((x) => `; ${x.path} changed too (${x.id})`).join('');
  const issue: PlanIssue = planIssue(ctx.profile, w, {
    method: 'PUT', status: 0, kind: f.error ?? 'other', body: w.body,
    message: `${f.path} changed after the record was sent (was ${JSON.stringify(naturalKeyOf(old.body, [f.path])[f.path])}): ${f.reason ?? f.spec}${more}`,
  });
  ctx.tables.issue({ ...issue, checks: changed.map((x) => x.id) });
  ctx.tables.loser(w.connection, w.sourceKey, 'immutable');
  bump(ctx.count.heldBack, w.connection);
  return true;
}

/** A body check of severity warn: the record is sent, and the warning goes with the send. */
function warnOnSend(ctx: DiffContext, w: DesiredRow): void {
  for (const f of w.warnings ?? []) {
    ctx.tables.issue({
      connection: w.connection, resource: ctx.profile.def.resource.name, sourceKey: w.sourceKey, student: w.student, catalogueId: f.id, status: 0,
      method: w.ownEdfiId ? 'PUT' : 'POST', message: `${w.sourceKey}${w.student ? ` (student ${w.student})` : ''}: ${f.message}`, level: 'warning',
    });
  }
}

function keyChangeReason(profile: LoadedProfile, before: JsonObject, after: JsonObject): { reason: string; rules: string[] } {
  const keyPaths = [...profile.def.naturalKey, ...(profile.def.keyChangeFields ?? []).map((f) => f.path)];
  const changed = changedPaths(before, after, keyPaths);
  const fields = (profile.def.keyChangeFields ?? []).filter((f) => changed.includes(f.path));
  const why = fields.filter((f) => f.reason).map((f) => f.reason);
  return { reason: `key change: ${changed.join(', ')}${why.length ? ` (${why.join('; ')})` : ''}`, rules: fields.map((f) => f.id) };
}
