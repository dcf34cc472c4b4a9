import type { Command } from 'commander';
import { loadProfile } from '../../profile/load-profile.js';
import { connectionKey } from '../../snapshot/connections.js';
import { openSnapshot } from '../../snapshot/open.js';
import { entryFor, ErrorLog } from '../../state/error-log.js';
import { IdentityMap } from '../../state/identity-map.js';
import { acquireLocks, connectionLock, LockedError, WHOLE_STATE } from '../../state/lock.js';
import { normalizeInstanceKey, sameInstance } from '../../plan/instance-key.js';
import { connectionRef, type ConnectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import type { ApiFlavor } from '../../api/flavor.js';
import { connectedApis, type ConnectionApis } from '../connection-apis.js';
import { checkConnectionKeys, selectConnections, singleStateFile, targetsOf } from '../connection-select.js';
import { EXIT, EXIT_CODES_HELP } from '../exit-codes.js';
import { apiOptions, connectionOption, TARGETS_HELP } from '../options.js';
import { openStateFile } from '../state-file.js';


export interface DeleteOptions {
  profile: string;
  state: string;
  apiBase?: string;
  targets?: string;
  snapshot?: string;
  /** Overrides the data path the API's root document gives. */
  dataPath?: string;
  apiFlavor?: ApiFlavor;
  routeContext?: Record<string, string>;
  id?: string[];
  sourceKey?: string;
  student?: string;
  resourcePath?: string;
  connection?: string[];
  credentialsFile?: string;
  /** Lists what would be deleted; nothing is asked of the API or changed. */
  dryRun?: boolean;
}

/** Deleting a record Campus still sends does not keep it out of the ODS: said after every delete of mapped records. */
const REWANTED = 'note: a record Campus still wants is sent again by the next sync (a new POST); to keep it out of the ODS, change it in Campus (e.g. end or exclude it) or stop syncing it';

/** District numbers of the connections, for matching targets: from the snapshot's connections query. */
function connectionRefs(o: DeleteOptions): Map<string, ConnectionRef> {
  if (!o.snapshot) return new Map();
  const snapshot = openSnapshot(o.snapshot);
  try {
    return new Map(selectConnections(snapshot, loadProfile(o.profile), undefined).map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
  } finally {
    snapshot.close();
  }
}

/**
 * The Delete Tool of the spec's 409 fix ("Use the Delete Tool to delete the referenced resource in the error
 * message. Then retry the delete on the original resource that errored."): removes records from the ODS by
 * Ed-Fi id, source key or student, and from the identity mapping when they are mapped.
 */
export async function runDelete(o: DeleteOptions): Promise<number> {
  const only = checkConnectionKeys(o.connection);
  if (o.id?.length && only && only.size > 1) throw usageError('with --id, give one --connection (the ODS instance the ids are in)');
  const targets = targetsOf(o);
  if (!targets && !o.dryRun) throw usageError('--api-base or --targets is required (or use --dry-run)');
  if (o.targets && !o.snapshot) throw usageError('with --targets, give --snapshot too (the district numbers of the connections come from it)');
  const profile = loadProfile(o.profile);
  const refs = connectionRefs(o);
  let apis: ConnectionApis | undefined;
  const db = openStateFile(singleStateFile(o.state, o.connection));
  let release: (() => void) | undefined;
  try {
    const identity = new IdentityMap(db);
    const log = new ErrorLog(db);
    const resourcePath = o.resourcePath ?? profile.def.resource.path;
    const ownResource = resourcePath === profile.def.resource.path;
    const resource = profile.def.resource.name;
    // What each DELETE is: the Ed-Fi id, the connection whose API it goes through, and the identity rows that map
    // that record (removed once it is gone).
    type Target = { id: string; connection: string; rows: Array<{ connection: string; sourceKey: string }> };
    const recordTargets = (): Target[] => {
      const out: Target[] = [];
      if (ownResource && (o.sourceKey || o.student)) {
        for (const row of identity.find({ resource, sourceKey: o.sourceKey, student: o.student })) {
          if (row.edfiId && (!only || only.has(row.connection))) out.push({ id: row.edfiId, connection: row.connection, rows: [{ connection: row.connection, sourceKey: row.sourceKey }] });
        }
      }
      return out;
    };
    let targetsToDelete = recordTargets();
    // Ids are unique within an ODS, not across ODS instances (an ODS copied for a new school year keeps its ids): an id
    // is deleted in the instance of the connection given. Without --connection, an id mapped in two instances is
    // refused as ambiguous; mapped in one, it is deleted there.
    const idTargets: Array<{ id: string; connection: string }> = [];
    for (const id of o.id ?? []) {
      if (only) {
        idTargets.push({ id, connection: [...only][0]! });
        continue;
      }
      const holders = ownResource ? identity.find({ resource, edfiId: id }) : [];
      const instances = new Set(holders.map((r) => (r.instance === null ? `(connection ${r.connection}, no instance recorded)` : normalizeInstanceKey(r.instance))));
      if (instances.size > 1) {
        throw usageError(`${id} is mapped in ${instances.size} ODS instances (${[...instances].join(', ')}), by records of ${holders.map((r) => r.connection).join(', ')}: give --connection to say which one to delete it from`);
      }
      idTargets.push({ id, connection: holders[0]?.connection ?? '' });
    }
    if (targetsToDelete.length === 0 && idTargets.length === 0) {
      process.stderr.write('Nothing to delete: no record matches (give --id, --source-key or --student)\n');
      return EXIT.usage;
    }
    if (o.dryRun) {
      for (const t of targetsToDelete) process.stdout.write(`would delete ${resourcePath}/${t.id} [${t.rows.map((r) => r.sourceKey).join(', ')}] (connection ${t.connection})\n`);
      for (const t of idTargets) process.stdout.write(`would delete ${resourcePath}/${t.id}${t.connection ? ` (connection ${t.connection})` : ''}\n`);
      if (targetsToDelete.length > 0) process.stdout.write(`${REWANTED}\n`);
      process.stdout.write('Dry run: nothing was deleted.\n');
      return EXIT.ok;
    }
    // The APIs of the connections concerned are read first: their root documents give the data URLs, hence the
    // instance an id is deleted in.
    const keys = [...new Set([...targetsToDelete, ...idTargets].map((t) => t.connection || '0:'))];
    for (const k of keys) if (!refs.has(k)) refs.set(k, { key: k, districtNumber: null, schoolYear: Number(k.split(':')[1]) });
    apis = await connectedApis(targets!, new Map(keys.map((k) => [k, refs.get(k)!])), { ...o, profile }, (line) => process.stderr.write(`${line}\n`));
    const api = apis;
    // Every row mapping the id in that instance, whichever connection it is of (connections may share an ODS): left
    // behind, a row would say its record is in the ODS, and the record would never be sent again.
    const rowsOf = (t: { id: string; connection: string }): Array<{ connection: string; sourceKey: string }> => {
      if (!ownResource) return [];
      const instance = api.instanceOf(t.connection || '0:');
      return identity.find({ resource, edfiId: t.id })
        .filter((r) => (r.instance === null ? r.connection === t.connection : sameInstance(r.instance, instance)))
        .map((r) => ({ connection: r.connection, sourceKey: r.sourceKey }));
    };
    const lockNames = (): string[] => [...new Set([...targetsToDelete, ...idTargets.map((t) => ({ ...t, rows: rowsOf(t) }))]
      .flatMap((t) => [t.connection, ...t.rows.map((r) => r.connection)]).map((c) => (c ? connectionLock(c) : WHOLE_STATE)))];
    const locked = lockNames();
    release = acquireLocks(db, locked);
    // Read again under the locks: a run of a connection may have sent, re-keyed or deleted the records meanwhile
    // (the ids read before could then be another record's, or gone). Rows of a connection not locked are refused.
    targetsToDelete = recordTargets();
    const unlockedRecords = targetsToDelete.filter((t) => !locked.includes(connectionLock(t.connection)));
    if (unlockedRecords.length > 0) throw new LockedError(`the records to delete changed while this command took its locks (now also of ${[...new Set(unlockedRecords.map((t) => t.connection))].join(', ')}); run it again`);
    for (const t of idTargets) {
      // Read again under the locks: a run of another connection may have changed its rows meanwhile.
      const rows = rowsOf(t);
      const unlocked = rows.filter((r) => !locked.includes(connectionLock(r.connection)));
      if (unlocked.length > 0) throw new LockedError(`the records mapping ${t.id} changed while this command took its locks (now ${unlocked.map((r) => r.connection).join(', ')}); run it again`);
      targetsToDelete.push({ ...t, rows });
    }
    if (targetsToDelete.length === 0) {
      process.stderr.write('Nothing to delete: the records matched were removed from the identity mapping while this command took its locks\n');
      return EXIT.ok;
    }
    let failed = 0;
    for (const t of targetsToDelete) {
      // Records of other resources are not mapped here; they live in their instance (--connection gives the year).
      const r = await api.api(t.connection || '0:').delete(resourcePath, t.id);
      if (r.ok || r.status === 404) {
        for (const row of t.rows) identity.remove(row.connection, resource, row.sourceKey);
        const mapped = t.rows.map((row) => row.sourceKey);
        process.stdout.write(`deleted ${resourcePath}/${t.id}${r.status === 404 ? ' (already gone)' : ''}${mapped.length > 0 ? ` [${mapped.join(', ')}]` : ''}\n`);
      } else {
        failed++;
        const message = r.message ?? `HTTP ${r.status}`;
        const entry = profile.catalogue.match(r.status, 'DELETE', message);
        log.add(entryFor({ runId: null, at: new Date().toISOString(), connection: t.connection || null, resource: resourcePath, sourceKey: t.rows[0]?.sourceKey ?? null, student: null, method: 'DELETE', status: r.status, message, body: null }, entry));
        process.stdout.write(`FAILED ${resourcePath}/${t.id}: ${r.status} ${message}\n  fix: ${entry.fix}\n`);
      }
    }
    if (targetsToDelete.some((t) => t.rows.length > 0)) process.stdout.write(`${REWANTED}\n`);
    return failed > 0 ? EXIT.apiFailed : EXIT.ok;
  } finally {
    release?.();
    db.close();
    await apis?.close();
  }
}

export function registerDelete(program: Command): void {
  const cmd = program
    .command('delete')
    .description('Delete records from the ODS (and the identity mapping) by Ed-Fi id, source key or student')
    .requiredOption('--profile <name|path>', 'state profile (its resource and error catalogue)')
    .requiredOption('--state <file>', 'state file')
    .option('--api-base <url>', "the Ed-Fi API's root URL (or --targets)")
    .option('--targets <file>', TARGETS_HELP)
    .option('--snapshot <file>', 'with --targets: the snapshot whose connections give the district numbers');
  apiOptions(cmd)
    .option('--id <id...>', 'Ed-Fi resource id(s)')
    .option('--source-key <key>', "Campus record, e.g. 'participationID=42'")
    .option('--student <id>', 'every mapped record of this student')
    .option('--resource-path <path>', "another resource, e.g. '/ed-fi/programs' (with --id)")
    .option('--dry-run', 'list what would be deleted; nothing is asked of the API or changed');
  connectionOption(cmd, "only records of this connection 'districtID:endYear' (repeatable); with --id, the ODS instance the ids are in")
    .option('--credentials-file <file>', 'with --api-base: file with EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: DeleteOptions) => {
      process.exitCode = await runDelete(o);
    });
}
