import type { LoadedProfile } from '../profile/load-profile.js';
import { RuleEvaluator } from '../rules/rule-evaluator.js';
import type { CacheEntry, EvalCache } from '../state/eval-cache.js';
import type { IdentityBrief } from '../state/identity-map.js';
import type { Candidate, Connection, Decision, JsonObject } from '../types.js';
import { canonicalJson, sha1Bytes } from '../util/hash.js';
import type { ProfileHooks, RuleDecider } from './plan-options.js';
import type { SourceReader, SourceRow } from './read.js';
import { ruleFacts } from './record-evaluator.js';
import type { RecordStateLookup } from './record-state.js';

/** A source row with the rules' decision on it. */
export interface DecidedRow extends SourceRow {
  /** Fingerprint of the row's values, the connection and the profile's files. */
  rulesKey: Buffer;
  decision: Decision;
  decisionId: number;
  /** The cache entry of this row when it was made from the same values: its body hashes may still hold. */
  cached?: CacheEntry;
  /** Decided in this run (not from the cache). */
  evaluated: boolean;
  /** The row's facts, built when the rules or the mapping needed them. */
  candidate?: Candidate;
  /** Its identity row, if it was sent before. */
  own?: IdentityBrief;
}

/**
 * The rules of a profile: rules compiled into functions when the profile brings them, otherwise json-rules-engine.
 * Either gives the same decisions; this is the one place that chooses.
 */
export function deciderOf(profile: LoadedProfile): RuleDecider {
  const compiled = (profile as LoadedProfile & ProfileHooks).compiledRules;
  if (compiled) return compiled;
  const engine = new RuleEvaluator(profile.rules);
  return { decide: async (facts: JsonObject) => (await engine.evaluate(facts)).decision };
}

/**
 * The decide stage: a record whose fingerprint is unchanged since the last run keeps its cached decision; the
 * others are evaluated by the rules. Works on one group of rows at a time.
 */
export class DecideStage {
  private readonly prefix: string;

  constructor(
    profile: LoadedProfile,
    private readonly decider: RuleDecider,
    private readonly cache: EvalCache,
    private readonly lookup: RecordStateLookup,
    private readonly reader: SourceReader,
    private readonly conn: Connection,
  ) {
    this.prefix = profile.version + '\0' + canonicalJson({ ...conn.facts, yearStart: conn.yearStart, yearEnd: conn.yearEnd, configID: conn.configID }) + '\0';
  }

  async decide(rows: SourceRow[]): Promise<DecidedRow[]> {
    const out: DecidedRow[] = [];
    for (const row of rows) {
      const rulesKey = sha1Bytes(this.prefix + JSON.stringify(row.values));
      const { cached: hit, own } = this.lookup.get(row.sourceKey);
      if (hit && hit.rulesKey.equals(rulesKey)) {
        out.push({ ...row, rulesKey, decision: this.cache.decision(hit.decisionId), decisionId: hit.decisionId, cached: hit, evaluated: false, own });
        continue;
      }
      const candidate = this.reader.candidate(row, this.conn);
      const result = this.decider.decide(ruleFacts(candidate));
      const decision = result instanceof Promise ? await result : result;
      out.push({ ...row, rulesKey, decision, decisionId: this.cache.decisionId(decision), evaluated: true, candidate, own });
    }
    return out;
  }
}
