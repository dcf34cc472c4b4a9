// Connects a run to the Ed-Fi API(s) its connections send to: reads each API root's document once, refuses a
// profile whose Data Standard the API does not serve (before anything is sent), and gives each connection its
// client and its ODS instance key. Clients of one run share one pooled dispatcher, one retry budget and one
// redactor; connections that resolve to the same token and data URL share one client.

import type { Database } from 'better-sqlite3';
import type { Agent } from 'undici';
import { dataStandardMatches } from '../api/data-standard.js';
import { discoverApi, type DiscoveredApi } from '../api/discovery.js';
import type { ApiFlavor } from '../api/flavor.js';
import { createHttpAgent, DEFAULT_TIMEOUT_MS } from '../api/http-agent.js';
import { connectionRouteContext, fillTemplate, trimSlashes, type RouteContext } from '../api/route-template.js';
import { EdFiClient, type ClientEvent } from '../emit/edfi-client.js';
import { Redactor } from '../emit/redact.js';
import { RetryPolicy, type RetrySettings } from '../emit/retry.js';
import { loadProfile, type LoadedProfile } from '../profile/load-profile.js';
import { ConfigError } from '../util/errors.js';
import { sha1 } from '../util/hash.js';
import { connectionKey, readConnections } from '../snapshot/connections.js';
import { readCredentials, type Credentials } from './credentials.js';
import { listProfiles } from './commands/validate.js';
import { normalizeInstanceKey } from '../plan/instance-key.js';

/** Where one connection sends, as the command line or a targets file gives it. */
export interface ApiTarget {
  /** The API's root URL (its Discovery document). */
  apiRoot: string;
  /** --api-flavor: when the root document does not tell (or tells wrong). */
  flavor?: ApiFlavor;
  /** --data-path: overrides the discovered data URL ({endYear} and route-context placeholders are filled). */
  dataPath?: string;
  /** Needed for clients; a run that only wants instance keys (plan) reads the root document without any. */
  credentials?: Credentials;
  /**
   * Values for route-context placeholders the connection does not give by itself (it gives its school year as
   * {schoolYear} / {schoolYearFromRoute}). A value may name a fact of the connection query in braces:
   * `districtId: '{districtNumber}'`.
   */
  routeContext?: RouteContext;
}

/** What a connection contributes to its URLs: its key ("districtID:endYear"), school year and facts. */
export interface ConnectionInfo {
  key: string;
  endYear: number;
  facts?: Record<string, unknown>;
}

export interface ConnectApiOptions {
  /** One target for every connection (the command line), or one per connection key (a targets file). */
  target: ApiTarget | ((connectionKey: string) => ApiTarget);
  /** The connections the run serves; others (e.g. the delete tool's --connection) are derived from their key. */
  connections?: ConnectionInfo[];
  /** The profile whose Data Standard must match the API's. */
  profile?: LoadedProfile;
  concurrency?: number;
  timeoutMs?: number;
  retry?: RetrySettings;
  onEvent?: (event: ClientEvent) => void;
}

export interface ConnectedApi {
  client: EdFiClient;
  /** The ODS instance the connection's records live in: the resolved data URL (no trailing slash). */
  instanceKey: string;
  api: DiscoveredApi;
}

export interface ApiConnection {
  /** The client and instance of a connection key. */
  forConnection(connectionKey: string): ConnectedApi;
  /** The client of a connection key: what the emitter, reconcile and the reference check take. */
  api: (connectionKey: string) => EdFiClient;
  /** The ODS instance of a connection key (PlanOptions.instanceOf); needs no credentials. */
  instanceOf: (connectionKey: string) => string;
  /** The APIs read, one line each: "Ed-Fi ODS/API 7.x 7.3, Ed-Fi Data Standard 5.2.0, at https://...". */
  describe(): string[];
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

/** The school year of a connection key "districtID:endYear". */
function endYearOf(key: string): number {
  return Number(key.split(':')[1] ?? '');
}

/** Route-context values: the connection's own, then the target's (whose `{fact}` values read the connection). */
function contextFor(info: ConnectionInfo, target: ApiTarget): RouteContext {
  const facts: RouteContext = {};
  for (const [k, v] of Object.entries(info.facts ?? {})) if (typeof v === 'string' || typeof v === 'number') facts[k] = String(v);
  const extra: RouteContext = {};
  for (const [name, value] of Object.entries(target.routeContext ?? {})) {
    extra[name] = /\{[A-Za-z_]\w*\}/.test(value) ? decodeURIComponent(fillTemplate(value, facts, `--route-context ${name}`)) : value;
  }
  return connectionRouteContext(info.endYear, undefined, extra);
}

export async function connectApi(o: ConnectApiOptions): Promise<ApiConnection> {
  const targetOf = typeof o.target === 'function' ? o.target : (() => o.target) as (key: string) => ApiTarget;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agent: Agent = createHttpAgent({ timeoutMs });
  const retry = new RetryPolicy(o.retry);
  const redactor = new Redactor();
  const discovered = new Map<string, DiscoveredApi>();
  const infos = new Map((o.connections ?? []).map((c) => [c.key, c]));

  const discover = async (target: ApiTarget): Promise<DiscoveredApi> => {
    const root = trimSlashes(target.apiRoot.trim());
    const key = `${root}\n${target.flavor ?? ''}`;
    let api = discovered.get(key);
    if (!api) {
      api = await discoverApi(root, { agent, flavor: target.flavor, timeoutMs });
      if (o.profile) checkDataStandard(o.profile, api);
      discovered.set(key, api);
    }
    return api;
  };

  try {
    // Every root the run's connections name is read now, so a wrong URL or profile stops the run before planning.
    const roots = new Map<string, ApiTarget>();
    const keys = o.connections?.map((c) => c.key) ?? [];
    if (typeof o.target !== 'function') roots.set(o.target.apiRoot, o.target);
    for (const key of keys) {
      const t = targetOf(key);
      roots.set(`${t.apiRoot}\n${t.flavor ?? ''}`, t);
    }
    for (const t of roots.values()) await discover(t);
  } catch (err) {
    await agent.close();
    throw err;
  }

  const clients = new Map<string, EdFiClient>();
  const connected = new Map<string, ConnectedApi>();
  const locations = new Map<string, { target: ApiTarget; api: DiscoveredApi; tokenUrl: string; dataUrl: string }>();
  const locate = (connectionKey: string): { target: ApiTarget; api: DiscoveredApi; tokenUrl: string; dataUrl: string } => {
    let l = locations.get(connectionKey);
    if (l) return l;
    const target = targetOf(connectionKey);
    const api = discovered.get(`${trimSlashes(target.apiRoot.trim())}\n${target.flavor ?? ''}`);
    if (!api) throw new Error(`connection ${connectionKey}: its API ${target.apiRoot} was not read when the run connected`);
    const info = infos.get(connectionKey) ?? { key: connectionKey, endYear: endYearOf(connectionKey) };
    l = { target, api, ...api.locate(contextFor(info, target), target.dataPath) };
    locations.set(connectionKey, l);
    return l;
  };
  const forConnection = (connectionKey: string): ConnectedApi => {
    let c = connected.get(connectionKey);
    if (c) return c;
    const { target, api, tokenUrl, dataUrl } = locate(connectionKey);
    if (!target.credentials) throw new Error(`connection ${connectionKey}: no credentials to send with`);
    // The secret counts too: two connections may use one key name with different secrets (one of them wrong).
    const clientKey = `${tokenUrl}\n${dataUrl}\n${target.credentials.clientId}\n${sha1(target.credentials.clientSecret)}`;
    let client = clients.get(clientKey);
    if (!client) {
      client = new EdFiClient({
        tokenUrl,
        dataUrl,
        paging: api.traits.paging,
        clientId: target.credentials.clientId,
        clientSecret: target.credentials.clientSecret,
        timeoutMs,
        agent,
        retryPolicy: retry,
        redactor,
        onEvent: o.onEvent,
      });
      clients.set(clientKey, client);
    }
    c = { client, instanceKey: normalizeInstanceKey(dataUrl), api };
    connected.set(connectionKey, c);
    return c;
  };

  try {
    // Every known connection's URLs now: a route placeholder no connection value fills stops the run before planning.
    for (const key of infos.keys()) locate(key);
  } catch (err) {
    await agent.close();
    throw err;
  }

  return {
    forConnection,
    api: (key) => forConnection(key).client,
    instanceOf: (key) => normalizeInstanceKey(locate(key).dataUrl),
    describe: () => [...discovered.values()].map((a) => a.describe()),
    close: () => agent.close(),
  };
}

/**
 * A profile written for another Data Standard than the API serves is refused, naming both versions and, when
 * the project has one, the profile written for the API's standard. An API that names no Ed-Fi data model cannot
 * be checked: it is let through (the root document of every Ed-Fi API names one).
 */
function checkDataStandard(profile: LoadedProfile, api: DiscoveredApi): void {
  const served = api.dataStandard;
  if (served === undefined || dataStandardMatches(profile.def.dataStandard, served)) return;
  const serves = profile.def.connectionProfile ?? profile.def.name;
  const alternatives: string[] = [];
  for (const name of listProfiles(profile.root)) {
    if (name === profile.def.name) continue;
    try {
      const other = loadProfile(name, profile.root);
      if ((other.def.connectionProfile ?? other.def.name) === serves && dataStandardMatches(other.def.dataStandard, served)) alternatives.push(name);
    } catch {
      // A profile that does not load is no alternative.
    }
  }
  const hint = alternatives.length > 0 ? ` Use --profile ${alternatives.join(' or ')}, written for it.` : ` No profile of this project serving '${serves}' is written for it.`;
  throw new ConfigError([
    {
      file: profile.file,
      ruleId: 'dataStandard',
      message:
        `profile '${profile.def.name}' is written for Ed-Fi Data Standard ${profile.def.dataStandard}, but ${api.describe()} ` +
        `serves Ed-Fi Data Standard ${served}: nothing was sent.${hint}`,
    },
  ]);
}

/** The ODS instance a connection writes to when no API was read (plan without --api-base): the data path. */
export function instanceKeyFromDataPath(dataPath: string, connectionKey: string): string {
  return normalizeInstanceKey(dataPath.replace('{endYear}', String(endYearOf(connectionKey))));
}

/** Notable client events for an operator, each said once per run: a guessed token lifetime, a spent retry budget. */
export function apiEventReporter(write: (line: string) => void): (event: ClientEvent) => void {
  const said = new Set<string>();
  const once = (key: string, line: string): void => {
    if (said.has(key)) return;
    said.add(key);
    write(line);
  };
  return (event) => {
    switch (event.type) {
      case 'token-lifetime-assumed':
        once(
          event.type,
          event.reason === 'epoch-time'
            ? `note: the token endpoint gave expires_in ${event.stated}, which is an absolute time (epoch seconds), not a lifetime: ` +
                `a ${event.assumedSeconds} s lifetime is assumed, and a token refused with 401 is renewed`
            : `note: the token endpoint gave no usable expires_in (${event.stated}, ${event.reason}): a ${event.assumedSeconds} s lifetime is assumed`,
        );
        return;
      case 'retry-budget-exhausted':
        once(event.type, `warning: the retry budget of this run is used up after ${event.retriesUsed} retries: later failures are not retried`);
        return;
      case 'retry-scheduled':
        if (event.status === 429 || (event.status === 503 && event.fromRetryAfter)) {
          once(`limit-${event.status}`, `note: the API is limiting requests (HTTP ${event.status}); waiting as its Retry-After asks`);
        }
        return;
      default:
        return;
    }
  };
}

/** What the sending commands give: the command line's API options. */
export interface RunApiOptions {
  apiBase: string;
  apiFlavor?: ApiFlavor;
  dataPath?: string;
  routeContext?: RouteContext;
  credentialsFile?: string;
  concurrency?: number;
  quiet?: boolean;
}

/**
 * The API connection of a sending command: credentials (env or file), every connection of the snapshot for its
 * route context, the profile's Data Standard checked, notable client events and the API read written to stderr.
 */
export async function connectRun(o: RunApiOptions, ctx: { profile: LoadedProfile; snapshot: Database }): Promise<ApiConnection> {
  const credentials = readCredentials(o.credentialsFile);
  const connections = readConnections(ctx.snapshot, ctx.profile).map((c) => ({ key: connectionKey(c), endYear: c.endYear, facts: c.facts }));
  const write = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const api = await connectApi({
    target: { apiRoot: o.apiBase, flavor: o.apiFlavor, dataPath: o.dataPath, credentials, routeContext: o.routeContext },
    connections,
    profile: ctx.profile,
    concurrency: o.concurrency,
    onEvent: apiEventReporter(write),
  });
  if (!o.quiet) for (const line of api.describe()) write(`Ed-Fi API: ${line}`);
  return api;
}
