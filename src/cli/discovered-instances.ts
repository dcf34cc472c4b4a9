// The ODS instance of each connection as its API's root document gives it, for deciding which connections must
// run together (a shard, one state file) before anything is planned. Reading a root document needs no key and
// secret. An ODS/API 7.x or a DMS routes each school year to its own data URL, which the targets alone do not show.
import type { ApiFlavor } from '../api/flavor.js';
import type { RouteContext } from '../api/route-template.js';
import { connectionKey } from '../snapshot/connections.js';
import type { ConnectionTargets } from '../targets/targets.js';
import { connectionRef } from '../targets/types.js';
import type { Connection } from '../types.js';
import { ConnectionApis } from './connection-apis.js';
import { plannedInstances } from './connection-select.js';

export type InstanceOfConnection = (c: Connection) => string;

/**
 * Each connection's resolved data URL, reading each API root once (no key or secret is read). A root that cannot
 * be read (or a target it cannot place) leaves its connections at the instance the targets give: they cannot be
 * sent this run anyway, and the run that tries says why.
 */
export async function discoveredInstances(
  targets: ConnectionTargets, conns: Connection[], o: { apiFlavor?: ApiFlavor; routeContext?: RouteContext },
): Promise<InstanceOfConnection> {
  const refs = new Map(conns.map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
  const apis = new ConnectionApis(targets, refs, { flavor: o.apiFlavor, routeContext: o.routeContext, connections: conns, withoutCredentials: true });
  try {
    await apis.connect([...refs.keys()]);
    // Only the APIs read: a connection whose target cannot be resolved fails where the run asks for it.
    const found = new Map([...refs.keys()].filter((key) => !apis.failure(key)).map((key) => [key, apis.instanceOf(key)]));
    const planned = plannedInstances(targets);
    return (c) => found.get(connectionKey(c)) ?? planned(c);
  } finally {
    await apis.close();
  }
}
