import { readCredentials } from '../cli/credentials.js';
import { readCredentialSource } from './credential-source.js';
import { loadTargetsFile } from './targets-file.js';
import { describeSource, type ConnectionRef, type ResolvedTarget, type TargetSpec } from './types.js';
import { normalizeInstanceKey } from '../plan/instance-key.js';

/** Where every connection of a run sends: from a targets file, or from --api-base and one key for all. */
export interface ConnectionTargets {
  /** "targets.yaml" or "--api-base": where the answers come from. */
  source: string;
  /** The target of a connection, without reading its credentials (listings, instance keys). Throws ConfigError. */
  specFor(c: ConnectionRef): TargetSpec;
  /** The target with its key and secret read. Throws MissingCredentialsError (that connection only) or ConfigError. */
  resolve(c: ConnectionRef): ResolvedTarget;
}

export function targetsFromFile(path: string): ConnectionTargets {
  const file = loadTargetsFile(path);
  return {
    source: file.file,
    specFor: (c) => file.targetFor(c),
    resolve(c) {
      const spec = file.targetFor(c);
      return {
        apiRoot: spec.apiRoot,
        ...(spec.flavor ? { flavor: spec.flavor } : {}),
        ...(spec.dataPath ? { dataPath: spec.dataPath } : {}),
        ...(spec.routeContext ? { routeContext: spec.routeContext } : {}),
        credentials: readCredentialSource(spec.credentials, c.key),
        credentialsFrom: describeSource(spec.credentials),
      };
    },
  };
}

/**
 * Today's command line: one API root, one data path ({endYear} for year-specific instances) and one key for every
 * connection, from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET or --credentials-file.
 */
export function targetsFromCommandLine(o: { apiBase: string; dataPath?: string; credentialsFile?: string }): ConnectionTargets {
  const spec = (c: ConnectionRef): TargetSpec => ({
    apiRoot: o.apiBase,
    ...(o.dataPath ? { dataPath: o.dataPath.replace(/\{(endYear|schoolYear)\}/g, String(c.schoolYear)) } : {}),
    credentials: o.credentialsFile ? { kind: 'file', file: o.credentialsFile } : { kind: 'env', keyEnv: 'EDFI_CLIENT_ID', secretEnv: 'EDFI_CLIENT_SECRET' },
    definedAt: '--api-base',
  });
  let creds: ReturnType<typeof readCredentials> | undefined;
  return {
    source: '--api-base',
    specFor: spec,
    resolve(c) {
      const s = spec(c);
      creds ??= readCredentials(o.credentialsFile);
      return { apiRoot: s.apiRoot, ...(s.dataPath ? { dataPath: s.dataPath } : {}), credentials: creds, credentialsFrom: describeSource(s.credentials) };
    },
  };
}

/**
 * The ODS instance a connection's records live in: the resolved data URL of the resource collections. Connections
 * with the same instance share records (the planner gives each natural key one owner per instance).
 */
export function instanceOf(spec: Pick<TargetSpec, 'apiRoot' | 'dataPath'>): string {
  return normalizeInstanceKey(`${spec.apiRoot.replace(/\/+$/, '')}${spec.dataPath ?? '/data/v3'}`);
}
