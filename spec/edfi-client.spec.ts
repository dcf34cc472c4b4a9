// The Ed-Fi client against small in-test servers that answer the way the different ODS/API versions
// (and the proxies in front of them) do. Each server stands for one behaviour of a real server.

import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { EdFiAuthError, EdFiClient, EdFiRequestError, type ClientEvent, type EdFiClientOptions } from '../src/emit/edfi-client.js';
import { parseBody, readErrorText } from '../src/emit/error-body.js';
import { Redactor } from '../src/emit/redact.js';
import { parseRetryAfter, RetryPolicy } from '../src/emit/retry.js';
import { TokenCache } from '../src/emit/token.js';

const CLIENT_ID = 'sync-client-7f3a91';
const CLIENT_SECRET = 'S3cr3t+/Value=QpLm0x';
const RESOURCE = '/ed-fi/studentCTEProgramAssociations';
const ID_1 = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Seen, res: http.ServerResponse) => void | Promise<void>;

interface TestServer {
  url: string;
  seen: Seen[];
  /** Requests other than the token endpoint. */
  data: () => Seen[];
  tokenRequests: () => Seen[];
  close: () => Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      Promise.resolve(handler(entry, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const test: TestServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    data: () => seen.filter((s) => !s.url.startsWith('/oauth/')),
    tokenRequests: () => seen.filter((s) => s.url.startsWith('/oauth/')),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(test);
  return test;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const expectedBasic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

/** Issues tok-1-…, tok-2-… to the right Basic credentials; `expiresIn` is what the server claims. */
function tokenIssuer(opts: { expiresIn?: unknown; delayMs?: number } = {}): (req: Seen, res: http.ServerResponse) => Promise<boolean> {
  let issued = 0;
  return async (req, res) => {
    if (!req.url.startsWith('/oauth/token')) return false;
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (req.headers.authorization !== expectedBasic) {
      json(res, 401, { error: 'invalid_client' });
      return true;
    }
    issued++;
    json(res, 200, { access_token: tokenValue(issued), expires_in: 'expiresIn' in opts ? opts.expiresIn : 1800, token_type: 'bearer' });
    return true;
  };
}

function tokenValue(n: number): string {
  return `tok-${n}-b1946ac92492d2347c6235b4d2611184`;
}

function bearerOf(req: Seen): string {
  return String(req.headers.authorization ?? '').replace(/^Bearer /, '');
}

/** A server with the standard token endpoint and `data` for everything else. */
async function edfiServer(data: Handler, tokenOpts: { expiresIn?: unknown; delayMs?: number } = {}): Promise<TestServer> {
  const token = tokenIssuer(tokenOpts);
  return startServer(async (req, res) => {
    if (await token(req, res)) return;
    await data(req, res);
  });
}

function client(server: TestServer, extra: Partial<EdFiClientOptions> = {}): EdFiClient {
  return new EdFiClient({
    baseUrl: server.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    retry: { baseDelayMs: 1, maxDelayMs: 5, ...extra.retry },
    ...omit(extra, 'retry'),
  });
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}

const sampleBody = { studentReference: { studentUniqueId: '604822' }, beginDate: '2025-08-20' };

describe('EdFiClient', () => {
  describe('token', () => {
    it('asks for a client-credentials token with HTTP Basic only, then sends it as Bearer', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, []));
      await client(server).get(RESOURCE);
      const [tokenReq] = server.tokenRequests();
      expect(tokenReq.method).to.equal('POST');
      expect(tokenReq.url).to.equal('/oauth/token');
      expect(tokenReq.headers.authorization).to.equal(expectedBasic);
      expect(tokenReq.headers['content-type']).to.match(/^application\/x-www-form-urlencoded/);
      expect(new URLSearchParams(tokenReq.body).get('grant_type')).to.equal('client_credentials');
      expect(tokenReq.body).not.to.include('client_secret');
      expect(tokenReq.body).not.to.include('client_id');
      expect(server.data()[0].headers.authorization).to.equal(`Bearer ${tokenValue(1)}`);
      expect(server.data()[0].url).to.equal(`/data/v3${RESOURCE}`);
    });

    it('reuses the token across requests', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, []));
      const c = client(server);
      for (let i = 0; i < 4; i++) await c.get(RESOURCE);
      expect(server.tokenRequests()).to.have.length(1);
      expect(new Set(server.data().map(bearerOf))).to.deep.equal(new Set([tokenValue(1)]));
    });

    it('shares one token request among concurrent requests', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, []), { delayMs: 50 });
      const c = client(server);
      const results = await Promise.all(Array.from({ length: 12 }, () => c.get(RESOURCE)));
      expect(results.every((r) => r.ok)).to.equal(true);
      expect(server.tokenRequests()).to.have.length(1);
    });

    it('fetches a new token on 401 and retries the request once with it', async () => {
      const server = await edfiServer((req, res) => {
        if (bearerOf(req) === tokenValue(1)) json(res, 401, { message: 'Authorization has been denied for this request.' });
        else res.writeHead(204).end();
      });
      const events: ClientEvent[] = [];
      const result = await client(server, { onEvent: (e) => events.push(e) }).put(RESOURCE, ID_1, sampleBody);
      expect(result).to.include({ ok: true, status: 204, attempts: 2 });
      expect(server.tokenRequests()).to.have.length(2);
      expect(server.data().map(bearerOf)).to.deep.equal([tokenValue(1), tokenValue(2)]);
      expect(events.map((e) => e.type)).to.include('unauthorized');
      expect(events).to.deep.include({ type: 'token-requested', reason: 'rejected' });
    });

    it('gives up after the one re-authorized try when 401 persists, without a retry loop', async () => {
      const server = await edfiServer((_req, res) => json(res, 401, { message: 'Authorization has been denied for this request.' }));
      const result = await client(server).delete(RESOURCE, ID_1);
      expect(result).to.include({ ok: false, status: 401, attempts: 2 });
      expect(result.message).to.equal('Authorization has been denied for this request.');
      expect(server.tokenRequests()).to.have.length(2);
    });

    it('treats an epoch-style expires_in as a short lifetime and still refreshes on 401', async () => {
      const epoch = Math.floor(Date.now() / 1000) + 1800;
      let rejectNext = false;
      const server = await edfiServer(
        (_req, res) => {
          if (rejectNext) {
            rejectNext = false;
            json(res, 401, { message: 'expired' });
          } else json(res, 200, []);
        },
        { expiresIn: epoch },
      );
      const events: ClientEvent[] = [];
      const c = client(server, { onEvent: (e) => events.push(e) });
      await c.get(RESOURCE);
      expect(events).to.deep.include({ type: 'token-refreshed', expiresInSeconds: 300, lifetimeAssumed: true });
      rejectNext = true;
      const result = await c.get(RESOURCE);
      expect(result).to.include({ ok: true, attempts: 2 });
      expect(server.tokenRequests()).to.have.length(2);
    });

    it('renews before expiry, and assumes a short lifetime for missing, zero or epoch expires_in', async () => {
      for (const [expiresIn, renewAfterS] of [
        [1800, 1740],
        [undefined, 270],
        [0, 270],
        [-5, 270],
        [1_900_000_000, 270],
      ] as const) {
        const server = await startServer(tokenIssuer({ expiresIn }) as unknown as Handler);
        let clock = 1_000_000;
        const cache = new TokenCache({
          tokenUrl: `${server.url}/oauth/token`,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          timeoutMs: 5000,
          retry: new RetryPolicy({ baseDelayMs: 1 }),
          redactor: new Redactor(),
          emit: () => undefined,
          now: () => clock,
        });
        expect(await cache.get()).to.equal(tokenValue(1));
        clock += (renewAfterS - 1) * 1000;
        expect(await cache.get(), `expires_in ${String(expiresIn)}`).to.equal(tokenValue(1));
        clock += 2000;
        expect(await cache.get(), `expires_in ${String(expiresIn)}`).to.equal(tokenValue(2));
      }
    });

    it('fails clearly on bad credentials, naming the settings but not their values', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, []));
      const c = new EdFiClient({ baseUrl: server.url, clientId: CLIENT_ID, clientSecret: 'wrong-secret-value', retry: { baseDelayMs: 1 } });
      const err = await c.post(RESOURCE, sampleBody).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(EdFiAuthError);
      const auth = err as EdFiAuthError;
      // Where the key came from (environment, file, targets) is the caller's to say: the client names no setting.
      expect(auth.message).to.equal(`Ed-Fi authentication failed (401 invalid_client): the token endpoint ${server.url}/oauth/token refused the key and secret`);
      expect(auth.status).to.equal(401);
      expect(auth.code).to.equal('invalid_client');
      // Basic first, then once with the credentials in the form body (some Ed-Fi API implementations take only that).
      expect(server.tokenRequests()).to.have.length(2);
      expect(server.tokenRequests()[1]!.headers.authorization).to.equal(undefined);
      expect(server.data()).to.have.length(0);
    });

    it('falls back to client_id/client_secret in the form body when a server refuses HTTP Basic, and keeps using it', async () => {
      let issued = 0;
      const server = await startServer((req, res) => {
        if (req.url.startsWith('/oauth/token')) {
          const form = new URLSearchParams(req.body);
          if (req.headers.authorization || form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
            return json(res, 400, { error: 'invalid_client' });
          }
          issued++;
          return json(res, 200, { access_token: tokenValue(issued), expires_in: 1, token_type: 'bearer' });
        }
        return json(res, 200, []);
      });
      const c = new EdFiClient({ baseUrl: server.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retry: { baseDelayMs: 1 } });
      expect((await c.get(RESOURCE)).ok).to.equal(true);
      expect(server.tokenRequests().map((r) => Boolean(r.headers.authorization))).to.deep.equal([true, false]);
      // The token lives one second: the next one is asked for with the credentials in the body straight away.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await c.get(RESOURCE)).ok).to.equal(true);
      expect(server.tokenRequests().map((r) => Boolean(r.headers.authorization))).to.deep.equal([true, false, false]);
    });

    it('reports an unreachable token endpoint after retrying it', async () => {
      const server = await startServer((_req, res) => json(res, 200, {}));
      const url = server.url;
      await servers.splice(servers.indexOf(server), 1)[0].close();
      const c = new EdFiClient({ baseUrl: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retry: { maxAttempts: 2, baseDelayMs: 1 } });
      const err = (await c.get(RESOURCE).catch((e: unknown) => e)) as EdFiAuthError;
      expect(err).to.be.instanceOf(EdFiAuthError);
      expect(err.status).to.equal(0);
      expect(err.message).to.match(/could not reach the token endpoint .*ECONNREFUSED/);
      expect(c.retriesUsed).to.equal(1);
    });
  });

  describe('POST, PUT, DELETE', () => {
    it('takes the id from Location on 201 and on 200', async () => {
      let n = 0;
      const server = await edfiServer((req, res) => {
        n++;
        const location = n === 1 ? `${server.url}/data/v3${RESOURCE}/${ID_1}` : `/data/v3${RESOURCE}/ffeeddccbbaa99887766554433221100`;
        res.writeHead(n === 1 ? 201 : 200, { location, etag: '"5250549867058970000"' }).end();
      });
      const c = client(server);
      const created = await c.post(RESOURCE, sampleBody);
      expect(created).to.include({ ok: true, status: 201, id: ID_1, attempts: 1 });
      expect(created.message).to.equal(undefined);
      expect(created.headers?.etag).to.equal('"5250549867058970000"');
      const updated = await c.post(RESOURCE, sampleBody);
      expect(updated).to.include({ ok: true, status: 200, id: 'ffeeddccbbaa99887766554433221100' });
      expect(JSON.parse(server.data()[0].body)).to.deep.equal(sampleBody);
      expect(server.data()[0].headers['content-type']).to.equal('application/json');
    });

    it('tolerates a POST answer with a body and no Location', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) json(res, 201, { id: 'from-body-id' });
        else json(res, 201, { note: 'created' });
      });
      const c = client(server);
      const withId = await c.post(RESOURCE, sampleBody);
      expect(withId).to.include({ ok: true, status: 201, id: 'from-body-id' });
      expect(withId.message).to.match(/no Location header/);
      const without = await c.post(RESOURCE, sampleBody);
      expect(without.ok).to.equal(true);
      expect(without.id).to.equal(undefined);
      expect(without.message).to.equal('the server gave no Location header, so the new resource id is unknown');
      expect(without.body).to.deep.equal({ note: 'created' });
    });

    it('PUT sends the id in the URL and in the body, and accepts 204 and 200', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) res.writeHead(204).end();
        else json(res, 200, {});
      });
      const c = client(server);
      expect(await c.put(RESOURCE, ID_1, sampleBody)).to.include({ ok: true, status: 204, id: ID_1, attempts: 1 });
      expect(await c.put(RESOURCE, ID_1, sampleBody)).to.include({ ok: true, status: 200 });
      const [first] = server.data();
      expect(first.method).to.equal('PUT');
      expect(first.url).to.equal(`/data/v3${RESOURCE}/${ID_1}`);
      expect(JSON.parse(first.body)).to.deep.equal({ ...sampleBody, id: ID_1 });
    });

    it('DELETE accepts 204; 404 comes back as not ok, without a retry', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) res.writeHead(204).end();
        else json(res, 404, { message: 'Resource to delete was not found.' });
      });
      const c = client(server);
      expect(await c.delete(RESOURCE, ID_1)).to.include({ ok: true, status: 204, attempts: 1 });
      const gone = await c.delete(RESOURCE, ID_1);
      expect(gone).to.include({ ok: false, status: 404, attempts: 1, id: ID_1, message: 'Resource to delete was not found.' });
      expect(server.data()).to.have.length(2);
      expect(server.data()[1].method).to.equal('DELETE');
    });

    it('uses a year-specific data path', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, []));
      await client(server, { dataPath: '/data/v3/2026/' }).get(RESOURCE, { studentUniqueId: '604822' });
      expect(server.data()[0].url).to.equal(`/data/v3/2026${RESOURCE}?studentUniqueId=604822`);
    });
  });

  describe('retries', () => {
    it('retries a 500 and succeeds on the second attempt', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) json(res, 500, { message: 'An unexpected error occurred on the server.' });
        else res.writeHead(201, { location: `/data/v3${RESOURCE}/${ID_1}` }).end();
      });
      const events: ClientEvent[] = [];
      const c = client(server, { onEvent: (e) => events.push(e) });
      const result = await c.post(RESOURCE, sampleBody);
      expect(result).to.include({ ok: true, status: 201, attempts: 2, id: ID_1 });
      const retry = events.find((e) => e.type === 'retry-scheduled');
      expect(retry).to.include({ method: 'POST', path: `/data/v3${RESOURCE}`, attempt: 1, status: 500, reason: 'An unexpected error occurred on the server.' });
      expect(c.retriesUsed).to.equal(1);
    });

    it('honours Retry-After: 1 on a 429', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) json(res, 429, { message: 'Too many requests' }, { 'retry-after': '1' });
        else json(res, 200, []);
      });
      const started = Date.now();
      const result = await client(server, { retry: { baseDelayMs: 1, maxDelayMs: 5 } }).get(RESOURCE);
      const elapsed = Date.now() - started;
      expect(result).to.include({ ok: true, attempts: 2 });
      expect(elapsed).to.be.at.least(950);
      expect(elapsed).to.be.below(3000);
    });

    it('reads Retry-After as an HTTP date on a 503 (waits scaled down for the test)', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) json(res, 503, { message: 'busy' }, { 'retry-after': new Date(Date.now() + 5000).toUTCString() });
        else json(res, 200, []);
      });
      const events: ClientEvent[] = [];
      const result = await client(server, { retry: { delayScale: 0.001 }, onEvent: (e) => events.push(e) }).get(RESOURCE);
      expect(result).to.include({ ok: true, attempts: 2 });
      const retry = events.find((e) => e.type === 'retry-scheduled');
      expect(retry).to.include({ fromRetryAfter: true, status: 503 });
      const delay = (retry as { delayMs: number }).delayMs;
      expect(delay).to.be.within(3, 5);
    });

    it('does not wait for a Retry-After beyond the limit', async () => {
      const server = await edfiServer((_req, res) => json(res, 503, { message: 'maintenance' }, { 'retry-after': '3600' }));
      const result = await client(server).get(RESOURCE);
      expect(result).to.include({ ok: false, status: 503, attempts: 1 });
      expect(result.message).to.equal('maintenance (not retried: the server asked to wait 3600 s)');
    });

    it('retries a connection reset', async () => {
      let n = 0;
      const server = await edfiServer((req, res) => {
        n++;
        if (n === 1) res.socket?.destroy();
        else json(res, 200, [{ id: ID_1 }]);
      });
      const events: ClientEvent[] = [];
      const result = await client(server, { onEvent: (e) => events.push(e) }).get(RESOURCE);
      expect(result).to.include({ ok: true, attempts: 2 });
      const retry = events.find((e) => e.type === 'retry-scheduled');
      expect(retry).to.include({ status: 0 });
      expect((retry as { reason: string }).reason).to.match(/UND_ERR_SOCKET|ECONNRESET/);
    });

    it('retries a request that timed out', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n > 1) json(res, 200, []);
        // the first request is never answered
      });
      const result = await client(server, { timeoutMs: 150 }).get(RESOURCE);
      expect(result).to.include({ ok: true, attempts: 2 });
    });

    it('stops after maxAttempts with the last status and message', async () => {
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        json(res, 502, { message: `bad gateway ${n}` });
      });
      const result = await client(server, { retry: { maxAttempts: 3, baseDelayMs: 1 } }).post(RESOURCE, sampleBody);
      expect(result).to.include({ ok: false, status: 502, attempts: 3, message: 'bad gateway 3' });
      expect(server.data()).to.have.length(3);
    });

    it('stops retrying once the run-wide retry budget is spent', async () => {
      const server = await edfiServer((_req, res) => json(res, 500, { message: 'An unexpected error occurred on the server.' }));
      const events: ClientEvent[] = [];
      const c = client(server, { retry: { maxAttempts: 5, maxRetriesPerRun: 3, baseDelayMs: 1 }, onEvent: (e) => events.push(e) });
      const first = await c.post(RESOURCE, sampleBody);
      const second = await c.post(RESOURCE, sampleBody);
      expect(first).to.include({ ok: false, status: 500, attempts: 4 });
      expect(second).to.include({ ok: false, status: 500, attempts: 1 });
      expect(second.message).to.equal('An unexpected error occurred on the server. (not retried: the retry budget of this run is used up)');
      expect(c.retriesUsed).to.equal(3);
      expect(events.filter((e) => e.type === 'retry-budget-exhausted')).to.have.length(1);
      expect(server.data()).to.have.length(5);
    });

    for (const status of [400, 403, 404, 409, 412]) {
      it(`does not retry a ${status}`, async () => {
        const server = await edfiServer((_req, res) => json(res, status, { message: `status ${status}` }));
        const result = await client(server).post(RESOURCE, sampleBody);
        expect(result).to.include({ ok: false, status, attempts: 1, message: `status ${status}` });
        expect(server.data()).to.have.length(1);
      });
    }
  });

  describe('error text', () => {
    const read = (body: string): string | undefined => readErrorText(parseBody(body));

    it('reads a 5.x/6.x message', () => {
      expect(read(JSON.stringify({ message: "Unable to resolve value 'uri://x#Y' to an existing 'ProgramTypeDescriptor' resource." }))).to.equal(
        "Unable to resolve value 'uri://x#Y' to an existing 'ProgramTypeDescriptor' resource.",
      );
    });

    it('appends 6.x modelState details', () => {
      const body = {
        message: 'The request is invalid.',
        modelState: {
          'request.beginDate': ['The BeginDate field is required.'],
          'request.programReference.programName': ['The field ProgramName must be a string with a maximum length of 60.', 'Second.'],
        },
      };
      expect(read(JSON.stringify(body))).to.equal(
        'The request is invalid. request.beginDate: The BeginDate field is required. ' +
          'request.programReference.programName: The field ProgramName must be a string with a maximum length of 60.; Second.',
      );
    });

    it('reads problem+json detail with validationErrors and errors', () => {
      const body = {
        type: 'urn:ed-fi:api:bad-request:data-validation-failed',
        title: 'Data Validation Failed',
        status: 400,
        detail: "Data validation failed. See 'validationErrors' for details.",
        validationErrors: { '$.programReference.programName': ['programName is required.'] },
        errors: ['The request could not be processed.'],
      };
      expect(read(JSON.stringify(body))).to.equal(
        "Data validation failed. See 'validationErrors' for details. $.programReference.programName: programName is required. The request could not be processed. " +
          '[urn:ed-fi:api:bad-request:data-validation-failed]',
      );
    });

    it('reads a problem+json with only a title, keeping its type', () => {
      expect(read(JSON.stringify({ type: 'urn:ed-fi:api:not-found', title: 'Resource Not Found', status: 404 }))).to.equal('Resource Not Found [urn:ed-fi:api:not-found]');
      expect(read(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }))).to.equal('Not Found');
    });

    it('reads {"error": {"message"}} and OAuth {"error": "invalid_client"}', () => {
      expect(read(JSON.stringify({ error: { code: 'x', message: 'Something broke.' } }))).to.equal('Something broke.');
      expect(read(JSON.stringify({ error: 'invalid_client' }))).to.equal('invalid_client');
      expect(read(JSON.stringify({ error: 'invalid_grant', error_description: 'Expired.' }))).to.equal('invalid_grant: Expired.');
    });

    it('reads plain text and HTML as the first 500 characters', () => {
      expect(read('Bad Gateway')).to.equal('Bad Gateway');
      const page = `<html><body>${'x'.repeat(900)}</body></html>`;
      const text = read(page) as string;
      expect(text.startsWith('<html><body>xxx')).to.equal(true);
      expect(text.length).to.equal(501);
      expect(read('')).to.equal(undefined);
      expect(read('{not json')).to.equal('{not json');
    });

    it('puts the combined text on the result, with the body', async () => {
      const problem = {
        type: 'urn:ed-fi:api:conflict:unresolved-reference',
        title: 'Unresolved Reference',
        status: 409,
        detail: 'The referenced Program item(s) do not exist.',
      };
      let n = 0;
      const server = await edfiServer((_req, res) => {
        n++;
        if (n === 1) {
          res.writeHead(409, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify(problem));
        } else {
          res.writeHead(400, { 'content-type': 'text/html' });
          res.end('<h1>400 Bad Request</h1>');
        }
      });
      const c = client(server);
      const conflict = await c.post(RESOURCE, sampleBody);
      expect(conflict).to.include({ ok: false, status: 409, message: 'The referenced Program item(s) do not exist. [urn:ed-fi:api:conflict:unresolved-reference]' });
      expect(conflict.body).to.deep.equal(problem);
      const bad = await c.post(RESOURCE, sampleBody);
      expect(bad).to.include({ status: 400, message: '<h1>400 Bad Request</h1>' });
    });

    it('falls back to the HTTP status when the body is empty', async () => {
      const server = await edfiServer((_req, res) => void res.writeHead(403).end());
      const result = await client(server).put(RESOURCE, ID_1, sampleBody);
      expect(result).to.include({ ok: false, status: 403, message: 'HTTP 403 Forbidden' });
    });
  });

  describe('GET and paging', () => {
    const all = Array.from({ length: 7 }, (_, i) => ({ id: `id-${i}`, beginDate: '2025-08-20' }));

    function pagingServer(withTotal: boolean, items: object[]): Promise<TestServer> {
      return edfiServer((req, res) => {
        const url = new URL(req.url, 'http://x');
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 25);
        const headers: Record<string, string> = {};
        if (withTotal && url.searchParams.get('totalCount') === 'true') headers['total-count'] = String(items.length);
        json(res, 200, items.slice(offset, offset + limit), headers);
      });
    }

    it('pages with offset/limit until Total-Count is reached', async () => {
      const server = await pagingServer(true, all);
      const got: object[] = [];
      for await (const item of client(server).getAll(RESOURCE, { studentUniqueId: '604822' }, 3)) got.push(item);
      expect(got).to.deep.equal(all);
      const urls = server.data().map((s) => s.url);
      expect(urls).to.deep.equal([
        `/data/v3${RESOURCE}?studentUniqueId=604822&offset=0&limit=3&totalCount=true`,
        `/data/v3${RESOURCE}?studentUniqueId=604822&offset=3&limit=3`,
        `/data/v3${RESOURCE}?studentUniqueId=604822&offset=6&limit=3`,
      ]);
    });

    it('stops at Total-Count without asking for an empty page when pages divide evenly', async () => {
      const server = await pagingServer(true, all.slice(0, 6));
      const got: object[] = [];
      for await (const item of client(server).getAll(RESOURCE, {}, 3)) got.push(item);
      expect(got).to.have.length(6);
      expect(server.data()).to.have.length(2);
    });

    it('stops at a short page when the server gives no Total-Count', async () => {
      const server = await pagingServer(false, all);
      const got: object[] = [];
      for await (const item of client(server).getAll(RESOURCE, {}, 3)) got.push(item);
      expect(got).to.deep.equal(all);
      expect(server.data()).to.have.length(3);
    });

    it('get returns items and totalCount; getAll throws on a failed page', async () => {
      const server = await pagingServer(true, all);
      const page = await client(server).get(RESOURCE, {}, { offset: 0, limit: 2, totalCount: true });
      expect(page.items).to.have.length(2);
      expect(page.totalCount).to.equal(7);

      const failing = await edfiServer((_req, res) => json(res, 400, { message: 'Limit must be omitted or set to a value between 0 and 500.' }));
      const iterate = async (): Promise<void> => {
        for await (const _item of client(failing).getAll(RESOURCE, {}, 1000)) {
          // nothing
        }
      };
      const err = await iterate().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EdFiRequestError);
      expect((err as EdFiRequestError).result.status).to.equal(400);
      expect((err as EdFiRequestError).message).to.include('Limit must be omitted');
    });

    it('getById returns the resource', async () => {
      const server = await edfiServer((req, res) => json(res, 200, { id: req.url.split('/').pop(), beginDate: '2025-08-20' }));
      const result = await client(server).getById(RESOURCE, ID_1);
      expect(result).to.include({ ok: true, status: 200, id: ID_1 });
      expect(result.body).to.deep.equal({ id: ID_1, beginDate: '2025-08-20' });
    });
  });

  describe('the generations beyond ODS/API 6.x', () => {
    it('cursor paging: follows Next-Page-Token (also past an empty page) until a page comes without one', async () => {
      const items = Array.from({ length: 5 }, (_, i) => ({ id: `id-${i}` }));
      const server = await edfiServer((req, res) => {
        const url = new URL(req.url, 'http://x');
        const token = url.searchParams.get('pageToken');
        // Pages: [0,1] -> token a; [] -> token b (a concurrent delete emptied it); [2,3,4] -> no token.
        if (token === null) return json(res, 200, items.slice(0, 2), { 'next-page-token': 'a' });
        if (token === 'a') return json(res, 200, [], { 'next-page-token': 'b' });
        return json(res, 200, items.slice(2));
      });
      const got: object[] = [];
      for await (const item of client(server, { paging: 'cursor' }).getAll(RESOURCE, { studentUniqueId: '1' }, 2)) got.push(item);
      expect(got).to.deep.equal(items);
      expect(server.data().map((r) => r.url)).to.deep.equal([
        `/data/v3${RESOURCE}?studentUniqueId=1&limit=2`,
        `/data/v3${RESOURCE}?studentUniqueId=1&pageToken=a&pageSize=2`,
        `/data/v3${RESOURCE}?studentUniqueId=1&pageToken=b&pageSize=2`,
      ]);
    });

    it('cursor paging stops with an error when the API repeats a token instead of looping', async () => {
      const server = await edfiServer((_req, res) => json(res, 200, [{ id: 'x' }], { 'next-page-token': 'same' }));
      const err = await (async () => {
        for await (const _item of client(server, { paging: 'cursor' }).getAll(RESOURCE)) {
          // nothing
        }
      })().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EdFiRequestError);
      expect((err as Error).message).to.match(/same Next-Page-Token twice/);
      expect(server.data()).to.have.length(2);
    });

    it('uses the token and data URLs discovery gives, not {base}/oauth/token', async () => {
      const server = await startServer(async (req, res) => {
        if (req.url === '/idp/token') return json(res, 200, { access_token: tokenValue(1), expires_in: 1800 });
        json(res, 200, []);
      });
      const c = new EdFiClient({ tokenUrl: `${server.url}/idp/token`, dataUrl: `${server.url}/2026/data/`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      expect(c.dataUrl).to.equal(`${server.url}/2026/data`);
      expect((await c.get(RESOURCE)).ok).to.equal(true);
      expect(server.seen.map((r) => r.url)).to.deep.equal(['/idp/token', `/2026/data${RESOURCE}`]);
    });

    it('survives repeated expiry during one request: each token that had worked is renewed on its 401, bounded', async () => {
      // The data server: token 1 gets a 500 (so it worked), then 401 (expired); token 2 the same; token 3 succeeds.
      const seenBy = new Map<string, number>();
      const server = await edfiServer((req, res) => {
        const t = bearerOf(req);
        const n = (seenBy.get(t) ?? 0) + 1;
        seenBy.set(t, n);
        if (t === tokenValue(3)) return void res.writeHead(204).end();
        if (n === 1) return json(res, 500, { message: 'busy' });
        json(res, 401, { message: 'expired' });
      });
      const events: ClientEvent[] = [];
      const result = await client(server, { onEvent: (e) => events.push(e) }).put(RESOURCE, ID_1, sampleBody);
      expect(result).to.include({ ok: true, status: 204 });
      expect(server.tokenRequests()).to.have.length(3);
      expect(events.filter((e) => e.type === 'unauthorized')).to.have.length(2);

      // A fresh token refused at once is not an expiry: no third token for it.
      let n = 0;
      const refusing = await edfiServer((_req, res) => {
        n++;
        if (n === 1) json(res, 500, { message: 'busy' });
        else json(res, 401, { message: 'no access' });
      });
      const refused = await client(refusing).delete(RESOURCE, ID_1);
      expect(refused).to.include({ ok: false, status: 401 });
      expect(refusing.tokenRequests()).to.have.length(2);

      // Tokens that keep working once and then expire: at most three renewals in one request.
      const flapping = await edfiServer((req, res) => {
        const t = bearerOf(req);
        const k = (seenBy.get(`f${t}`) ?? 0) + 1;
        seenBy.set(`f${t}`, k);
        json(res, k === 1 ? 500 : 401, { message: k === 1 ? 'busy' : 'expired' });
      });
      const bounded = await client(flapping, { retry: { maxAttempts: 20, baseDelayMs: 1 } }).post(RESOURCE, sampleBody);
      expect(bounded).to.include({ ok: false, status: 401 });
      expect(flapping.tokenRequests()).to.have.length(4);
    });

    it('says once that expires_in was an absolute epoch time, however often the token is renewed', async () => {
      const epoch = Math.floor(Date.now() / 1000) + 1800;
      let reject = 0;
      const server = await edfiServer(
        (_req, res) => {
          if (reject > 0) {
            reject--;
            return json(res, 401, { message: 'expired' });
          }
          json(res, 200, []);
        },
        { expiresIn: epoch },
      );
      const events: ClientEvent[] = [];
      const c = client(server, { onEvent: (e) => events.push(e) });
      for (let i = 0; i < 3; i++) {
        reject = i === 0 ? 0 : 1;
        expect((await c.get(RESOURCE)).ok).to.equal(true);
      }
      expect(server.tokenRequests()).to.have.length(3);
      const notes = events.filter((e) => e.type === 'token-lifetime-assumed');
      expect(notes).to.deep.equal([{ type: 'token-lifetime-assumed', stated: String(epoch), reason: 'epoch-time', assumedSeconds: 300 }]);
    });

    it('reads {"error": [{"message"}]} bodies of other implementations, {"errors": [{message, path}]}, and a JSON body in no known shape', () => {
      const read = (body: unknown): string | undefined => readErrorText(parseBody(JSON.stringify(body)));
      expect(read({ error: [{ message: "'ctePrograms' property is not expected to be here", path: '{requestBody}' }] })).to.equal("'ctePrograms' property is not expected to be here");
      expect(read({ error: [{ message: 'a' }, { message: 'b' }] })).to.equal('a. b');
      expect(read({ errors: [{ message: 'is required', path: '$.beginDate' }] })).to.equal('$.beginDate: is required');
      expect(read({ fault: { code: 17, text: 'queue full' } })).to.equal('{"fault":{"code":17,"text":"queue full"}}');
      expect(read({})).to.equal(undefined);
      expect(read({
        detail: "One or more references could not be resolved. See 'validationErrors' for details.",
        type: 'urn:ed-fi:api:data-conflict:unresolved-reference',
        validationErrors: { '$.studentReference': ['The referenced Student item does not exist.'] },
        errors: [],
      })).to.equal(
        "One or more references could not be resolved. See 'validationErrors' for details. $.studentReference: The referenced Student item does not exist. [urn:ed-fi:api:data-conflict:unresolved-reference]",
      );
    });

    it('redacts a bearer token or secret a server echoes even when the run never issued it, and leaves plain words alone', () => {
      const r = new Redactor();
      expect(r.text('denied for Bearer 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b (expired)')).to.equal('denied for Bearer [redacted] (expired)');
      expect(r.text('got Authorization: Basic ZGlzdHJpY3Q6c2VjcmV0LXZhbHVl')).to.equal('got Authorization: Basic [redacted]');
      expect(r.text('grant_type=client_credentials&client_secret=hunter2hunter2&x=1')).to.equal('grant_type=client_credentials&client_secret=[redacted]&x=1');
      expect(r.text('{"access_token":"eyJhbGciOiJIUzI1NiJ9.e30.abc","expires_in":1800}')).to.equal('{"access_token":"[redacted]","expires_in":1800}');
      expect(r.text("The referenced 'Basic Skills Program' item does not exist.")).to.equal("The referenced 'Basic Skills Program' item does not exist.");
      expect(r.json({ message: 'x', access_token: 'abc', nested: { password: 'p4ss' } })).to.deep.equal({ message: 'x', access_token: '[redacted]', nested: { password: '[redacted]' } });
    });
  });

  describe('credentials stay out of messages, errors and events', () => {
    function assertClean(texts: string[]): void {
      const all = texts.join('\n');
      for (const secret of [CLIENT_SECRET, CLIENT_ID, encodeURIComponent(CLIENT_SECRET), expectedBasic.slice(6), tokenValue(1), tokenValue(2), tokenValue(3)]) {
        expect(all, `leaked ${secret.slice(0, 4)}…`).not.to.include(secret);
      }
    }

    it('through a bad secret, 401s, 500s and a failing token endpoint', async () => {
      const texts: string[] = [];
      const record = (e: ClientEvent): void => {
        texts.push(JSON.stringify(e));
      };
      const collect = (r: { message?: string; body?: unknown; headers?: Record<string, string> }): void => {
        texts.push(r.message ?? '', JSON.stringify(r.body ?? null), JSON.stringify(r.headers ?? {}));
      };

      // A server that echoes what it was sent, the way careless proxies and debug pages do.
      const echo = (req: Seen): Record<string, string> => ({
        message: `denied for ${String(req.headers.authorization)} (client ${CLIENT_ID}, secret ${CLIENT_SECRET})`,
      });
      const server = await edfiServer((req, res) => {
        if (req.url.includes('unauthorized')) json(res, 401, echo(req), { 'x-debug': String(req.headers.authorization) });
        else json(res, 500, echo(req));
      });

      const good = client(server, { onEvent: record, retry: { maxAttempts: 2, baseDelayMs: 1 } });
      const r401 = await good.get('/ed-fi/unauthorized');
      expect(r401.status).to.equal(401);
      collect(r401);
      const r500 = await good.post(RESOURCE, sampleBody);
      expect(r500).to.include({ status: 500, attempts: 2 });
      expect(r500.message).to.include('[redacted]');
      collect(r500);

      const bad = new EdFiClient({ baseUrl: server.url, clientId: CLIENT_ID, clientSecret: 'not-the-secret-9911', onEvent: record });
      const badErr = (await bad.get(RESOURCE).catch((e: unknown) => e)) as Error;
      expect(badErr).to.be.instanceOf(EdFiAuthError);
      texts.push(badErr.message, String(badErr.stack), inspect(badErr));
      expect(`${badErr.message}${String(badErr.stack)}`).not.to.include('not-the-secret-9911');

      const tokenDown = await startServer((req, res) => json(res, 500, { message: `token store down; got ${String(req.headers.authorization)} ${req.body}` }));
      const down = new EdFiClient({ baseUrl: tokenDown.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onEvent: record, retry: { maxAttempts: 2, baseDelayMs: 1 } });
      const downErr = (await down.delete(RESOURCE, ID_1).catch((e: unknown) => e)) as Error;
      expect(downErr).to.be.instanceOf(EdFiAuthError);
      expect(downErr.message).to.match(/^Ed-Fi authentication failed \(500\): token store down; got Basic \[redacted\]/);
      texts.push(downErr.message, String(downErr.stack), inspect(downErr));

      texts.push(inspect(good, { depth: 10, showHidden: true }), JSON.stringify(good));
      expect(texts.length).to.be.greaterThan(10);
      assertClean(texts);
    });
  });
});

describe('retry policy', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-05T10:00:00Z');
    expect(parseRetryAfter('1', now)).to.equal(1000);
    expect(parseRetryAfter(' 120 ', now)).to.equal(120_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 10:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 09:00:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(null, now)).to.equal(undefined);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const top = new RetryPolicy({ baseDelayMs: 250, maxDelayMs: 20_000 }, () => 0.999999);
    expect(Math.round(top.backoff(1))).to.equal(250);
    expect(Math.round(top.backoff(3))).to.equal(1000);
    expect(Math.round(top.backoff(12))).to.equal(20_000);
    const bottom = new RetryPolicy({}, () => 0);
    expect(bottom.backoff(4)).to.equal(0);
  });

  it('ignores Retry-After on statuses that do not define it', () => {
    const policy = new RetryPolicy({ baseDelayMs: 10 }, () => 0.5);
    expect(policy.decide(1, 500, '60')).to.deep.equal({ retry: true, delayMs: 5, fromRetryAfter: false });
    expect(policy.decide(1, 429, '2')).to.deep.equal({ retry: true, delayMs: 2000, fromRetryAfter: true });
  });
});
