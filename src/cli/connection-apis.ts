// The Ed-Fi API of each connection of a run: its target (a targets file, or --api-base with one key) joined with
// what the API's root document says (generation, token and data URLs, Data Standard). Connections whose targets
// name the same API root share one reading of its root document; a root that cannot be read, serves another Data
// Standard, or a connection whose key and secret cannot be read, stops only the connections concerned.
import { parseApiFlavor, type ApiFlavor } from '../api/flavor.js';
import type { RouteContext } from '../api/route-template.js';
import type { ResourceApi } from '../emit/api.js';
import type { ClientEvent } from '../emit/edfi-client.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { instanceOf as plannedInstanceOf, type ConnectionTargets } from '../targets/targets.js';
import type { ConnectionRef, ResolvedTarget } from '../targets/types.js';
import type { Connection } from '../types.js';
import { apiEventReporter, connectApi, type ApiConnection, type ApiTarget } from './api-factory.js';
import { CliError } from './cli-error.js';
import { EXIT } from './exit-codes.js';

export interface ConnectionApisOptions {
  /** --api-flavor: for targets that name none, when a root document does not tell. */
  flavor?: ApiFlavor;
  /** --route-context: values for placeholders of the APIs' URLs. */
  routeContext?: RouteContext;
  /** The profile whose Data Standard each API must serve. */
  profile?: LoadedProfile;
  /** The connections' facts (route-context placeholders may name them). */
  connections?: Connection[];
  onEvent?: (event: ClientEvent) => void;
  /** Only the root documents are wanted (instance keys), never a client: credentials are not read. */
  withoutCredentials?: boolean;
}

export class ConnectionApis {
  private readonly resolved = new Map<string, ResolvedTarget>();
  private readonly failures = new Map<string, Error>();
  /** One connection to each API root (and flavor) the run's targets name. */
  private readonly roots = new Map<string, ApiConnection>();
  private readonly rootOf = new Map<string, ApiConnection>();

  constructor(
    private readonly targets: ConnectionTargets,
    private readonly refs: Map<string, ConnectionRef>,
    private readonly o: ConnectionApisOptions = {},
  ) {}

  target(connection: string): ResolvedTarget {
    let t = this.resolved.get(connection);
    if (!t) this.resolved.set(connection, (t = this.targets.resolve(this.refOf(connection))));
    return t;
  }

  private refOf(connection: string): ConnectionRef {
    return this.refs.get(connection) ?? { key: connection, districtNumber: null, schoolYear: Number(connection.split(':')[1]) };
  }

  private apiTarget(connection: string): ApiTarget {
    const t: Omit<ResolvedTarget, 'credentials' | 'credentialsFrom'> & { credentials?: ResolvedTarget['credentials'] } = this.o.withoutCredentials
      ? (({ credentials: _source, ...spec }) => spec)(this.targets.specFor(this.refOf(connection)))
      : this.target(connection);
    let flavor: ApiFlavor | undefined = this.o.flavor;
    if (t.flavor) {
      try {
        flavor = parseApiFlavor(t.flavor);
      } catch (err) {
        throw new CliError(`connection ${connection}: ${(err as Error).message}`, EXIT.config);
      }
    }
    // The targets file's values for this connection, then --route-context, which wins for every connection.
    const routeContext = t.routeContext || this.o.routeContext ? { ...t.routeContext, ...this.o.routeContext } : undefined;
    return { apiRoot: t.apiRoot, flavor, dataPath: t.dataPath, credentials: t.credentials, routeContext };
  }

  /**
   * Reads the root document of every API the connections send to, before planning: a wrong URL or a profile written
   * for another Data Standard is known before anything is sent. Failures are kept per connection (see `failure`).
   */
  async connect(keys: string[]): Promise<void> {
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      try {
        const t = this.apiTarget(key);
        const root = `${t.apiRoot.replace(/\/+$/, '')}\n${t.flavor ?? ''}`;
        groups.set(root, [...(groups.get(root) ?? []), key]);
      } catch (err) {
        this.failures.set(key, err as Error);
      }
    }
    const facts = new Map((this.o.connections ?? []).map((c) => [`${c.districtID}:${c.endYear}`, c]));
    for (const [root, members] of groups) {
      try {
        const api = await connectApi({
          target: (key) => this.apiTarget(key),
          connections: members.map((key) => ({ key, endYear: Number(key.split(':')[1]), facts: facts.get(key)?.facts })),
          profile: this.o.profile,
          onEvent: this.o.onEvent,
        });
        this.roots.set(root, api);
        for (const key of members) this.rootOf.set(key, api);
      } catch (err) {
        for (const key of members) this.failures.set(key, err as Error);
      }
    }
  }

  /** Why a connection cannot be sent (its API could not be read, or its key and secret are missing), if so. */
  failure(connection: string): Error | undefined {
    return this.failures.get(connection);
  }

  api(connection: string): ResourceApi {
    const failed = this.failures.get(connection);
    if (failed) throw failed;
    const root = this.rootOf.get(connection);
    if (!root) throw new Error(`connection ${connection}: its API was not read before sending (a bug)`);
    return root.api(connection);
  }

  /** The ODS instance of a connection: the data URL its API gives, or the one its target names when it was not read. */
  instanceOf(connection: string): string {
    const root = this.rootOf.get(connection);
    if (root) return root.instanceOf(connection);
    return plannedInstanceOf(this.targets.specFor(this.refOf(connection)));
  }

  /** The APIs read, one line each. */
  describe(): string[] {
    return [...this.roots.values()].flatMap((r) => r.describe());
  }

  /** The function the emitter and the reference check take. */
  readonly forConnection = (connection: string): ResourceApi => this.api(connection);

  async close(): Promise<void> {
    for (const r of this.roots.values()) await r.close();
    this.roots.clear();
  }
}

/**
 * The APIs of a command's connections, read before planning (their root documents, the profile's Data Standard
 * checked), with notable client events and the APIs read reported through `say`.
 */
export async function connectedApis(
  targets: ConnectionTargets,
  refs: Map<string, ConnectionRef>,
  o: { apiFlavor?: ApiFlavor; routeContext?: RouteContext; profile?: LoadedProfile; connections?: Connection[] },
  say: (line: string) => void,
): Promise<ConnectionApis> {
  const apis = new ConnectionApis(targets, refs, {
    flavor: o.apiFlavor, routeContext: o.routeContext, profile: o.profile, connections: o.connections, onEvent: apiEventReporter(say),
  });
  await apis.connect([...refs.keys()]);
  for (const line of apis.describe()) say(`Ed-Fi API: ${line}`);
  return apis;
}
