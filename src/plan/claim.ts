import type { IdentityMap, IdentityRow, OwedDelete, OwedDeletes } from '../state/identity-map.js';
import { OWN, type DesiredRow, type WorkTables } from './work-tables.js';

/** Who holds the ODS record of a natural key in an instance now. */
export type Holder =
  | { kind: 'record'; row: IdentityRow }
  /** An ODS record whose Campus record moved to another natural key, waiting for its DELETE. */
  | { kind: 'owed'; owed: OwedDelete };

/** What the claim stage decided for one natural key of an instance. */
export interface KeyClaim {
  /** The record whose body the ODS should hold for this key; none when a connection outside this plan holds it. */
  winner?: DesiredRow;
  holder?: Holder;
  /** Records of the winner's connection with the same key: Campus duplicates, held back. */
  duplicates: DesiredRow[];
  /** Records of other connections (or any record, when an owner outside the plan holds the key): counted as shared. */
  shared: DesiredRow[];
  /** The connection whose record the shared ones are sent as. */
  sharedWith?: string;
}

export function isOwnRow(holder: Holder | undefined, want: DesiredRow): boolean {
  return holder?.kind === 'record' && holder.row.connection === want.connection && holder.row.sourceKey === want.sourceKey;
}

/** Where a connection stands in the winner rule: the later school year first, then the lower district id. */
export interface ConnectionRank {
  endYear: number;
  districtID: number;
}

/**
 * The claim stage. Connections that write to one ODS instance are planned together: one desired body per natural
 * key and instance. Winner rule: the later school year, then the lower district id, then the record read first
 * (rows are read in the order of the profile's groupBy columns, then its source key). A connection outside the
 * plan (a resource toggled off, a connection gone from the snapshot) that holds the key keeps it: its owner is
 * respected. So is one that a whole run would plan (`ranks`: another job's --connection) and that the rule puts
 * first; one the rule puts after the winner loses the key to it, as in a whole run: jobs of one connection each,
 * in any order, end where one run of them all does.
 */
export class ClaimStage {
  constructor(
    private readonly tables: WorkTables,
    private readonly identity: IdentityMap,
    private readonly owed: OwedDeletes,
    private readonly resource: string,
    private readonly participants: Set<string>,
    private readonly ranks: Map<string, ConnectionRank> = new Map(),
  ) {}

  /** Records in step with their own row that were part of a claim (the others needed none): for the count of unchanged records. */
  inStepClaimed = 0;

  /** The natural keys of an instance that need a decision (all of them with `everyRecord`), one claim each. */
  *claims(instance: string, everyRecord: boolean): Generator<KeyClaim> {
    for (const group of this.tables.attention(instance, everyRecord)) {
      for (const d of group) if (d.own === OWN.inStep) this.inStepClaimed++;
      const nkHash = group[0]!.nkHash;
      const row = this.identity.ownerOfKey(instance, this.resource, nkHash);
      const owed = row ? undefined : this.owed.byKey(instance, this.resource, nkHash);
      const holder: Holder | undefined = row ? { kind: 'record', row } : owed ? { kind: 'owed', owed } : undefined;
      if (row && !this.participants.has(row.connection) && !this.outranks(group[0]!, row.connection)) {
        yield { holder, duplicates: [], shared: group, sharedWith: row.connection };
        continue;
      }
      const [winner, ...others] = group as [DesiredRow, ...DesiredRow[]];
      const duplicates = others.filter((o) => o.connection === winner.connection);
      const shared = others.filter((o) => o.connection !== winner.connection);
      yield { winner, holder, duplicates, shared, sharedWith: shared.length > 0 ? winner.connection : undefined };
    }
  }

  /** Whether this run's best record of a key wins it over the holder's connection, which the run does not plan. */
  private outranks(best: DesiredRow, holder: string): boolean {
    const r = this.ranks.get(holder);
    return r !== undefined && (best.year > r.endYear || (best.year === r.endYear && best.district < r.districtID));
  }
}
