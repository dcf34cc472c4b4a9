// The ODS instance of each connection as its API's root document gives it, for deciding which connections must
// run together (a shard, one state file) before anything is planned. Reading a root document needs no key and
// secret. An ODS/API 7.x or a DMS routes each school year to its own data URL, which the targets alone do not show.
import { parseApiFlavor, type ApiFlavor } from '../api/flavor.js';
import type { RouteContext } from '../api/route-template.js';
import { connectionKey } from '../snapshot/connections.js';
import { instanceOf as plannedInstanceOf, type ConnectionTargets } from '../targets/targets.js';
import { connectionRef } from '../targets/types.js';
import type { Connection } from '../types.js';
import { connectApi, type ApiTarget } from './api-factory.js';

export type InstanceOfConnection = (c: Connection) => string;

/** The instance the targets alone give (the data path, `/data/v3` when none): what a run without an API knows. */
export function plannedInstances(targets: ConnectionTargets): InstanceOfConnection {
  return (c) => plannedInstanceOf(targets.specFor(connectionRef(c, connectionKey(c))));
}

/**
 * Each connection's resolved data URL, reading each API root once. A root that cannot be read (or a target it
 * cannot place) leaves its connections at the instance the targets give: they cannot be sent this run anyway,
 * and the run that tries says why.
 */
export async function discoveredInstances(
  targets: ConnectionTargets, conns: Connection[], o: { apiFlavor?: ApiFlavor; routeContext?: RouteContext },
): Promise<InstanceOfConnection> {
  const planned = plannedInstances(targets);
  const found = new Map<string, string>();
  const groups = new Map<string, Array<{ conn: Connection; target: ApiTarget }>>();
  for (const conn of conns) {
    try {
      const spec = targets.specFor(connectionRef(conn, connectionKey(conn)));
      const flavor = spec.flavor ? parseApiFlavor(spec.flavor) : o.apiFlavor;
      const routeContext = spec.routeContext || o.routeContext ? { ...spec.routeContext, ...o.routeContext } : undefined;
      const target: ApiTarget = { apiRoot: spec.apiRoot, flavor, dataPath: spec.dataPath, routeContext };
      const root = `${spec.apiRoot.replace(/\/+$/, '')}\n${flavor ?? ''}`;
      groups.set(root, [...(groups.get(root) ?? []), { conn, target }]);
    } catch {
      // A target that cannot be resolved: the run says why; here it keeps the planned instance.
    }
  }
  for (const members of groups.values()) {
    const byKey = new Map(members.map((m) => [connectionKey(m.conn), m]));
    try {
      const api = await connectApi({
        target: (key) => byKey.get(key)!.target,
        connections: members.map((m) => ({ key: connectionKey(m.conn), endYear: m.conn.endYear, facts: m.conn.facts })),
      });
      try {
        for (const key of byKey.keys()) found.set(key, api.instanceOf(key));
      } finally {
        await api.close();
      }
    } catch {
      // Not readable now: planned instances for these connections.
    }
  }
  return (c) => found.get(connectionKey(c)) ?? planned(c);
}
