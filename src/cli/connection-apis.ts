import type { ResourceApi } from '../emit/api.js';
import { EdFiClient } from '../emit/edfi-client.js';
import type { ConnectionTargets } from '../targets/targets.js';
import type { ConnectionRef, ResolvedTarget } from '../targets/types.js';

/** Builds the API client of one connection's target: the seam where the API client factory plugs in. */
export type ClientForTarget = (t: ResolvedTarget) => ResourceApi;

export const clientForTarget: ClientForTarget = (t) =>
  new EdFiClient({
    baseUrl: t.apiRoot,
    ...(t.dataPath ? { dataPath: t.dataPath } : {}),
    clientId: t.credentials.clientId,
    clientSecret: t.credentials.clientSecret,
  });

/**
 * The API of each connection, made on first use from its target; connections with the same target (root, data
 * path, credentials) share one client and so one token. Reading a connection's credentials can fail for that
 * connection alone (MissingCredentialsError).
 */
export class ConnectionApis {
  private readonly clients = new Map<string, ResourceApi>();
  private readonly resolved = new Map<string, ResolvedTarget>();

  constructor(
    private readonly targets: ConnectionTargets,
    private readonly refs: Map<string, ConnectionRef>,
    private readonly make: ClientForTarget = clientForTarget,
  ) {}

  target(connection: string): ResolvedTarget {
    let t = this.resolved.get(connection);
    if (!t) {
      const ref = this.refs.get(connection) ?? { key: connection, districtNumber: null, schoolYear: Number(connection.split(':')[1]) };
      this.resolved.set(connection, (t = this.targets.resolve(ref)));
    }
    return t;
  }

  api(connection: string): ResourceApi {
    const t = this.target(connection);
    const key = JSON.stringify([t.apiRoot, t.dataPath ?? '', t.flavor ?? '', t.credentialsFrom]);
    let c = this.clients.get(key);
    if (!c) this.clients.set(key, (c = this.make(t)));
    return c;
  }

  /** The function the emitter and the reference check take. */
  readonly forConnection = (connection: string): ResourceApi => this.api(connection);
}
