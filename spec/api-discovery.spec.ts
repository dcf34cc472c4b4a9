// Finding an Ed-Fi API's token and data from its root document: each generation as the test server plays it, the
// root documents the Ed-Fi sources publish (ODS/API 6.1 in ../shared/edfi/odsapi-6.1), and what goes wrong.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { dataStandardMatches } from '../src/api/data-standard.js';
import { discoverApi, DiscoveryError, secureTokenUrl } from '../src/api/discovery.js';
import { RouteContextError } from '../src/api/route-template.js';
import { createHttpAgent } from '../src/api/http-agent.js';
import { inferFlavor, parseRootDocument } from '../src/api/root-document.js';
import { connectionRouteContext, fillTemplate, placeholdersOf } from '../src/api/route-template.js';
import { connectApi, instanceKeyFromDataPath } from '../src/cli/api-factory.js';
import { sharedDir } from '../src/edfi/repo-paths.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import { ConfigError } from '../src/util/errors.js';

const agent = createHttpAgent({ timeoutMs: 5000 });
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
after(async () => {
  await agent.close();
});

async function server(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer({ clientId: 'disc-key', clientSecret: 'disc-secret-1234', ...options });
  servers.push(s);
  return s;
}

/** A server that answers its root with `body` (status 200 unless given). */
async function rootServer(body: string, status = 200): Promise<string> {
  const s = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push({ close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))) });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const credentials = { clientId: 'disc-key', clientSecret: 'disc-secret-1234' };
const context2026 = connectionRouteContext(2026, undefined);

describe('API discovery from the root document', () => {
  it('ODS/API 5.x/6.x: token at {root}/oauth/token, data at {root}/data/v3, Data Standard 4.0.0, offset paging', async () => {
    const s = await server({ flavor: 'ods-6' });
    const api = await discoverApi(s.url, { agent });
    expect(api).to.include({ flavor: 'ods-6', dataStandard: '4.0.0', flavorFrom: 'root document' });
    expect(api.traits.paging).to.equal('offset');
    expect(api.locate(context2026)).to.deep.equal({ tokenUrl: `${s.url}/oauth/token`, dataUrl: `${s.url}/data/v3` });
    expect(api.describe()).to.equal(`Ed-Fi ODS/API 5.x/6.x 6.1, Ed-Fi Data Standard 4.0.0, at ${s.url}`);
  });

  it('ODS/API 5.x/6.x in Year Specific mode: the current year in the data URL becomes the connection\'s school year', async () => {
    const s = await server({ flavor: 'ods-6', yearSpecific: true });
    const api = await discoverApi(s.url, { agent });
    expect(api.locate(connectionRouteContext(2024, undefined)).dataUrl).to.equal(`${s.url}/data/v3/2024`);
    expect(api.locate(context2026).dataUrl).to.equal(`${s.url}/data/v3/2026`);
  });

  it('ODS/API 7.x: the route context comes first, for the token as for the data', async () => {
    const s = await server({ flavor: 'ods-7' });
    const api = await discoverApi(s.url, { agent });
    expect(api).to.include({ flavor: 'ods-7', dataStandard: '5.2.0' });
    expect(api.document.oauthUrl).to.equal(`${s.url}/{schoolYearFromRoute}/oauth/token`);
    expect(api.locate(context2026)).to.deep.equal({ tokenUrl: `${s.url}/2026/oauth/token`, dataUrl: `${s.url}/2026/data/v3` });
  });

  it('Ed-Fi API v8 (DMS): no /v3, the token URL only from the document, cursor paging', async () => {
    const s = await server({ flavor: 'dms' });
    const api = await discoverApi(s.url, { agent });
    expect(api).to.include({ flavor: 'dms', dataStandard: '5.2.0' });
    expect(api.traits.paging).to.equal('cursor');
    const { tokenUrl, dataUrl } = api.locate(context2026);
    expect(dataUrl).to.equal(`${s.url}/2026/data`);
    expect(tokenUrl).to.equal(`${s.url}/auth/realms/edfi/protocol/openid-connect/token`);
    expect(tokenUrl).to.not.include('/oauth/token');
  });

  it('fills several placeholders, a district id from a connection fact through --route-context', async () => {
    const s = await server({ flavor: 'dms', routeContext: ['districtId', 'schoolYear'] });
    const api = await discoverApi(s.url, { agent });
    // A placeholder nothing fills is a configuration problem (exit 3), not an API that cannot be reached.
    expect(() => api.locate(context2026)).to.throw(RouteContextError, /needs \{districtId\}.*--route-context districtId=VALUE/);
    expect(() => api.locate(context2026)).to.throw().with.property('exitCode', 3);
    expect(api.locate(connectionRouteContext(2026, undefined, { districtId: '255901' })).dataUrl).to.equal(`${s.url}/255901/2026/data`);
    const conn = await connectApi({
      target: { apiRoot: s.url, credentials, routeContext: { districtId: '{districtNumber}' } },
      connections: [{ key: '1:2026', endYear: 2026, facts: { districtNumber: 1234567 } }, { key: '2:2025', endYear: 2025, facts: { districtNumber: 7654321 } }],
    });
    try {
      expect(conn.instanceOf('1:2026')).to.equal(`${s.url}/1234567/2026/data`);
      expect(conn.instanceOf('2:2025')).to.equal(`${s.url}/7654321/2025/data`);
    } finally {
      await conn.close();
    }
  });

  it('--data-path overrides the data URL ({endYear} filled) but not the token URL', async () => {
    const s = await server({ flavor: 'ods-7' });
    const api = await discoverApi(s.url, { agent });
    expect(api.locate(context2026, '/{endYear}/data/v3')).to.deep.equal({ tokenUrl: `${s.url}/2026/oauth/token`, dataUrl: `${s.url}/2026/data/v3` });
  });

  it('reads the ODS/API 6.1 root document Ed-Fi publishes (odsapi-6.1/v6.1-Version.json)', () => {
    const json = JSON.parse(fs.readFileSync(path.join(sharedDir(), 'edfi', 'odsapi-6.1', 'v6.1-Version.json'), 'utf8')) as unknown;
    const doc = parseRootDocument(json, 'https://localhost/v6.1/WebApi');
    expect(inferFlavor(doc)).to.equal('ods-6');
    expect(doc.apiMode).to.equal('Year Specific');
    expect(doc.dataModels.find((m) => m.name === 'Ed-Fi')?.version).to.equal('4.0.0');
    expect(doc.oauthUrl).to.equal('https://localhost/v6.1/WebApi/oauth/token');
  });

  it('tells a DMS by its name or by its data URL, and an ODS/API by its version', () => {
    const doc = (o: object): ReturnType<typeof parseRootDocument> => parseRootDocument({ urls: { oauth: 'x', dataManagementApi: 'https://h/data' }, ...o }, 'r');
    expect(inferFlavor(doc({ version: '1.0.0', applicationName: 'Ed-Fi Alliance Data Management Service' }))).to.equal('dms');
    expect(inferFlavor(doc({ version: '7.1' }))).to.equal('ods-7');
    expect(inferFlavor(doc({ version: '5.3' }))).to.equal('ods-6');
    expect(inferFlavor(doc({ version: 'x' }))).to.equal('dms');
    expect(inferFlavor(parseRootDocument({ version: 'x', urls: { oauth: 'o', dataManagementApi: 'https://h/data/v3/' } }, 'r'))).to.equal(undefined);
  });

  it('asks for --api-flavor when the document does not tell, and takes it', async () => {
    const url = await rootServer(JSON.stringify({ version: 'unknown', urls: { oauth: 'https://h/oauth/token', dataManagementApi: 'https://h/api/data/v3/' } }));
    const err = await discoverApi(url, { agent }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DiscoveryError);
    expect((err as DiscoveryError).message).to.match(/cannot tell which Ed-Fi API generation.*give --api-flavor ods-6, ods-7 or dms/);
    expect((err as DiscoveryError).exitCode).to.equal(6);
    const api = await discoverApi(url, { agent, flavor: 'ods-7' });
    expect(api).to.include({ flavor: 'ods-7', flavorFrom: 'option' });
  });

  it('names another origin the document gives, and sends the key over https to the --api-base host rather than over http', async () => {
    const url = await rootServer(JSON.stringify({
      version: '6.1', apiMode: 'Shared Instance', dataModels: [{ name: 'Ed-Fi', version: '4.0.0' }],
      urls: { oauth: 'http://ods-internal:8080/oauth/token', dataManagementApi: 'http://ods-internal:8080/data/v3/' },
    }));
    const api = await discoverApi(url, { agent });
    // Another host: the API's own choice, used as given (the data URL names the ODS instance), and said.
    expect(api.locate(context2026)).to.deep.equal({ tokenUrl: 'http://ods-internal:8080/oauth/token', dataUrl: 'http://ods-internal:8080/data/v3' });
    expect(api.describe()).to.contain('its root document names http://ods-internal:8080 for its token URL');
    const doc = (oauth: string, data: string) => ({ ...parseRootDocument({ version: '6.1', urls: { oauth, dataManagementApi: data } }, 'x'), oauthUrl: oauth, dataUrl: data });
    // An https --api-base whose API names its own host with http (TLS ended by a proxy): the key goes over https.
    const behindProxy = secureTokenUrl(doc('http://ods.example.org/api/oauth/token', 'http://ods.example.org/api/data/v3'), 'https://ods.example.org/api');
    expect(behindProxy.document.oauthUrl).to.equal('https://ods.example.org/api/oauth/token');
    expect(behindProxy.document.dataUrl).to.equal('http://ods.example.org/api/data/v3');
    expect(behindProxy.notes.join('; ')).to.match(/key and secret go to https:\/\/ods\.example\.org \(https\).*plain http/);
    // A DMS whose identity provider is another host: left alone.
    const idp = secureTokenUrl(doc('https://idp.example.org:8045/realms/edfi/protocol/openid-connect/token', 'https://dms.example.org/data'), 'https://dms.example.org');
    expect(idp.document.oauthUrl).to.equal('https://idp.example.org:8045/realms/edfi/protocol/openid-connect/token');
    // The same origin: nothing to say.
    expect(secureTokenUrl(doc('https://ods.example.org/oauth/token', 'https://ods.example.org/data/v3'), 'https://ods.example.org').notes).to.deep.equal([]);
  });

  it('fails clearly for a root that is not an Ed-Fi API, answers 404, or cannot be reached', async () => {
    const notEdFi = await rootServer(JSON.stringify({ hello: 'world' }));
    expect(await discoverApi(notEdFi, { agent }).catch((e: Error) => e.message)).to.match(/has no 'urls': is --api-base the API's root URL/);
    const missing = await rootServer(JSON.stringify({ urls: { oauth: 'x' } }));
    expect(await discoverApi(missing, { agent }).catch((e: Error) => e.message)).to.match(/gives no urls\.dataManagementApi/);
    const gone = await rootServer('{"message":"not here"}', 404);
    expect(await discoverApi(gone, { agent }).catch((e: Error) => e.message)).to.match(/HTTP 404: not here\): is --api-base the API's root URL/);
    const closed = await rootServer('{}');
    await servers.pop()!.close();
    const unreachable = await discoverApi(closed, { agent, attempts: 2 }).catch((e: unknown) => e);
    expect(unreachable).to.be.instanceOf(DiscoveryError);
    expect((unreachable as Error).message).to.match(/could not reach .* \(connection refused/);
    expect(await discoverApi('not a url', { agent }).catch((e: Error & { exitCode?: number }) => e.exitCode)).to.equal(2);
  });
});

describe('route templates and data standards', () => {
  it('finds placeholders with ASP.NET constraints and fills them, URL-encoded', () => {
    expect(placeholdersOf('https://h/{tenantIdentifier}/{schoolYearFromRoute:range(2000,2099)}/data/v3')).to.deep.equal(['tenantIdentifier', 'schoolYearFromRoute']);
    expect(fillTemplate('https://h/{Tenant}/{schoolYearFromRoute:range(2000,2099)}/x', { tenant: 'a b', schoolYearFromRoute: '2026' }, 'data')).to.equal('https://h/a%20b/2026/x');
  });

  it('matches a profile standard to the API data model version', () => {
    expect(dataStandardMatches('4.0', '4.0.0')).to.equal(true);
    expect(dataStandardMatches('4.0', '5.2.0')).to.equal(false);
    expect(dataStandardMatches('5.x', '5.0.0')).to.equal(true);
    expect(dataStandardMatches('5.x', '5.2.0')).to.equal(true);
    expect(dataStandardMatches('5.x', '6.1.0')).to.equal(false);
    expect(dataStandardMatches('5.0, 5.1', '5.2.0')).to.equal(false);
    expect(dataStandardMatches('5.0, 5.1', '5.1.0')).to.equal(true);
    expect(dataStandardMatches('4.0', '')).to.equal(false);
    // An ODS/API 5.x names its model 3.3.1-b.
    expect(dataStandardMatches('3.3.1, 4.0', '3.3.1-b')).to.equal(true);
    expect(dataStandardMatches('3.3.1, 4.0', '3.3.0-a')).to.equal(false);
    expect(dataStandardMatches('4.0', '3.3.1-b')).to.equal(false);
  });

  it('gives the instance key of a data path when no API was read', () => {
    expect(instanceKeyFromDataPath('/data/v3/{endYear}/', '1:2026')).to.equal('/data/v3/2026');
    expect(instanceKeyFromDataPath('/data/v3', '1:2026')).to.equal('/data/v3');
  });
});

describe('connectApi', () => {
  it('gives each connection its client and instance: one client per instance, shared across connections of one year', async () => {
    const s = await server({ flavor: 'ods-7' });
    const conn = await connectApi({
      target: { apiRoot: s.url, credentials },
      connections: [1, 2].flatMap((d) => [2025, 2026].map((y) => ({ key: `${d}:${y}`, endYear: y }))),
      profile: loadProfile('core-ds5'),
    });
    try {
      expect(conn.instanceOf('1:2026')).to.equal(`${s.url}/2026/data/v3`);
      expect(conn.instanceOf('1:2025')).to.equal(`${s.url}/2025/data/v3`);
      expect(conn.api('1:2026')).to.equal(conn.api('2:2026'));
      expect(conn.api('1:2026')).to.not.equal(conn.api('1:2025'));
      expect(conn.forConnection('2:2025').api.flavor).to.equal('ods-7');
      // The root document was read once for all four connections.
      expect(s.requests.filter((r) => r.path === '/')).to.have.length(1);
      expect(conn.describe()).to.deep.equal([`Ed-Fi ODS/API 7.x 7.3, Ed-Fi Data Standard 5.2.0, at ${s.url}`]);
    } finally {
      await conn.close();
    }
  });

  it('gives instance keys without credentials (plan with --api-base), and no client', async () => {
    const s = await server({ flavor: 'dms' });
    const conn = await connectApi({ target: { apiRoot: s.url }, connections: [{ key: '1:2026', endYear: 2026 }] });
    try {
      expect(conn.instanceOf('1:2026')).to.equal(`${s.url}/2026/data`);
      expect(conn.instanceOf('3:2024')).to.equal(`${s.url}/2024/data`);
      expect(() => conn.api('1:2026')).to.throw(/no credentials/);
      expect(s.requests.map((r) => r.path)).to.deep.equal(['/']);
    } finally {
      await conn.close();
    }
  });

  for (const [flavor, profile, other] of [
    ['ods-7', 'core', 'core-ds5'],
    ['dms', 'missouri', 'missouri-ds5'],
    ['ods-6', 'core-ds5', 'core'],
  ] as const) {
    it(`refuses profile ${profile} on ${flavor} before anything is sent, naming both Data Standards and ${other}`, async () => {
      const s = await server({ flavor });
      const err = await connectApi({ target: { apiRoot: s.url, credentials }, connections: [{ key: '1:2026', endYear: 2026 }], profile: loadProfile(profile) }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      const message = (err as ConfigError).message;
      const served = flavor === 'ods-6' ? '4.0.0' : '5.2.0';
      expect(message).to.include(`profile '${profile}' is written for Ed-Fi Data Standard ${loadProfile(profile).def.dataStandard}`);
      expect(message).to.include(`serves Ed-Fi Data Standard ${served}: nothing was sent`);
      expect(message).to.include(`Use --profile ${other}`);
      expect(message).to.include(`profiles/${profile}/profile.yaml`);
      expect(s.requests.filter((r) => r.path !== '/')).to.deep.equal([]);
    });
  }
});
