// A local stand-in for an Ed-Fi ODS/API 6.x (Data Standard 4.0) serving the resources this engine
// touches: localEducationAgencies, students, programs and studentCTEProgramAssociations. It is a test
// and demo double listening on 127.0.0.1, never the product's store: data lives in memory only.
// Status codes and message texts follow ../shared/edfi/README.md, "What an ODS/API answers".
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type StatusFault } from './faults.js';
import { messages, type ErrorBody } from './messages.js';
import { answerTokenRequest } from './oauth.js';
import { DEPENDENCIES, isResourceName, type ResourceName } from './resources.js';
import { EdFiStore, type WriteOutcome } from './store.js';
import { TokenRegistry } from './tokens.js';

export { EdFiStore } from './store.js';
export { FaultInjector } from './faults.js';
export type { Fault, FaultMatch } from './faults.js';
export { preloadReferences } from './preload.js';
export type { PreloadOptions, PreloadSummary } from './preload.js';

export interface TestServerOptions {
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
  /** The largest `limit` a GET accepts; default 500. */
  maxPageSize?: number;
  /** A path prefix before /oauth and /data, e.g. `/api`; default ''. */
  basePath?: string;
  /** Default 409 as ODS/API 6.x. */
  unresolvedReferenceStatus?: 400 | 409;
  /** Default 'ignore' as ODS/API 6.x; 'reject' as 7.0/7.1. */
  keyChangeOnPut?: 'ignore' | 'reject';
  /** LEA ids the client may touch; default no restriction. */
  authorizedLeas?: readonly number[] | null;
}

export interface RequestLogEntry {
  method: string;
  /** Path with query string, as requested. */
  path: string;
  /** 0 when the connection was reset by a fault. */
  status: number;
}

export interface TestServer {
  /** Origin plus base path, e.g. `http://127.0.0.1:49152`. */
  url: string;
  close(): Promise<void>;
  store: EdFiStore;
  /** The store behind a data path prefix such as '/data/v3/2026' (created empty on first use); '/data/v3' is `store`. */
  instance(prefix: string): EdFiStore;
  faults: FaultInjector;
  /** Stores a body as a POST would, without LEA authorization; throws when the store refuses it. Returns the id. */
  seed(resource: string, body: object): string;
  requests: RequestLogEntry[];
  /** Makes every issued token invalid, as an ODS/API restart would. */
  expireTokens(): void;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEFAULT_LIMIT = 25;
/** `/data/v3`, optional instance and school-year segments, `/ed-fi/{resource}`, optional `/{id}`. */
const DATA_ROUTE = /^(\/data\/v3(?:\/[^/]+)*?)\/ed-fi\/([^/]+)(?:\/([^/]+))?\/?$/;

type Headers = Record<string, string>;

function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath || basePath === '/') return '';
  return `/${basePath.replace(/^\/+|\/+$/g, '')}`;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const basePath = normalizeBasePath(options.basePath);
  const credentials = { clientId: options.clientId ?? 'demo-key', clientSecret: options.clientSecret ?? 'demo-secret' };
  const maxPageSize = options.maxPageSize ?? 500;
  const tokens = new TokenRegistry(options.tokenLifetimeSeconds ?? 1800);
  const faults = new FaultInjector();
  const newStore = (): EdFiStore =>
    new EdFiStore({
      unresolvedReferenceStatus: options.unresolvedReferenceStatus,
      keyChangeOnPut: options.keyChangeOnPut,
      authorizedLeas: options.authorizedLeas,
    });
  const store = newStore();
  // Year-specific and instance paths (/data/v3/2026/...) are separate ODS databases, as in a real deployment.
  const instances = new Map<string, EdFiStore>([['/data/v3', store]]);
  const storeFor = (prefix: string): EdFiStore => {
    let s = instances.get(prefix);
    if (!s) instances.set(prefix, (s = newStore()));
    return s;
  };
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
      if (!res.headersSent) sendJson(res, 500, { message: messages.unexpected });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, method: string, target: string): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      sendJson(res, 413, { message: 'The request body is too large.' });
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
      sendFault(res, plan.answer);
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

    if (path === '/oauth/token') {
      if (method !== 'POST') return sendEmpty(res, 405, { Allow: 'POST' });
      const answer = answerTokenRequest(req.headers, body, credentials, tokens);
      return sendJson(res, answer.status, answer.body, { 'Cache-Control': 'no-store' });
    }
    if (path === '/' && method === 'GET') return sendJson(res, 200, versionDocument(url));
    if (path === '/metadata/data/v3/dependencies' && method === 'GET') return sendJson(res, 200, DEPENDENCIES);

    const route = DATA_ROUTE.exec(path);
    if (!route) return sendEmpty(res, 404);
    if (!hasValidToken(req)) {
      return sendJson(res, 401, { message: messages.unauthorized }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    const [, dataPrefix = '/data/v3', resourceName = '', id] = route;
    if (!isResourceName(resourceName)) return sendEmpty(res, 404);
    const resourceUrl = `${url}${dataPrefix}/ed-fi/${resourceName}`;
    const instanceStore = storeFor(dataPrefix);
    if (id === undefined) return collection(instanceStore, res, method, resourceName, resourceUrl, parsed.searchParams, body);
    return item(instanceStore, req, res, method, resourceName, id, body);
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
      const limit = integerParam(query.get('limit'), DEFAULT_LIMIT);
      if (limit === undefined || limit < 1 || limit > maxPageSize) return sendJson(res, 400, { message: messages.limitOutOfRange(maxPageSize) });
      const offset = integerParam(query.get('offset'), 0);
      if (offset === undefined || offset < 0) return sendJson(res, 400, { message: messages.offsetOutOfRange });
      const filters: Record<string, string> = {};
      for (const [name, value] of query) if (!['limit', 'offset', 'totalCount'].includes(name)) filters[name] = value;
      const page = store.query(resource, filters, offset, limit);
      const headers: Headers = query.get('totalCount')?.toLowerCase() === 'true' ? { 'Total-Count': String(page.total) } : {};
      return sendJson(res, 200, page.items, headers);
    }
    if (method === 'POST') {
      const body = parseJson(bodyText);
      if (!body.ok) return sendJson(res, 400, body.error);
      const outcome = store.post(resource, body.value);
      if (!outcome.ok) return sendJson(res, outcome.status, outcome.body);
      return sendEmpty(res, outcome.status, { Location: `${resourceUrl}/${outcome.id}`, ETag: `"${outcome.etag}"` });
    }
    sendEmpty(res, 405, { Allow: 'GET, POST' });
  }

  function item(store: EdFiStore, req: http.IncomingMessage, res: http.ServerResponse, method: string, resource: ResourceName, id: string, bodyText: string): void {
    const ifMatch = header(req, 'if-match');
    if (method === 'GET') {
      const outcome = store.read(resource, id);
      if (!outcome.ok) return sendJson(res, outcome.status, outcome.body);
      const etag = `"${outcome.etag}"`;
      if (header(req, 'if-none-match') === etag) return sendEmpty(res, 304, { ETag: etag });
      return sendJson(res, 200, outcome.body, { ETag: etag });
    }
    if (method === 'PUT') {
      const body = parseJson(bodyText);
      if (!body.ok) return sendJson(res, 400, body.error);
      return sendWrite(res, store.put(resource, id, body.value, { ifMatch }));
    }
    if (method === 'DELETE') return sendWrite(res, store.delete(resource, id, { ifMatch }));
    sendEmpty(res, 405, { Allow: 'GET, PUT, DELETE' });
  }

  function sendWrite(res: http.ServerResponse, outcome: WriteOutcome): void {
    if (!outcome.ok) return sendJson(res, outcome.status, outcome.body);
    sendEmpty(res, outcome.status, { ETag: `"${outcome.etag}"` });
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
    store,
    instance: storeFor,
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

function versionDocument(url: string): object {
  return {
    version: '6.1',
    informationalVersion: '6.1',
    suite: '3',
    build: 'test-server',
    apiMode: 'Shared Instance',
    dataModels: [{ name: 'Ed-Fi', version: '4.0.0', informationalVersion: 'The Ed-Fi Data Model 4.0' }],
    urls: {
      dependencies: `${url}/metadata/data/v3/dependencies`,
      oauth: `${url}/oauth/token`,
      dataManagementApi: `${url}/data/v3`,
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

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: ErrorBody } {
  if (!text.trim()) return { ok: false, error: { message: messages.emptyBody } };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: { message: messages.invalidRequest, modelState: { request: [(err as Error).message] } } };
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

function sendJson(res: http.ServerResponse, status: number, body: object, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEmpty(res: http.ServerResponse, status: number, headers: Headers = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

function sendFault(res: http.ServerResponse, fault: StatusFault): void {
  const headers: Headers = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
  switch (fault.status) {
    case 500:
      return sendJson(res, 500, { message: messages.unexpected }, headers);
    case 429:
      return sendJson(res, 429, { message: 'Too many requests.' }, headers);
    case 502: {
      // A gateway in front of the ODS/API answers in HTML, not JSON.
      const html = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
      res.writeHead(502, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html), ...headers });
      res.end(html);
      return;
    }
    case 503: {
      const text = 'Service Unavailable';
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
      return;
    }
  }
}
