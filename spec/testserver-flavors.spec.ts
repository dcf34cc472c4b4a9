// The test server playing ODS/API 7.x and the Ed-Fi API v8 (DMS), exercised with plain fetch as a client would:
// each documented difference from the ODS/API 6.x double (spec/testserver.spec.ts) has a test here.
import { expect } from 'chai';
import { preloadReferences, startTestServer, type TestServer, type TestServerOptions } from '../src/testserver/server.js';

const LEA_ID = 255901;
const CTE_TYPE = 'uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education';
const ID = 'flavor-key';
const SECRET = 'flavor-secret-5521';

type Body = Record<string, unknown>;

interface Answer {
  status: number;
  headers: Headers;
  json: unknown;
}

function association(overrides: Body = {}, studentUniqueId = '604822'): Body {
  return {
    beginDate: '2025-08-20',
    educationOrganizationReference: { educationOrganizationId: LEA_ID },
    programReference: { educationOrganizationId: LEA_ID, programName: 'Welding', programTypeDescriptor: CTE_TYPE },
    studentReference: { studentUniqueId },
    ...overrides,
  };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: TestServerOptions): Promise<TestServer> {
  const s = await startTestServer({ clientId: ID, clientSecret: SECRET, ...options });
  servers.push(s);
  return s;
}

async function call(s: TestServer, method: string, path: string, o: { body?: unknown; token?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${s.url}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function token(s: TestServer, path: string): Promise<string> {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${ID}:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(res.status, `token at ${path}`).to.equal(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A server with the references of association() in the instance of 2026. */
async function world(options: TestServerOptions): Promise<TestServer> {
  const s = await start(options);
  preloadReferences({ store: s.instanceFor(2026) }, [association()]);
  return s;
}

describe('test server as ODS/API 7.x', () => {
  const SCPA = '/2026/data/v3/ed-fi/studentCTEProgramAssociations';

  it('serves token and data only under the route context, and each school year is its own instance', async () => {
    const s = await world({ flavor: 'ods-7' });
    expect((await call(s, 'POST', '/oauth/token')).status).to.equal(404);
    const t = await token(s, '/2026/oauth/token');
    expect((await call(s, 'GET', '/data/v3/ed-fi/studentCTEProgramAssociations', { token: t })).status).to.equal(404);
    expect((await call(s, 'GET', '/26x/data/v3/ed-fi/studentCTEProgramAssociations', { token: t })).status).to.equal(404);
    expect((await call(s, 'POST', SCPA, { token: t, body: association() })).status).to.equal(201);
    expect(s.instanceFor(2026).count('studentCTEProgramAssociations')).to.equal(1);
    expect(s.instanceFor(2025).count('studentCTEProgramAssociations')).to.equal(0);
    expect(s.store).to.equal(s.instanceFor(2026));
  });

  it('answers problem+json: an unresolved reference 409, a missing field 400 by JSON path, a key change on PUT 400, no token 401', async () => {
    const s = await world({ flavor: 'ods-7' });
    const t = await token(s, '/2026/oauth/token');
    const unresolved = await call(s, 'POST', SCPA, { token: t, body: association({}, 'nobody') });
    expect(unresolved.status).to.equal(409);
    expect(unresolved.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(unresolved.json).to.deep.include({ type: 'urn:ed-fi:api:data-conflict:unresolved-reference', title: 'Unresolved Reference', status: 409, detail: "The referenced 'Student' item does not exist." });

    const missing = await call(s, 'POST', SCPA, { token: t, body: association({ studentReference: {} }) });
    expect(missing.status).to.equal(400);
    expect(missing.json).to.deep.include({ type: 'urn:ed-fi:api:bad-request:data-validation-failed' });
    expect((missing.json as { validationErrors: Record<string, string[]> }).validationErrors).to.have.property('$.studentReference.studentUniqueId');

    const created = await call(s, 'POST', SCPA, { token: t, body: association() });
    const id = s.store.list('studentCTEProgramAssociations')[0]!.id;
    expect(created.status).to.equal(201);
    const moved = await call(s, 'PUT', `${SCPA}/${id}`, { token: t, body: association({ id, beginDate: '2025-09-01' }) });
    expect(moved.status).to.equal(400);
    expect(moved.json).to.deep.include({ type: 'urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported' });

    const anonymous = await call(s, 'GET', SCPA);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.json).to.deep.include({ type: 'urn:ed-fi:api:security:authentication' });
  });

  it('drops a property Data Standard 5.x does not have (ctePrograms), matches names in any case, and takes a 64-bit educationOrganizationId', async () => {
    const s = await world({ flavor: 'ods-7' });
    const t = await token(s, '/2026/oauth/token');
    const body = association({ ctePrograms: [{ careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing' }], EndDate: '2026-05-01' });
    expect((await call(s, 'POST', SCPA, { token: t, body })).status).to.equal(201);
    const stored = s.store.list('studentCTEProgramAssociations')[0]!.body;
    expect(stored).to.not.have.property('ctePrograms');
    expect(stored).to.include({ endDate: '2026-05-01' });
    const big = 2 ** 31 + 5;
    preloadReferences({ store: s.store }, [association({ educationOrganizationReference: { educationOrganizationId: big }, programReference: { educationOrganizationId: big, programName: 'Welding', programTypeDescriptor: CTE_TYPE } })]);
    const wide = await call(s, 'POST', SCPA, { token: t, body: association({ educationOrganizationReference: { educationOrganizationId: big }, programReference: { educationOrganizationId: big, programName: 'Welding', programTypeDescriptor: CTE_TYPE } }) });
    expect(wide.status).to.equal(201);
    const four = await world({ flavor: 'ods-6' });
    expect(four.store.post('studentCTEProgramAssociations', association({ educationOrganizationReference: { educationOrganizationId: big } }))).to.include({ ok: false, status: 400 });
  });

  it('serves the root document with {schoolYearFromRoute} templates and the DS 5.2 data model', async () => {
    const s = await start({ flavor: 'ods-7' });
    const root = (await call(s, 'GET', '/')).json as { version: string; dataModels: Array<{ name: string; version: string }>; urls: Record<string, string> };
    expect(root.version).to.equal('7.3');
    expect(root.dataModels).to.deep.include({ name: 'Ed-Fi', version: '5.2.0', informationalVersion: 'The Ed-Fi Data Model 5.2' });
    expect(root.urls.oauth).to.equal(`${s.url}/{schoolYearFromRoute}/oauth/token`);
    expect(root.urls.dataManagementApi).to.equal(`${s.url}/{schoolYearFromRoute}/data/v3/`);
    expect((await call(s, 'GET', '/2026/metadata/data/v3/dependencies')).status).to.equal(200);
  });
});

describe('test server as the Ed-Fi API v8 (DMS)', () => {
  const SCPA = '/2026/data/ed-fi/studentCTEProgramAssociations';
  const TOKEN_PATH = '/auth/realms/edfi/protocol/openid-connect/token';

  it('has its token endpoint only where the root document says, and no /v3', async () => {
    const s = await world({ flavor: 'dms' });
    const root = (await call(s, 'GET', '/')).json as { applicationName: string; urls: Record<string, string> };
    expect(root.applicationName).to.equal('Ed-Fi Alliance Data Management Service');
    expect(root.urls.oauth).to.equal(`${s.url}${TOKEN_PATH}`);
    expect(root.urls.dataManagementApi).to.equal(`${s.url}/{schoolYear}/data`);
    expect((await call(s, 'POST', '/oauth/token')).status).to.equal(404);
    const t = await token(s, TOKEN_PATH);
    expect((await call(s, 'GET', '/2026/data/v3/ed-fi/studentCTEProgramAssociations', { token: t })).status).to.equal(404);
    expect((await call(s, 'GET', SCPA, { token: t })).status).to.equal(200);
  });

  it('reads property names case-sensitively: a wrongly cased required property is missing (400), an optional one dropped; nulls and empty arrays dropped', async () => {
    const s = await world({ flavor: 'dms' });
    const t = await token(s, TOKEN_PATH);
    const { beginDate: _b, ...noBegin } = association();
    const cased = await call(s, 'POST', SCPA, { token: t, body: { ...noBegin, BeginDate: '2025-08-20' } });
    expect(cased.status).to.equal(400);
    expect((cased.json as { validationErrors: Record<string, string[]> }).validationErrors).to.have.property('$.beginDate');
    const ok = await call(s, 'POST', SCPA, { token: t, body: association({ EndDate: '2026-05-01', reasonExitedDescriptor: null, cteProgramServices: [] }) });
    expect(ok.status).to.equal(201);
    expect(s.store.list('studentCTEProgramAssociations')[0]!.body).to.not.have.any.keys('endDate', 'EndDate', 'reasonExitedDescriptor', 'cteProgramServices');
  });

  it('words an unresolved reference as validationErrors by JSON path', async () => {
    const s = await world({ flavor: 'dms' });
    const t = await token(s, TOKEN_PATH);
    const r = await call(s, 'POST', SCPA, { token: t, body: association({}, 'nobody') });
    expect(r.status).to.equal(409);
    expect(r.json).to.deep.include({
      type: 'urn:ed-fi:api:data-conflict:unresolved-reference',
      detail: "One or more references could not be resolved. See 'validationErrors' for details.",
      validationErrors: { '$.studentReference': ['The referenced Student item does not exist.'] },
      errors: [],
    });
  });

  it('pages with a cursor: Next-Page-Token until a page comes without one; never mixed with limit/offset', async () => {
    const s = await world({ flavor: 'dms' });
    const t = await token(s, TOKEN_PATH);
    for (let i = 1; i <= 7; i++) expect(s.store.post('studentCTEProgramAssociations', association({ beginDate: `2025-08-${String(i).padStart(2, '0')}` }))).to.include({ ok: true });
    const seen: string[] = [];
    let page = await call(s, 'GET', `${SCPA}?limit=3`, { token: t });
    let pages = 1;
    for (;;) {
      seen.push(...(page.json as Array<{ beginDate: string }>).map((i) => i.beginDate));
      const next = page.headers.get('next-page-token');
      if (!next) break;
      page = await call(s, 'GET', `${SCPA}?pageToken=${encodeURIComponent(next)}&pageSize=3`, { token: t });
      pages++;
    }
    expect(seen).to.have.length(7);
    expect(new Set(seen).size).to.equal(7);
    // 3 + 3 + 1, then the documented extra request: an empty page without a token.
    expect(pages).to.equal(4);
    const token1 = (await call(s, 'GET', `${SCPA}?limit=3`, { token: t })).headers.get('next-page-token')!;
    expect((await call(s, 'GET', `${SCPA}?pageToken=${encodeURIComponent(token1)}&limit=3`, { token: t })).status).to.equal(400);
    expect((await call(s, 'GET', `${SCPA}?pageToken=${encodeURIComponent(token1)}&totalCount=true`, { token: t })).status).to.equal(400);
    expect((await call(s, 'GET', `${SCPA}?pageToken=garbage`, { token: t })).status).to.equal(400);
  });

  it('limits the request rate: 429 with Retry-After beyond the limit, and a 503 from its circuit breaker in problem+json', async () => {
    const s = await world({ flavor: 'dms', rateLimit: { requests: 2, windowMs: 60_000 } });
    const t = await token(s, TOKEN_PATH);
    expect((await call(s, 'GET', SCPA, { token: t })).status).to.equal(200);
    expect((await call(s, 'GET', SCPA, { token: t })).status).to.equal(200);
    const limited = await call(s, 'GET', SCPA, { token: t });
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    expect(limited.json).to.deep.include({ type: 'urn:ed-fi:api:too-many-requests', status: 429 });
    const breaker = await start({ flavor: 'dms' });
    breaker.faults.add({ kind: 'status', status: 503, retryAfterSeconds: 2 });
    const down = await call(breaker, 'GET', '/');
    expect(down.status).to.equal(503);
    expect(down.headers.get('retry-after')).to.equal('2');
    expect(down.json).to.deep.include({ type: 'urn:ed-fi:api:service-unavailable' });
  });
});

describe('test server: an implementation that cannot list', () => {
  for (const flavor of ['ods-6', 'dms'] as const) {
    it(`${flavor}: collection GETs answer 500 (error-500) or refuse query parameters (no-search-400); GET by id still works`, async () => {
      const data = flavor === 'dms' ? '/2026/data' : '/data/v3';
      const tokenPath = flavor === 'dms' ? '/auth/realms/edfi/protocol/openid-connect/token' : '/oauth/token';
      const failing = await world({ flavor, listing: 'error-500' });
      const t = await token(failing, tokenPath);
      expect((await call(failing, 'GET', `${data}/ed-fi/studentCTEProgramAssociations?limit=5`, { token: t })).status).to.equal(500);

      const noSearch = await world({ flavor, listing: 'no-search-400' });
      const t2 = await token(noSearch, tokenPath);
      const id = noSearch.seed('studentCTEProgramAssociations', association());
      expect((await call(noSearch, 'GET', `${data}/ed-fi/studentCTEProgramAssociations?limit=5`, { token: t2 })).status).to.equal(200);
      const refused = await call(noSearch, 'GET', `${data}/ed-fi/students?studentUniqueId=604822`, { token: t2 });
      expect(refused.status).to.equal(400);
      expect(JSON.stringify(refused.json)).to.include("The query parameter 'studentUniqueId' is not supported.");
      expect((await call(noSearch, 'GET', `${data}/ed-fi/studentCTEProgramAssociations?offset=5&limit=5`, { token: t2 })).status).to.equal(400);
      expect((await call(noSearch, 'GET', `${data}/ed-fi/studentCTEProgramAssociations/${id}`, { token: t2 })).status).to.equal(200);
    });
  }
});
