// The shape of profiles/<name>/profile.yaml; schemas/profile.schema.json is its checked contract.
import type { SanityRuleDef } from '../sanity/sanity-rules.js';

export interface SpecRule {
  id: string;
  spec: string;
  reason?: string;
  decision?: string;
}

export interface FieldRule extends SpecRule {
  path: string;
  error?: string;
}

export interface DeriveDef extends SpecRule {
  fact: string;
  groupBy: string[];
  orderBy: string[];
}

/** A computed fact (`facts:`): a JSONata expression over one record, evaluated before the rules. */
export interface ComputedFactDef extends SpecRule {
  /** The fact's name, as rules and mappings use it. */
  fact: string;
  expr: string;
}

export interface WarningDef extends SpecRule {
  query: string;
  message: string;
}

export interface UpstreamDef {
  resource: string;
  path: string;
  from: string;
  query: Record<string, string>;
}

export interface ProfileDef {
  name: string;
  title: string;
  spec?: string;
  connectionProfile?: string;
  dataStandard: string;
  resource: { name: string; path: string; schema: string; upstream?: UpstreamDef[] };
  connections: { query: string };
  source: { query: string; key: string[]; json?: string[]; student?: string; person?: string };
  rules: string[];
  facts?: ComputedFactDef[];
  derive?: DeriveDef[];
  mapping: string;
  descriptorNamespaces?: Record<string, string>;
  naturalKey: string[];
  keyChangeFields?: FieldRule[];
  immutableFields?: FieldRule[];
  deletes?: { notFoundInCampus: SpecRule };
  whenResourceDisabled?: 'keep';
  errors: string[];
  warnings?: WarningDef[];
  fixtures?: string;
  descriptors?: string[];
  resync?: {
    scope?: Record<string, string>;
    notInCampus?: SpecRule;
    notInOds?: SpecRule;
    /**
     * Present: each connection is planned with the Resource Preferences of its last resync (kept in the state file),
     * and `resync` plans with today's and keeps them. Absent: every run plans with the snapshot's preferences, so a
     * change is sent on the next night.
     */
    preferenceChanges?: SpecRule;
  };
  massDelete?: { maxShare?: number; minCount?: number };
  /** Checks on the mapped body (src/sanity). */
  sanity?: SanityRuleDef[];
}
