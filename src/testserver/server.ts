// A local stand-in for an Ed-Fi API serving the resources this engine touches: localEducationAgencies,
// students, programs and studentCTEProgramAssociations. It plays one generation at a time: an ODS/API 5.x/6.x
// (Data Standard 4.0, the default), an ODS/API 7.x or the Ed-Fi API v8 / DMS (Data Standard 5.2), each with its root
// document, URL layout, token location, error bodies, key-change answer and paging. It is a test and demo double
// listening on 127.0.0.1, never the product's store: data lives in memory only. Status codes and texts follow
// ../shared/edfi/README.md and the public Ed-Fi documentation cited in problems.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiFlavor } from '../api/flavor.js';
import { FaultInjector, type StatusFault } from './faults.js';
import { dependencies, layoutFor, type Layout } from './layout.js';
import { answerTokenRequest } from './oauth.js';
import { render, type Problem } from './problems.js';
import { isResourceName, type ResourceName } from './resources.js';
import { EdFiStore, type WriteOutcome } from './store.js';
import { TokenRegistry } from './tokens.js';

export { EdFiStore } from './store.js';
export { FaultInjector } from './faults.js';
export type { Fault, FaultMatch } from './faults.js';
export { preloadReferences } from './preload.js';
export type { PreloadOptions, PreloadSummary } from './preload.js';

export interface TestServerOptions {
  /** Which API generation to play: 'ods-6' (the default), 'ods-7' or 'dms'. */
  flavor?: ApiFlavor;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `demo-key`. */
  clientId?: string;
  /** Default `demo-secret`. */
  clientSecret?: string;
  /** Default 1800, as an ODS/API. */
  tokenLifetimeSeconds?: number;
  /** Answer expires_in as the absolute expiry (epoch seconds), as some token endpoints do. */
  epochExpiresIn?: boolean;
  /** The largest `limit` a GET accepts; default 500. */
  maxPageSize?: number;
  /** A path prefix before everything, e.g. `/api`; default ''. */
  basePath?: string;
  /** Default 409 as every generation; 400 as the Campus error log words it. */
  unresolvedReferenceStatus?: 400 | 409;
  /** Default 'ignore' as ODS/API 6.x; 'reject' as 7.x and the DMS (always, for those flavors). */
  keyChangeOnPut?: 'ignore' | 'reject';
  /** LEA ids the client may touch; default no restriction. */
  authorizedLeas?: readonly number[] | null;
  /** ods-6: play the Year Specific mode: the root document names the data URL of the current calendar year. */
  yearSpecific?: boolean;
  /** ods-7 and dms: the route context segments, default ['schoolYearFromRoute'] (ods-7) or ['schoolYear'] (dms). */
  routeContext?: string[];
  /** The Ed-Fi data model version of the root document: default 4.0.0 (ods-6), 5.2.0 (ods-7, dms). */
  dataStandard?: string;
  /** The school year `store` stands for with a route context (ods-7, dms); default 2026. */
  defaultSchoolYear?: number;
  /** The other route context values `store` stands for (e.g. { districtId: '255901' }). */
  defaultRouteContext?: Record<string, string>;
  /** dms: a rate limiter answering 429 with Retry-After beyond `requests` data requests per `windowMs`. */
  rateLimit?: { requests: number; windowMs: number };
  /**
   * How collection GETs fare: 'ok'; 'error-500' as an implementation whose search backend is down; 'no-search-400'
   * as one that refuses every query parameter but limit/pageSize (so no filter and no second page).
   */
  listing?: 'ok' | 'error-500' | 'no-search-400';
}

export interface RequestLogEntry {
  method: string;
  /** Path with query string, as requested. */
  path: string;
  /** 0 when the connection was reset by a fault. */
  status: number;
}

export interface TestServer {
  /** Origin plus base path, e.g. `http://127.0.0.1:49152`: the API root. */
  url: string;
  flavor: ApiFlavor;
  close(): Promise<void>;
  /** ods-6: the /data/v3 instance; with a route context: the instance of the default school year. */
  store: EdFiStore;
  /** The store behind a data path prefix such as '/data/v3/2026' or '/2026/data' (created empty on first use). */
  instance(prefix: string): EdFiStore;
  /** The store a connection of this school year writes to, as the root document routes it. */
  instanceFor(schoolYear: number, context?: Record<string, string>): EdFiStore;
  /** The data path prefix of a school year (for instance() and request paths). */
  instancePrefix(schoolYear: number, context?: Record<string, string>): string;
  faults: FaultInjector;
  /** Stores a body as a POST would, without LEA authorization; throws when the store refuses it. Returns the id. */
  seed(resource: string, body: object): string;
  requests: RequestLogEntry[];
  /** Makes every issued token invalid, as an ODS/API restart would. */
  expireTokens(): void;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEFAULT_LIMIT = 25;
const PAGING_PARAMETERS = ['limit', 'offset', 'totalCount', 'pageToken', 'pageSize'];

type Headers = Record<string, string>;

function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath || basePath === '/') return '';
  return `/${basePath.replace(/^\/+|\/+$/g, '')}`;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const flavor: ApiFlavor = options.flavor ?? 'ods-6';
  const host = options.host ?? '127.0.0.1';
  const basePath = normalizeBasePath(options.basePath);
  const credentials = { clientId: options.clientId ?? 'demo-key', clientSecret: options.clientSecret ?? 'demo-secret' };
  const maxPageSize = options.maxPageSize ?? 500;
  const dataStandard = options.dataStandard ?? (flavor === 'ods-6' ? '4.0.0' : '5.2.0');
  const layout: Layout = layoutFor({
    flavor,
    routeContext: options.routeContext ?? (flavor === 'dms' ? ['schoolYear'] : ['schoolYearFromRoute']),
    yearSpecific: options.yearSpecific ?? false,
    dataStandard,
  });
  const defaultYear = options.defaultSchoolYear ?? 2026;
  const listing = options.listing ?? 'ok';
  const tokens = new TokenRegistry(options.tokenLifetimeSeconds ?? 1800, options.epochExpiresIn ?? false);
  const faults = new FaultInjector();
  const newStore = (): EdFiStore =>
    new EdFiStore({
      unresolvedReferenceStatus: options.unresolvedReferenceStatus,
      keyChangeOnPut: flavor === 'ods-6' ? options.keyChangeOnPut : 'reject',
      authorizedLeas: options.authorizedLeas,
      // Data Standard 3.3.1-b (ODS/API 5.x) has the 4.0 model of these resources.
      schemaFolder: dataStandard.startsWith('5.') ? 'ds-5.2' : '',
      propertyRules: flavor === 'dms' ? { caseSensitive: true, dropEmpty: true } : { caseSensitive: false, dropEmpty: false },
      answers: flavor === 'dms' ? 'document' : 'relational',
    });
  // Each data path prefix (/data/v3, /data/v3/2026, /2026/data/v3, /2026/data) is its own ODS database, as in a
  // real deployment.
  const instances = new Map<string, EdFiStore>();
  const storeFor = (prefix: string): EdFiStore => {
    let s = instances.get(prefix);
    if (!s) instances.set(prefix, (s = newStore()));
    return s;
  };
  const store = storeFor(flavor === 'ods-6' ? '/data/v3' : defaultPrefix());
  function defaultPrefix(): string {
    try {
      return layout.instancePrefix(defaultYear, options.defaultRouteContext ?? {});
    } catch {
      // A route context with more than the school year and no default values: `store` is reachable by no request.
      return '(no default instance)';
    }
  }
  const rateWindow = { start: 0, count: 0 };
  const requests: RequestLogEntry[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let url = '';

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    res.on('finish', () => requests.push({ method, path: target, status: res.statusCode }));
    handle(req, res, method, target).catch(() => {
      if (!res.headersSent) sendProblem(res, { kind: 'unexpected' });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, method: string, target: string): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      sendProblem(res, { kind: 'too-large' });
      return;
    }
    const plan = faults.plan(method, target);
    if (plan.latencyMs > 0) await delay(plan.latencyMs);
    if (plan.expireTokens) tokens.expireAll();
    if (plan.answer?.kind === 'reset') {
      requests.push({ method, path: target, status: 0 });
      req.socket.destroy();
      return;
    }
    if (plan.answer?.kind === 'status') {
      sendFault(res, plan.answer, flavor);
      return;
    }
    if (plan.answer?.kind === 'answer') {
      sendJson(res, plan.answer.status, plan.answer.body, plan.answer.headers ?? {});
      return;
    }

    const parsed = new URL(target, 'http://test.invalid');
    if (basePath && !(parsed.pathname === basePath || parsed.pathname.startsWith(`${basePath}/`))) {
      sendEmpty(res, 404);
      return;
    }
    const path = parsed.pathname.slice(basePath.length) || '/';

    if (layout.isTokenPath(path)) {
      if (method !== 'POST') return sendEmpty(res, 405, { Allow: 'POST' });
      const answer = answerTokenRequest(req.headers, body, credentials, tokens);
      return sendJson(res, answer.status, answer.body, { 'Cache-Control': 'no-store' });
    }
    if (path === '/' && method === 'GET') return sendJson(res, 200, layout.rootDocument(url));
    if (layout.isDependenciesPath(path) && method === 'GET') return sendJson(res, 200, dependencies());

    const route = layout.dataRoute(path);
    if (!route) return sendEmpty(res, 404);
    if (!hasValidToken(req)) return sendProblem(res, { kind: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    if (options.rateLimit && rateLimited(options.rateLimit)) return;
    const { prefix: dataPrefix, resource: resourceName, id } = route;
    if (!isResourceName(resourceName)) return sendEmpty(res, 404);
    const resourceUrl = `${url}${dataPrefix}/ed-fi/${resourceName}`;
    const instanceStore = storeFor(dataPrefix);
    if (id === undefined) return collection(instanceStore, res, method, resourceName, resourceUrl, parsed.searchParams, body);
    return item(instanceStore, req, res, method, resourceName, id, body);

    function rateLimited(limit: { requests: number; windowMs: number }): boolean {
      const now = Date.now();
      if (now - rateWindow.start >= limit.windowMs) {
        rateWindow.start = now;
        rateWindow.count = 0;
      }
      rateWindow.count += 1;
      if (rateWindow.count <= limit.requests) return false;
      const retryAfterSeconds = Math.max(1, Math.ceil((rateWindow.start + limit.windowMs - now) / 1000));
      sendProblem(res, { kind: 'too-many-requests', retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
      return true;
    }
  }

  function hasValidToken(req: http.IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header.trim());
    return match !== null && tokens.isValid(match[1] as string);
  }

  function collection(
    store: EdFiStore,
    res: http.ServerResponse,
    method: string,
    resource: ResourceName,
    resourceUrl: string,
    query: URLSearchParams,
    bodyText: string,
  ): void {
    if (method === 'GET') {
      const refused = refuseListing(query);
      if (refused) return sendProblem(res, refused);
      const cursor = flavor === 'dms' ? readCursor(query) : { offset: undefined, limit: undefined };
      if ('problem' in cursor) return sendProblem(res, cursor.problem);
      const limit = cursor.limit ?? integerParam(query.get('limit'), DEFAULT_LIMIT);
      if (limit === undefined || limit < 1 || limit > maxPageSize) return sendProblem(res, { kind: 'limit', max: maxPageSize });
      const offset = cursor.offset ?? integerParam(query.get('offset'), 0);
      if (offset === undefined || offset < 0) return sendProblem(res, { kind: 'offset' });
      const filters: Record<string, string> = {};
      for (const [name, value] of query) if (!PAGING_PARAMETERS.includes(name)) filters[name] = value;
      const page = store.query(resource, filters, offset, limit);
      const headers: Headers = query.get('totalCount')?.toLowerCase() === 'true' ? { 'Total-Count': String(page.total) } : {};
      // The DMS: every page that selected items carries a token past them; the walk ends at a page without one.
      if (flavor === 'dms' && page.items.length > 0) headers['Next-Page-Token'] = encodeCursor(offset + page.items.length);
      return sendJson(res, 200, page.items, headers);
    }
    if (method === 'POST') {
      const body = parseJson(bodyText);
      if (!body.ok) return sendProblem(res, body.problem);
      const outcome = store.post(resource, body.value);
      if (!outcome.ok) return sendProblem(res, outcome.problem, {}, outcome.status);
      return sendEmpty(res, outcome.status, { Location: `${resourceUrl}/${outcome.id}`, ETag: `"${outcome.etag}"` });
    }
    sendEmpty(res, 405, { Allow: 'GET, POST' });
  }

  function item(store: EdFiStore, req: http.IncomingMessage, res: http.ServerResponse, method: string, resource: ResourceName, id: string, bodyText: string): void {
    const ifMatch = header(req, 'if-match');
    if (method === 'GET') {
      const outcome = store.read(resource, id);
      if (!outcome.ok) return sendProblem(res, outcome.problem, {}, outcome.status);
      const etag = `"${outcome.etag}"`;
      if (header(req, 'if-none-match') === etag) return sendEmpty(res, 304, { ETag: etag });
      return sendJson(res, 200, outcome.body, { ETag: etag });
    }
    if (method === 'PUT') {
      const body = parseJson(bodyText);
      if (!body.ok) return sendProblem(res, body.problem);
      return sendWrite(res, store.put(resource, id, body.value, { ifMatch }));
    }
    if (method === 'DELETE') return sendWrite(res, store.delete(resource, id, { ifMatch }));
    sendEmpty(res, 405, { Allow: 'GET, PUT, DELETE' });
  }

  function sendWrite(res: http.ServerResponse, outcome: WriteOutcome): void {
    if (!outcome.ok) return sendProblem(res, outcome.problem, {}, outcome.status);
    sendEmpty(res, outcome.status, { ETag: `"${outcome.etag}"` });
  }

  /** A problem in the words of the generation played; `status` when the store decided it (400/409 option). */
  function sendProblem(res: http.ServerResponse, problem: Problem, headers: Headers = {}, status?: number): void {
    const r = render(flavor, problem, options.unresolvedReferenceStatus);
    sendJson(res, status ?? r.status, r.body, headers, r.contentType);
  }

  /** The listing failures of an implementation without a search backend (options.listing). */
  function refuseListing(query: URLSearchParams): Problem | undefined {
    if (listing === 'error-500') return { kind: 'unexpected' };
    if (listing === 'no-search-400') {
      const unknown = [...query.keys()].filter((name) => name !== 'limit' && name !== 'pageSize');
      if (unknown.length > 0) return { kind: 'bad-query', errors: unknown.map((name) => `The query parameter '${name}' is not supported.`) };
    }
    return undefined;
  }

  /** DMS cursor paging: pageToken/pageSize, never mixed with limit/offset, no totalCount with a token. */
  function readCursor(query: URLSearchParams): { offset?: number; limit?: number } | { problem: Problem } {
    const token = query.get('pageToken');
    const pageSize = query.get('pageSize');
    if (token === null && pageSize === null) return {};
    if (query.has('limit') || query.has('offset')) {
      return { problem: { kind: 'bad-query', errors: ["Cursor paging (pageToken, pageSize) cannot be combined with 'limit' or 'offset'."] } };
    }
    if (token !== null && query.get('totalCount')?.toLowerCase() === 'true') {
      return { problem: { kind: 'bad-query', errors: ["'totalCount' is not available with a pageToken."] } };
    }
    const offset = token === null ? 0 : decodeCursor(token);
    if (offset === undefined) return { problem: { kind: 'bad-query', errors: ['The pageToken is not valid.'] } };
    const limit = integerParam(pageSize, DEFAULT_LIMIT);
    if (limit === undefined || limit < 1 || limit > maxPageSize) return { problem: { kind: 'limit', max: maxPageSize } };
    return { offset, limit };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${shownHost}:${address.port}${basePath}`;

  return {
    url,
    flavor,
    store,
    instance: storeFor,
    instanceFor: (schoolYear, context) => storeFor(layout.instancePrefix(schoolYear, context ?? options.defaultRouteContext)),
    instancePrefix: (schoolYear, context) => layout.instancePrefix(schoolYear, context ?? options.defaultRouteContext),
    faults,
    requests,
    seed(resource: string, body: object): string {
      if (!isResourceName(resource)) throw new Error(`The test server has no resource '${resource}'`);
      const outcome = store.post(resource, body, { skipAuthorization: true });
      if (!outcome.ok) throw new Error(`Seeding ${resource} failed: ${outcome.status} ${JSON.stringify(outcome.body)}`);
      return outcome.id;
    },
    expireTokens(): void {
      tokens.expireAll();
    },
    close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  if (!text.trim()) return { ok: false, problem: { kind: 'empty-body' } };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: { kind: 'bad-json', detail: (err as Error).message } };
  }
}

/** An opaque page token: the position after the last item served. */
function encodeCursor(position: number): string {
  return Buffer.from(JSON.stringify({ after: position })).toString('base64url');
}

function decodeCursor(token: string): number | undefined {
  try {
    const value = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function integerParam(value: string | null, fallback: number): number | undefined {
  if (value === null || value === '') return fallback;
  return /^-?\d+$/.test(value) ? Number(value) : undefined;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: http.ServerResponse, status: number, body: object, headers: Headers = {}, contentType = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEmpty(res: http.ServerResponse, status: number, headers: Headers = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

/** A fault's answer: the API's own 500/429 (and the DMS's 503) in its words; gateways answer 502/503 in HTML or text. */
function sendFault(res: http.ServerResponse, fault: StatusFault, flavor: ApiFlavor): void {
  const headers: Headers = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
  const problem = (p: Problem): void => {
    const r = render(flavor, p);
    sendJson(res, r.status, r.body, headers, r.contentType);
  };
  switch (fault.status) {
    case 500:
      return problem({ kind: 'unexpected' });
    case 429:
      return problem({ kind: 'too-many-requests', retryAfterSeconds: fault.retryAfterSeconds ?? 1 });
    case 502: {
      // A gateway in front of the API answers in HTML, not JSON.
      const html = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
      res.writeHead(502, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html), ...headers });
      res.end(html);
      return;
    }
    case 503: {
      // The DMS's circuit breaker answers itself; in front of an ODS/API it is the gateway, in plain text.
      if (flavor === 'dms') return problem({ kind: 'unavailable' });
      const text = 'Service Unavailable';
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
      return;
    }
  }
}
