// The local Ed-Fi API test server, exercised with plain fetch as a client would.
import { expect } from 'chai';
import { preloadReferences, startTestServer, type TestServer, type TestServerOptions } from '../src/testserver/server.js';

const SCPA = '/data/v3/ed-fi/studentCTEProgramAssociations';
const LEA_ID = 255901;
const OTHER_LEA_ID = 255902;
const CTE_TYPE = 'uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

type Body = Record<string, unknown>;

function association(overrides: Body = {}, studentUniqueId = '604822'): Body {
  return {
    beginDate: '2024-08-20',
    educationOrganizationReference: { educationOrganizationId: LEA_ID },
    programReference: { educationOrganizationId: LEA_ID, programName: 'Career and Technical Education', programTypeDescriptor: CTE_TYPE },
    studentReference: { studentUniqueId },
    ctePrograms: [{ careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing', cipCode: '48.0501' }],
    ...overrides,
  };
}

function lea(id: number): Body {
  return {
    localEducationAgencyId: id,
    nameOfInstitution: `District ${id}`,
    categories: [{ educationOrganizationCategoryDescriptor: 'uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency' }],
    localEducationAgencyCategoryDescriptor: 'uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent',
  };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function call(server: TestServer, method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined && !('Content-Type' in headers)) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function token(server: TestServer, id = 'demo-key', secret = 'demo-secret'): Promise<string> {
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: basic(id, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).to.equal(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A server with the LEA, student and program that `association()` references. */
async function readyServer(options: TestServerOptions = {}): Promise<{ server: TestServer; token: string }> {
  const server = await startTestServer(options);
  preloadReferences(server, [association()]);
  return { server, token: await token(server) };
}

function idFrom(location: string | null): string {
  return (location ?? '').split('/').pop() ?? '';
}

describe('test server (ODS/API 6.x double)', () => {
  let server: TestServer;
  let bearer: string;

  afterEach(async () => {
    await server?.close();
  });

  describe('token endpoint', () => {
    beforeEach(async () => {
      server = await startTestServer();
    });

    it('issues a bearer token for HTTP Basic credentials', async () => {
      const res = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic('demo-key', 'demo-secret'), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as Body;
      expect(body).to.have.keys('access_token', 'expires_in', 'token_type');
      expect(body['token_type']).to.equal('bearer');
      expect(body['expires_in']).to.equal(1800);
      expect(body['access_token']).to.match(/^[0-9a-f]{32}$/);
    });

    it('accepts credentials in a form body or a JSON body', async () => {
      const form = await call(server, 'POST', '/oauth/token', {
        body: 'grant_type=client_credentials&client_id=demo-key&client_secret=demo-secret',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).to.equal(200);
      const json = await call(server, 'POST', '/oauth/token', {
        body: { grant_type: 'client_credentials', client_id: 'demo-key', client_secret: 'demo-secret' },
      });
      expect(json.status).to.equal(200);
    });

    it('answers 401 invalid_client to wrong credentials', async () => {
      const res = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic('demo-key', 'wrong'), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).to.equal(401);
      expect(await res.json()).to.deep.equal({ error: 'invalid_client' });
    });

    it('answers 400 invalid_client when credentials come both as Basic and in the body', async () => {
      const res = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic('demo-key', 'demo-secret'), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=demo-key&client_secret=demo-secret',
      });
      expect(res.status).to.equal(400);
      expect(await res.json()).to.deep.equal({ error: 'invalid_client' });
    });

    it('uses configured credentials and never records them', async () => {
      await server.close();
      server = await startTestServer({ clientId: 'district-key', clientSecret: 's3cr3t-value' });
      await token(server, 'district-key', 's3cr3t-value');
      const wrong = await call(server, 'POST', '/oauth/token', {
        body: 'grant_type=client_credentials&client_id=demo-key&client_secret=demo-secret',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expect(wrong.status).to.equal(401);
      expect(JSON.stringify(server.requests)).not.to.contain('s3cr3t-value');
      expect(server.requests.map((r) => r.status)).to.deep.equal([200, 401]);
    });
  });

  describe('bearer tokens', () => {
    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer({ tokenLifetimeSeconds: 1 }));
    });

    it('answers 401 without a token or with an unknown one', async () => {
      expect((await call(server, 'GET', SCPA)).status).to.equal(401);
      expect((await call(server, 'GET', SCPA, { token: 'f'.repeat(32) })).status).to.equal(401);
      expect((await call(server, 'POST', SCPA, { body: association() })).status).to.equal(401);
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(200);
    });

    it('answers 401 once a token has expired', async () => {
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const res = await call(server, 'GET', SCPA, { token: bearer });
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect((await call(server, 'GET', SCPA, { token: await token(server) })).status).to.equal(200);
    });
  });

  describe('POST', () => {
    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer());
    });

    it('creates with 201, then upserts the same natural key with 200 and the same id', async () => {
      const created = await call(server, 'POST', SCPA, { token: bearer, body: association() });
      expect(created.status).to.equal(201);
      expect(created.text).to.equal('');
      const location = created.headers.get('location');
      expect(location).to.match(new RegExp(`^${server.url}${SCPA}/[0-9a-f]{32}$`));
      expect(created.headers.get('etag')).to.match(/^"\d+"$/);

      const updated = await call(server, 'POST', SCPA, { token: bearer, body: association({ endDate: '2025-05-30' }) });
      expect(updated.status).to.equal(200);
      expect(updated.text).to.equal('');
      expect(updated.headers.get('location')).to.equal(location);
      expect(updated.headers.get('etag')).not.to.equal(created.headers.get('etag'));

      const read = await call(server, 'GET', `${SCPA}/${idFrom(location)}`, { token: bearer });
      expect(read.status).to.equal(200);
      expect(read.json).to.deep.include({ id: idFrom(location), endDate: '2025-05-30', beginDate: '2024-08-20' });
      expect((read.json as Body)['_etag']).to.equal(JSON.parse(updated.headers.get('etag') ?? '""'));
      expect(read.headers.get('etag')).to.equal(updated.headers.get('etag'));
      expect(server.store.count('studentCTEProgramAssociations')).to.equal(1);
    });

    it('treats a different natural key as a new item', async () => {
      const a = await call(server, 'POST', SCPA, { token: bearer, body: association() });
      const b = await call(server, 'POST', SCPA, { token: bearer, body: association({ beginDate: '2024-09-01' }) });
      expect([a.status, b.status]).to.deep.equal([201, 201]);
      expect(a.headers.get('location')).not.to.equal(b.headers.get('location'));
    });

    it('refuses a client-assigned id', async () => {
      const res = await call(server, 'POST', SCPA, { token: bearer, body: association({ id: 'a'.repeat(32) }) });
      expect(res.status).to.equal(400);
      expect(res.json).to.deep.equal({ message: 'Resource identifiers cannot be assigned by the client.' });
    });

    it('answers 400 with modelState when a required field is missing', async () => {
      const body = association();
      delete body['studentReference'];
      const res = await call(server, 'POST', SCPA, { token: bearer, body });
      expect(res.status).to.equal(400);
      expect(res.json).to.deep.equal({
        message: 'The request is invalid.',
        modelState: { studentReference: ["Validation of 'StudentCTEProgramAssociation' failed. studentReference is required."] },
      });
    });

    it('answers 400 for a too-long value, a bad date and an unparsable or empty body', async () => {
      const long = await call(server, 'POST', SCPA, {
        token: bearer,
        body: association({ beginDate: '2024-13-01', programReference: { educationOrganizationId: LEA_ID, programName: 'x'.repeat(61), programTypeDescriptor: CTE_TYPE } }),
      });
      expect(long.status).to.equal(400);
      const modelState = (long.json as { modelState: Record<string, string[]> }).modelState;
      expect(modelState['programReference.programName']?.[0]).to.contain('maximum length of 60');
      expect(modelState['beginDate']?.[0]).to.contain('must be a date');
      expect((await call(server, 'POST', SCPA, { token: bearer, body: '{"beginDate":' })).status).to.equal(400);
      const empty = await call(server, 'POST', SCPA, { token: bearer, body: '' });
      expect(empty.status).to.equal(400);
      expect(empty.json).to.deep.equal({ message: 'A non-empty request body is required.' });
    });

    it('answers 400 for a descriptor value it cannot resolve, until the descriptor is added', async () => {
      const value = 'uri://dese.mo.gov/CareerPathwayDescriptor#Agriculture';
      const body = association({ ctePrograms: [{ careerPathwayDescriptor: value }] });
      const res = await call(server, 'POST', SCPA, { token: bearer, body });
      expect(res.status).to.equal(400);
      expect(res.json).to.deep.equal({ message: `Unable to resolve value '${value}' to an existing 'CareerPathwayDescriptor' resource.` });
      server.store.addDescriptors('CareerPathwayDescriptor', [value]);
      expect((await call(server, 'POST', SCPA, { token: bearer, body })).status).to.equal(201);
    });

    it('answers 409 naming the table when a reference does not resolve', async () => {
      const program = await call(server, 'POST', SCPA, {
        token: bearer,
        body: association({ programReference: { educationOrganizationId: LEA_ID, programName: 'No Such Program', programTypeDescriptor: CTE_TYPE } }),
      });
      expect(program.status).to.equal(409);
      expect(program.json).to.deep.equal({ message: "The value supplied for the related 'program' resource does not exist." });
      const student = await call(server, 'POST', SCPA, { token: bearer, body: association({}, 'nobody') });
      expect(student.json).to.deep.equal({ message: "The value supplied for the related 'student' resource does not exist." });
      const edOrg = await call(server, 'POST', SCPA, { token: bearer, body: association({ educationOrganizationReference: { educationOrganizationId: 1 } }) });
      expect(edOrg.status).to.equal(409);
      expect(edOrg.json).to.deep.equal({ message: "The value supplied for the related 'educationOrganization' resource does not exist." });
      const orphanProgram = await call(server, 'POST', '/data/v3/ed-fi/programs', {
        token: bearer,
        body: { educationOrganizationReference: { educationOrganizationId: 1 }, programName: 'X', programTypeDescriptor: CTE_TYPE },
      });
      expect(orphanProgram.status).to.equal(409);
    });

    it('answers 400 instead when configured to', async () => {
      await server.close();
      ({ server, token: bearer } = await readyServer({ unresolvedReferenceStatus: 400 }));
      const res = await call(server, 'POST', SCPA, { token: bearer, body: association({}, 'nobody') });
      expect(res.status).to.equal(400);
      expect(res.json).to.deep.equal({ message: "The value supplied for the related 'student' resource does not exist." });
    });

    it('handles many concurrent writes, upserting one natural key once', async () => {
      const students = Array.from({ length: 30 }, (_, i) => `S${i}`);
      preloadReferences(server, students.map((s) => association({}, s)));
      const distinct = await Promise.all(students.map((s) => call(server, 'POST', SCPA, { token: bearer, body: association({}, s) })));
      expect(distinct.map((r) => r.status)).to.deep.equal(students.map(() => 201));
      const same = await Promise.all(Array.from({ length: 10 }, () => call(server, 'POST', SCPA, { token: bearer, body: association({}, 'S0') })));
      expect(same.map((r) => r.status)).to.deep.equal(Array.from({ length: 10 }, () => 200));
      expect(new Set(same.map((r) => r.headers.get('location'))).size).to.equal(1);
      expect(server.store.count('studentCTEProgramAssociations')).to.equal(30);
    });
  });

  describe('authorization by LEA', () => {
    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer({ authorizedLeas: [LEA_ID] }));
      server.seed('localEducationAgencies', lea(OTHER_LEA_ID));
      server.seed('programs', { educationOrganizationReference: { educationOrganizationId: OTHER_LEA_ID }, programName: 'Career and Technical Education', programTypeDescriptor: CTE_TYPE });
    });

    it('answers 403 to a POST for another LEA and 201 for its own', async () => {
      const other = association({
        educationOrganizationReference: { educationOrganizationId: OTHER_LEA_ID },
        programReference: { educationOrganizationId: OTHER_LEA_ID, programName: 'Career and Technical Education', programTypeDescriptor: CTE_TYPE },
      });
      const denied = await call(server, 'POST', SCPA, { token: bearer, body: other });
      expect(denied.status).to.equal(403);
      const message = (denied.json as { message: string }).message;
      expect(message).to.match(/^Authorization denied\. No relationships have been established between the caller's education organization id claim/);
      expect(message).to.contain(String(LEA_ID));
      expect((await call(server, 'POST', SCPA, { token: bearer, body: association() })).status).to.equal(201);
      server.store.setAuthorizedLeas(null);
      expect((await call(server, 'POST', SCPA, { token: bearer, body: other })).status).to.equal(201);
    });

    it('leaves other LEAs out of GET answers', async () => {
      const all = await call(server, 'GET', '/data/v3/ed-fi/localEducationAgencies', { token: bearer });
      expect((all.json as Body[]).map((l) => l['localEducationAgencyId'])).to.deep.equal([LEA_ID]);
    });
  });

  describe('PUT', () => {
    let id: string;

    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer());
      id = idFrom((await call(server, 'POST', SCPA, { token: bearer, body: association() })).headers.get('location'));
    });

    it('answers 204 and replaces the item, accepting a body read back from GET', async () => {
      const read = (await call(server, 'GET', `${SCPA}/${id}`, { token: bearer })).json as Body;
      const res = await call(server, 'PUT', `${SCPA}/${id}`, { token: bearer, body: { ...read, endDate: '2025-06-01', ctePrograms: [] } });
      expect(res.status).to.equal(204);
      expect(res.headers.get('etag')).to.match(/^"\d+"$/);
      const after = (await call(server, 'GET', `${SCPA}/${id}`, { token: bearer })).json as Body;
      expect(after['endDate']).to.equal('2025-06-01');
      expect(after['ctePrograms']).to.deep.equal([]);
    });

    it('answers 404 for an unknown id', async () => {
      const res = await call(server, 'PUT', `${SCPA}/${'0'.repeat(32)}`, { token: bearer, body: association() });
      expect(res.status).to.equal(404);
      expect(res.json).to.deep.equal({ message: 'Resource to update was not found.' });
    });

    it('ignores a natural-key change silently, as 6.x does, and applies the other fields', async () => {
      const res = await call(server, 'PUT', `${SCPA}/${id}`, { token: bearer, body: association({ beginDate: '2024-09-15', endDate: '2025-05-01' }) });
      expect(res.status).to.equal(204);
      const after = (await call(server, 'GET', `${SCPA}/${id}`, { token: bearer })).json as Body;
      expect(after['beginDate']).to.equal('2024-08-20');
      expect(after['endDate']).to.equal('2025-05-01');
      const byNewKey = await call(server, 'GET', `${SCPA}?beginDate=2024-09-15`, { token: bearer });
      expect(byNewKey.json).to.deep.equal([]);
    });

    it('rejects a natural-key change when configured as 7.0/7.1', async () => {
      server.store.keyChangeOnPut = 'reject';
      const res = await call(server, 'PUT', `${SCPA}/${id}`, { token: bearer, body: association({ beginDate: '2024-09-15' }) });
      expect(res.status).to.equal(400);
      expect(res.json).to.deep.equal({ message: 'Key values for this resource cannot be changed. Delete and recreate the resource item.' });
    });

    it('answers 412 when If-Match does not match', async () => {
      const res = await call(server, 'PUT', `${SCPA}/${id}`, { token: bearer, body: association(), headers: { 'If-Match': '"1"' } });
      expect(res.status).to.equal(412);
      expect(res.json).to.deep.equal({ message: 'Resource was modified by another consumer.' });
    });
  });

  describe('DELETE', () => {
    let id: string;

    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer());
      id = idFrom((await call(server, 'POST', SCPA, { token: bearer, body: association() })).headers.get('location'));
    });

    it('answers 204, then 404 for the same id', async () => {
      expect((await call(server, 'DELETE', `${SCPA}/${id}`, { token: bearer })).status).to.equal(204);
      expect((await call(server, 'GET', `${SCPA}/${id}`, { token: bearer })).status).to.equal(404);
      const again = await call(server, 'DELETE', `${SCPA}/${id}`, { token: bearer });
      expect(again.status).to.equal(404);
      expect(again.json).to.deep.equal({ message: 'Resource to delete was not found.' });
      // The natural key is free again.
      expect((await call(server, 'POST', SCPA, { token: bearer, body: association() })).status).to.equal(201);
    });

    it('answers 409 when deleting an LEA, student or program an association references', async () => {
      const expected = {
        message: "The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the 'studentCTEProgramAssociation' entity.",
      };
      for (const resource of ['localEducationAgencies', 'students', 'programs'] as const) {
        const [target] = server.store.list(resource);
        const res = await call(server, 'DELETE', `/data/v3/ed-fi/${resource}/${target?.id ?? ''}`, { token: bearer });
        expect(res.status, resource).to.equal(409);
        expect(res.json, resource).to.deep.equal(expected);
      }
      expect((await call(server, 'DELETE', `${SCPA}/${id}`, { token: bearer })).status).to.equal(204);
      const [student] = server.store.list('students');
      expect((await call(server, 'DELETE', `/data/v3/ed-fi/students/${student?.id ?? ''}`, { token: bearer })).status).to.equal(204);
      // The LEA is still a program's education organization.
      const [leaItem] = server.store.list('localEducationAgencies');
      const res = await call(server, 'DELETE', `/data/v3/ed-fi/localEducationAgencies/${leaItem?.id ?? ''}`, { token: bearer });
      expect(res.status).to.equal(409);
      expect((res.json as { message: string }).message).to.contain("dependency of the 'program' entity");
    });
  });

  describe('GET', () => {
    const students = Array.from({ length: 7 }, (_, i) => `P${i}`);

    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer({ maxPageSize: 500 }));
      preloadReferences(server, students.map((s) => association({}, s)));
      for (const s of students) server.seed('studentCTEProgramAssociations', association({}, s));
    });

    it('pages with offset and limit in a stable order, with Total-Count on request', async () => {
      const pages: string[][] = [];
      for (const offset of [0, 3, 6]) {
        const res = await call(server, 'GET', `${SCPA}?offset=${offset}&limit=3&totalCount=true`, { token: bearer });
        expect(res.status).to.equal(200);
        expect(res.headers.get('total-count')).to.equal('7');
        pages.push((res.json as Body[]).map((b) => (b['studentReference'] as Body)['studentUniqueId'] as string));
      }
      expect(pages.map((p) => p.length)).to.deep.equal([3, 3, 1]);
      expect(pages.flat()).to.deep.equal(students);
      const again = await call(server, 'GET', `${SCPA}?offset=3&limit=3`, { token: bearer });
      expect((again.json as Body[]).map((b) => (b['studentReference'] as Body)['studentUniqueId'])).to.deep.equal(pages[1]);
      expect(again.headers.get('total-count')).to.equal(null);
    });

    it('defaults to 25 items and refuses a limit above the cap', async () => {
      const all = await call(server, 'GET', SCPA, { token: bearer });
      expect((all.json as Body[]).length).to.equal(7);
      const over = await call(server, 'GET', `${SCPA}?limit=501`, { token: bearer });
      expect(over.status).to.equal(400);
      expect(over.json).to.deep.equal({ message: 'Limit must be omitted or set to a value between 1 and 500.' });
      expect((await call(server, 'GET', `${SCPA}?limit=0`, { token: bearer })).status).to.equal(400);
      expect((await call(server, 'GET', `${SCPA}?offset=-1`, { token: bearer })).status).to.equal(400);
      expect((await call(server, 'GET', `${SCPA}?limit=500`, { token: bearer })).status).to.equal(200);
    });

    it('honours a configured page-size cap', async () => {
      await server.close();
      ({ server, token: bearer } = await readyServer({ maxPageSize: 10 }));
      expect((await call(server, 'GET', `${SCPA}?limit=11`, { token: bearer })).status).to.equal(400);
      expect((await call(server, 'GET', `${SCPA}?limit=10`, { token: bearer })).status).to.equal(200);
    });

    it('filters by natural-key query parameters', async () => {
      const query = new URLSearchParams({
        studentUniqueId: 'P3',
        beginDate: '2024-08-20',
        educationOrganizationId: String(LEA_ID),
        programEducationOrganizationId: String(LEA_ID),
        programName: 'Career and Technical Education',
        programTypeDescriptor: CTE_TYPE,
      });
      const one = await call(server, 'GET', `${SCPA}?${query.toString()}`, { token: bearer });
      expect((one.json as Body[]).length).to.equal(1);
      const none = await call(server, 'GET', `${SCPA}?programName=Other`, { token: bearer });
      expect(none.json).to.deep.equal([]);
      const students = await call(server, 'GET', '/data/v3/ed-fi/students?studentUniqueId=P3', { token: bearer });
      expect((students.json as Body[]).map((s) => s['studentUniqueId'])).to.deep.equal(['P3']);
    });

    it('returns an item with id, reference links, _etag and _lastModifiedDate', async () => {
      const [first] = server.store.list('studentCTEProgramAssociations');
      const res = await call(server, 'GET', `${SCPA}/${first?.id ?? ''}`, { token: bearer });
      const body = res.json as Body;
      expect(body['id']).to.equal(first?.id);
      expect(body['_etag']).to.be.a('string');
      expect(body['_lastModifiedDate']).to.be.a('string');
      expect((body['programReference'] as Body)['link']).to.deep.include({ rel: 'Program' });
      expect((await call(server, 'GET', `${SCPA}/${'0'.repeat(32)}`, { token: bearer })).status).to.equal(404);
    });

    it('answers 404 for a resource it does not serve and accepts year-specific paths', async () => {
      expect((await call(server, 'GET', '/data/v3/ed-fi/schools', { token: bearer })).status).to.equal(404);
      const yearly = await call(server, 'GET', `/data/v3/2025/ed-fi/studentCTEProgramAssociations?limit=1`, { token: bearer });
      expect(yearly.status).to.equal(200);
    });

    it('serves the version document and the dependency order', async () => {
      const version = await call(server, 'GET', '/');
      expect((version.json as { dataModels: Body[] }).dataModels[0]).to.deep.include({ name: 'Ed-Fi', version: '4.0.0' });
      const deps = (await call(server, 'GET', '/metadata/data/v3/dependencies')).json as { resource: string; order: number }[];
      const order = (r: string): number => deps.find((d) => d.resource === r)?.order ?? -1;
      expect(order('/ed-fi/programs')).to.be.lessThan(order('/ed-fi/studentCTEProgramAssociations'));
    });
  });

  describe('base path', () => {
    it('serves token and data routes under the configured prefix', async () => {
      ({ server, token: bearer } = await readyServer({ basePath: '/api/' }));
      expect(server.url).to.match(/\/api$/);
      const res = await call(server, 'POST', SCPA, { token: bearer, body: association() });
      expect(res.headers.get('location')).to.match(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api${SCPA}/[0-9a-f]{32}$`));
      const outside = await fetch(`${server.url.replace(/\/api$/, '')}${SCPA}`, { headers: { Authorization: `Bearer ${bearer}` } });
      expect(outside.status).to.equal(404);
      await outside.text();
    });
  });

  describe('faults', () => {
    beforeEach(async () => {
      ({ server, token: bearer } = await readyServer());
    });

    it('answers 500 once, then normally', async () => {
      server.faults.add({ kind: 'status', status: 500, times: 1, match: { method: 'POST', pathIncludes: 'studentCTEProgramAssociations' } });
      const first = await call(server, 'POST', SCPA, { token: bearer, body: association() });
      expect(first.status).to.equal(500);
      expect(first.json).to.deep.equal({ message: 'An unexpected error occurred on the server.' });
      expect((await call(server, 'POST', SCPA, { token: bearer, body: association() })).status).to.equal(201);
      expect(server.faults.pending).to.equal(0);
    });

    it('answers 429 with Retry-After, and only to matching requests', async () => {
      server.faults.add({ kind: 'status', status: 429, retryAfterSeconds: 7, times: 2, match: { pathIncludes: '/programs' } });
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(200);
      const limited = await call(server, 'GET', '/data/v3/ed-fi/programs', { token: bearer });
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('7');
      expect((await call(server, 'GET', '/data/v3/ed-fi/programs', { token: bearer })).status).to.equal(429);
      expect((await call(server, 'GET', '/data/v3/ed-fi/programs', { token: bearer })).status).to.equal(200);
    });

    it('answers 502 in HTML and 503 in plain text, as gateways do', async () => {
      server.faults.add({ kind: 'status', status: 502 });
      server.faults.add({ kind: 'status', status: 503, retryAfterSeconds: 1 });
      const bad = await call(server, 'GET', SCPA, { token: bearer });
      expect(bad.status).to.equal(502);
      expect(bad.headers.get('content-type')).to.contain('text/html');
      const unavailable = await call(server, 'GET', SCPA, { token: bearer });
      expect(unavailable.status).to.equal(503);
      expect(unavailable.headers.get('retry-after')).to.equal('1');
    });

    it('resets the connection, then answers normally', async () => {
      server.faults.add({ kind: 'reset', match: { method: 'POST' } });
      let error: unknown;
      try {
        await call(server, 'POST', SCPA, { token: bearer, body: association() });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(TypeError);
      expect((await call(server, 'POST', SCPA, { token: bearer, body: association() })).status).to.equal(201);
      expect(server.requests.filter((r) => r.method === 'POST' && r.path === SCPA).map((r) => r.status)).to.deep.equal([0, 201]);
    });

    it('expires tokens, so the next request gets 401 and a new token works', async () => {
      server.faults.add({ kind: 'expire-tokens', match: { pathIncludes: '/data/' } });
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(401);
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(401);
      const fresh = await token(server);
      expect((await call(server, 'GET', SCPA, { token: fresh })).status).to.equal(200);
      server.expireTokens();
      expect((await call(server, 'GET', SCPA, { token: fresh })).status).to.equal(401);
    });

    it('delays answers by a latency fault and by the global latency', async () => {
      server.faults.add({ kind: 'latency', ms: 150 });
      let started = Date.now();
      expect((await call(server, 'GET', SCPA, { token: bearer })).status).to.equal(200);
      expect(Date.now() - started).to.be.at.least(140);
      server.faults.setLatency(100);
      started = Date.now();
      await call(server, 'GET', SCPA, { token: bearer });
      expect(Date.now() - started).to.be.at.least(90);
      server.faults.setLatency(0);
    });

    it('closes promptly while a delayed request is still waiting', async () => {
      server.faults.add({ kind: 'latency', ms: 60_000 });
      const pending = call(server, 'GET', SCPA, { token: bearer }).catch((err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).to.be.lessThan(1000);
      expect(await pending).to.be.instanceOf(TypeError);
      server = await startTestServer();
    });
  });

  describe('seed and preloadReferences', () => {
    beforeEach(async () => {
      server = await startTestServer();
    });

    it('preloads the LEAs, students and programs that bodies reference, once', async () => {
      const bodies = [association({}, 'A'), association({}, 'B'), association({ programReference: { educationOrganizationId: OTHER_LEA_ID, programName: 'Welding', programTypeDescriptor: CTE_TYPE } }, 'A')];
      const first = preloadReferences(server, bodies);
      expect(first).to.deep.equal({ localEducationAgencies: 2, students: 2, programs: 2, skipped: [] });
      expect(preloadReferences(server, bodies)).to.deep.equal({ localEducationAgencies: 0, students: 0, programs: 0, skipped: [] });
      bearer = await token(server);
      for (const body of bodies) expect((await call(server, 'POST', SCPA, { token: bearer, body })).status).to.equal(201);
    });

    it('registers the descriptors of the bodies when asked', () => {
      const value = 'uri://dese.mo.gov/CareerPathwayDescriptor#Agriculture';
      preloadReferences(server, [association({ ctePrograms: [{ careerPathwayDescriptor: value }] })], { registerDescriptors: true });
      expect(server.store.knowsDescriptor('CareerPathwayDescriptor', value)).to.equal(true);
    });

    it('seeds through the same rules and throws when they refuse', () => {
      const id = server.seed('localEducationAgencies', lea(LEA_ID));
      expect(id).to.match(/^[0-9a-f]{32}$/);
      expect(server.seed('localEducationAgencies', lea(LEA_ID))).to.equal(id);
      expect(() => server.seed('students', { studentUniqueId: 'X' })).to.throw(/firstName is required/);
      expect(() => server.seed('schools', {})).to.throw(/no resource 'schools'/);
    });
  });
});
