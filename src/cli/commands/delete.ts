import type { Command } from 'commander';
import { IdentityMap } from '../../state/identity-map.js';
import { entryFor, ErrorLog } from '../../state/error-log.js';
import { acquireLock } from '../../state/lock.js';
import { openState } from '../../state/state-db.js';
import { loadProfile } from '../../profile/load-profile.js';
import type { ApiFlavor } from '../../api/flavor.js';
import { connectApi, apiEventReporter } from '../api-factory.js';
import { readCredentials } from '../credentials.js';
import { apiOptions } from '../options.js';
import { EXIT } from '../exit-codes.js';

export interface DeleteOptions {
  profile: string;
  state: string;
  apiBase: string;
  dataPath?: string;
  apiFlavor?: ApiFlavor;
  routeContext?: Record<string, string>;
  id?: string[];
  sourceKey?: string;
  student?: string;
  resourcePath?: string;
  connection?: string;
  credentialsFile?: string;
}

/**
 * The Delete Tool of the spec's 409 fix ("Use the Delete Tool to delete the referenced resource in the error
 * message. Then retry the delete on the original resource that errored."): removes records from the ODS by
 * Ed-Fi id, source key or student, and from the identity mapping when they are mapped.
 */
export async function runDelete(o: DeleteOptions): Promise<number> {
  const profile = loadProfile(o.profile);
  const creds = readCredentials(o.credentialsFile);
  const connection = await connectApi({
    target: { apiRoot: o.apiBase, flavor: o.apiFlavor, dataPath: o.dataPath, credentials: creds, routeContext: o.routeContext },
    profile,
    onEvent: apiEventReporter((line) => process.stderr.write(`${line}\n`)),
  });
  const api = connection.api;
  const db = openState(o.state);
  let release: () => void;
  try {
    release = acquireLock(db);
  } catch (err) {
    db.close();
    await connection.close();
    throw err;
  }
  try {
    const identity = new IdentityMap(db);
    const log = new ErrorLog(db);
    const resourcePath = o.resourcePath ?? profile.def.resource.path;
    const ownResource = resourcePath === profile.def.resource.path;
    const targets: Array<{ id: string; connection: string; sourceKey: string | null }> = [];
    if (ownResource && (o.sourceKey || o.student)) {
      for (const row of identity.find({ resource: profile.def.resource.name, sourceKey: o.sourceKey, student: o.student, connection: o.connection })) {
        if (row.edfiId) targets.push({ id: row.edfiId, connection: row.connection, sourceKey: row.sourceKey });
      }
    }
    for (const id of o.id ?? []) {
      const row = ownResource ? identity.find({ resource: profile.def.resource.name, edfiId: id })[0] : undefined;
      targets.push({ id, connection: row?.connection ?? o.connection ?? '', sourceKey: row?.sourceKey ?? null });
    }
    if (targets.length === 0) {
      process.stderr.write('Nothing to delete: no record matches (give --id, --source-key or --student)\n');
      return EXIT.usage;
    }
    let failed = 0;
    for (const t of targets) {
      // Records of other resources are not mapped here; they live in their instance (--connection gives the year).
      const r = await api(t.connection || '0:').delete(resourcePath, t.id);
      if (r.ok || r.status === 404) {
        if (t.sourceKey) identity.remove(t.connection, profile.def.resource.name, t.sourceKey);
        process.stdout.write(`deleted ${resourcePath}/${t.id}${r.status === 404 ? ' (already gone)' : ''}${t.sourceKey ? ` [${t.sourceKey}]` : ''}\n`);
      } else {
        failed++;
        const message = r.message ?? `HTTP ${r.status}`;
        const entry = profile.catalogue.match(r.status, 'DELETE', message);
        log.add(entryFor({ runId: null, at: new Date().toISOString(), connection: t.connection || null, resource: resourcePath, sourceKey: t.sourceKey, student: null, method: 'DELETE', status: r.status, message, body: null }, entry));
        process.stdout.write(`FAILED ${resourcePath}/${t.id}: ${r.status} ${message}\n  fix: ${entry.fix}\n`);
      }
    }
    return failed > 0 ? EXIT.apiFailed : EXIT.ok;
  } finally {
    release();
    db.close();
    await connection.close();
  }
}

export function registerDelete(program: Command): void {
  const cmd = program
    .command('delete')
    .description('Delete records from the ODS (and the identity mapping) by Ed-Fi id, source key or student')
    .requiredOption('--profile <name|path>', 'state profile (its resource and error catalogue)')
    .requiredOption('--state <file>', 'state file')
    .requiredOption('--api-base <url>', "the Ed-Fi API's root URL");
  apiOptions(cmd)
    .option('--id <id...>', 'Ed-Fi resource id(s)')
    .option('--source-key <key>', "Campus record, e.g. 'participationID=42'")
    .option('--student <id>', 'every mapped record of this student')
    .option('--resource-path <path>', "another resource, e.g. '/ed-fi/programs' (with --id)")
    .option('--connection <key>', "connection 'districtID:endYear' (selects the year instance for --id)")
    .option('--credentials-file <file>', 'file with EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines')
    .action(async (o: DeleteOptions) => {
      process.exitCode = await runDelete(o);
    });
}
