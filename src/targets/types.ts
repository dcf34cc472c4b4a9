import type { Connection } from '../types.js';

/** What a target is matched by: a connection's State District Number and school year (its end year). */
export interface ConnectionRef {
  /** "districtID:endYear", the connection's key in the state file and on the command line. */
  key: string;
  districtNumber: number | null;
  schoolYear: number;
}

/** Where a connection's key and secret come from: named, never the values. */
export type CredentialSource =
  | { kind: 'env'; keyEnv: string; secretEnv: string }
  | { kind: 'file'; file: string };

/** A connection's target before its credentials are read. */
export interface TargetSpec {
  apiRoot: string;
  flavor?: string;
  /** With the connection's placeholders filled; undefined: the API client's default (or discovery). */
  dataPath?: string;
  /** Values for route placeholders of the API's URLs ({district} and {schoolYear} filled). */
  routeContext?: Record<string, string>;
  credentials: CredentialSource;
  /** Where the target was defined, for messages: "targets.yaml:12" or "--api-base". */
  definedAt: string;
}

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/** What the API client factory takes for one connection. */
export interface ResolvedTarget {
  apiRoot: string;
  flavor?: string;
  dataPath?: string;
  routeContext?: Record<string, string>;
  credentials: Credentials;
  /** "environment EDFI_KEY_1 / EDFI_SECRET_1" or "file /run/secrets/x.env": for messages and listings only. */
  credentialsFrom: string;
}

/** The connection as targets see it. A profile's connections query gives the district number as `districtNumber`. */
export function connectionRef(conn: Connection, key: string): ConnectionRef {
  const n = conn.facts.districtNumber;
  const districtNumber = typeof n === 'number' ? n : typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : null;
  return { key, districtNumber, schoolYear: conn.endYear };
}

export function describeSource(s: CredentialSource): string {
  return s.kind === 'env' ? `environment ${s.keyEnv} / ${s.secretEnv}` : `file ${s.file}`;
}
