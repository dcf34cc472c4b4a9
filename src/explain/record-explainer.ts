// Why a record was or was not sent, in terms an analyst can act on: the rules with the values they compared, the
// body field by field, the checks that held it back. Used by `edfi-sync explain` and by fixture failures.
// This is the one place that reaches into the record evaluation of the plan, so the plan can change behind it.
import type { Database } from 'better-sqlite3';
import type { FieldTrace } from '../mapping/mapper.js';
import { RecordEvaluator, mappingInput, ruleFacts } from '../plan/record-evaluator.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { EvaluatedCondition, RuleTrace } from '../rules/rule-evaluator.js';
import { decodeFinding } from '../sanity/body-findings.js';
import type { BodyCheckResult } from '../sanity/sanity-rules.js';
import { CandidateReader } from '../snapshot/candidates.js';
import { connectionKey, readConnections } from '../snapshot/connections.js';
import type { Candidate, Connection, Decision, JsonObject } from '../types.js';

export type { RuleTrace } from '../rules/rule-evaluator.js';

export interface BodyExplanation {
  fields: FieldTrace[];
  findings: BodyCheckResult[];
}

export class RecordExplainer {
  private readonly evaluator: RecordEvaluator;
  private readonly reader: CandidateReader;
  private conns: Connection[] | undefined;

  constructor(readonly profile: LoadedProfile, private readonly snapshot: Database) {
    this.evaluator = new RecordEvaluator(profile);
    this.reader = new CandidateReader(snapshot, profile);
  }

  connections(): Connection[] {
    return (this.conns ??= readConnections(this.snapshot, this.profile));
  }

  candidates(conn: Connection): Candidate[] {
    return [...this.reader.read(conn)];
  }

  /** The candidates with this source key, in every connection or the one named ("district:year"). */
  find(sourceKey: string, connection?: string): Candidate[] {
    const out: Candidate[] = [];
    for (const conn of this.connections()) {
      if (connection && connectionKey(conn) !== connection) continue;
      for (const c of this.reader.read(conn)) if (c.sourceKey === sourceKey) out.push(c);
    }
    return out;
  }

  async rules(c: Candidate): Promise<{ decision: Decision; trace: RuleTrace[] }> {
    const { decision, trace } = await this.evaluator.rules.evaluate(ruleFacts(c), true);
    return { decision, trace: trace ?? [] };
  }

  async body(c: Candidate, derived: JsonObject): Promise<BodyExplanation> {
    const ctx = this.evaluator.mappingContext(this.snapshot, c.connection);
    const fields = await this.evaluator.mapper.trace(mappingInput(c, derived), ctx);
    const { problems } = await this.evaluator.body(c, derived, ctx);
    return { fields, findings: problems.map(decodeFinding) };
  }
}

export function show(v: unknown): string {
  return v === undefined ? '(nothing)' : JSON.stringify(v);
}

/** "noShow = 1  isTrue  true" */
export function formatCondition(cond: EvaluatedCondition): string {
  return `${cond.fact} = ${show(cond.factValue)}  ${cond.operator}  ${show(cond.value)}`;
}

/** Whether a rule's outcome keeps the record out: a trigger not met, an exclusion met. */
export function stops(t: Pick<RuleTrace, 'type' | 'met'>): boolean {
  return t.type === 'trigger' ? !t.met : t.met;
}

/** One line per rule and one per condition it compared, as `explain` prints them. */
export function formatRuleTrace(trace: RuleTrace[], indent = '    '): string[] {
  const out: string[] = [];
  for (const t of trace) {
    out.push(`${indent}${stops(t) ? 'STOPS' : 'ok   '} ${t.type.padEnd(7)} ${t.ruleId}${stops(t) ? ` — ${t.reason}` : ''}`);
    for (const cond of t.conditions) out.push(`${indent}        ${cond.result ? 'true ' : 'false'}  ${formatCondition(cond)}`);
  }
  return out;
}
