// An Ed-Fi API that is down answers every request with a server error (or not at all), each already retried: the
// connection stops after API_DOWN_AFTER of them in a row instead of logging an error for every record of the night;
// a server that fails some requests and answers others is not "down".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ApiResult } from '../src/emit/edfi-client.js';
import { API_DOWN_AFTER, emitPlan } from '../src/emit/emitter.js';
import { emptyPlan } from '../src/plan/plan-types.js';
import { loadProfile } from '../src/profile/load-profile.js';
import { openState } from '../src/state/state-db.js';
import type { Operation } from '../src/types.js';
import { repoRoot } from '../src/util/repo-root.js';
import { AcceptingApi } from './helpers/accepting-api.js';

/** An API that fails the POSTs `fails` says (status 0: no answer), and accepts the others. */
class FlakyApi extends AcceptingApi {
  posts = 0;
  constructor(private readonly fails: (n: number) => number | undefined) {
    super();
  }
  override async post(): Promise<ApiResult> {
    const n = ++this.posts;
    const status = this.fails(n);
    if (status !== undefined) return { ok: false, status, message: status === 0 ? 'connect ECONNREFUSED' : 'An unexpected error occurred on the server.', attempts: 5 };
    return { ok: true, status: 201, id: n.toString(16).padStart(32, '0'), attempts: 1 };
  }
}

function posts(n: number): Operation[] {
  return Array.from({ length: n }, (_, i) => ({
    method: 'POST', resource: 'studentCTEProgramAssociations', connection: '1:2026', sourceKey: `participationID=${i + 1}`, student: null,
    naturalKey: { n: i + 1 }, body: { n: i + 1 }, rules: [], reason: 'new record', instance: '/data/v3',
  }));
}

describe('an Ed-Fi API that is down', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edfi-down-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const profile = loadProfile('core', repoRoot());

  for (const [what, status] of [['server errors', 500], ['no answer', 0]] as const) {
    it(`${what} to every request: the connection stops after ${API_DOWN_AFTER} in a row, the rest not tried`, async function () {
      const state = openState(join(dir, 'state.sqlite'));
      const api = new FlakyApi(() => status);
      const s = await emitPlan({ api, profile, plan: emptyPlan('core', 'studentCTEProgramAssociations', posts(200)), state, runId: null, concurrency: 4 });
      expect(s.aborted).to.match(new RegExp(`looks down: ${API_DOWN_AFTER} requests in a row`));
      // The requests in flight and queued when it stopped are finished or dropped, not the other 160.
      expect(api.posts).to.be.at.least(API_DOWN_AFTER).and.at.most(API_DOWN_AFTER + 4);
      expect(s.failed).to.equal(api.posts);
      state.close();
    });
  }

  it('one request in three refused by the server: every record is tried', async function () {
    const state = openState(join(dir, 'state.sqlite'));
    const api = new FlakyApi((n) => (n % 3 === 0 ? 500 : undefined));
    const s = await emitPlan({ api, profile, plan: emptyPlan('core', 'studentCTEProgramAssociations', posts(200)), state, runId: null, concurrency: 4 });
    expect(s.aborted).to.equal(undefined);
    expect(api.posts).to.equal(200);
    expect(s.created).to.equal(134);
    state.close();
  });
});
