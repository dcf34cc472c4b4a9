// Districts with their own ODS and their own key and secret, from a targets file. One district's key is refused,
// another's key may not report its LEA: only those connections fail, each with the spec's 403/401 fix, and the
// JSON log a collector reads has one parseable object per line without a credential in it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { RunSummary } from '../src/cli/run-summary.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { ErrorLog } from '../src/state/error-log.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import type { JsonObject } from '../src/types.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { RESOURCE } from './helpers/sync-e2e.js';

const CEDAR = { number: 4826100, key: 'cedar-key', secret: 'cedar-Secret-4f2a91' };
const OSAGE = { number: 480101, key: 'district-b-key', secret: 'district-b-Secret-88c1', wrongSecret: 'osage-Wrong-Secret-1d07' };
const PRAIRIE = { number: 1150025 };
const YEAR_PATH = '/data/v3/{endYear}';

describe('two districts, two Ed-Fi APIs, their own credentials (targets file)', function () {
  this.timeout(120_000);
  let dir: string;
  let snapshot: string;
  let targets: string;
  let a: TestServer;
  let b: TestServer;
  const env = {
    EDFI_KEY_4826100: CEDAR.key, EDFI_SECRET_4826100: CEDAR.secret,
    EDFI_KEY_1150025: OSAGE.key, EDFI_SECRET_1150025: OSAGE.secret,
    // No shared key: a connection that falls back to it would be a mistake.
    EDFI_CLIENT_ID: '', EDFI_CLIENT_SECRET: '',
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-two-districts-'));
    snapshot = join(dir, 'snapshot.sqlite');
    generateSnapshot({ students: 240, seed: 11, profile: 'core', endYears: [2025, 2026], out: snapshot });
    a = await startTestServer({ clientId: CEDAR.key, clientSecret: CEDAR.secret });
    // District B's ODS; its key may report Osage River only, so Prairie Ridge's records are refused (403).
    b = await startTestServer({ clientId: OSAGE.key, clientSecret: OSAGE.secret, authorizedLeas: [OSAGE.number] });
    await preloadFromSnapshot(a, snapshot, ['core'], YEAR_PATH);
    await preloadFromSnapshot(b, snapshot, ['core'], YEAR_PATH);
    writeFileSync(join(dir, 'osage.env'), `EDFI_CLIENT_ID=${OSAGE.key}\nEDFI_CLIENT_SECRET=${OSAGE.wrongSecret}\n`);
    targets = join(dir, 'targets.yaml');
    writeFileSync(targets, [
      '# yaml-language-server: $schema=../schemas/targets.schema.json',
      'defaults:',
      '  dataPath: /data/v3/{schoolYear}',
      '  credentials: { keyEnv: "EDFI_KEY_{district}", secretEnv: "EDFI_SECRET_{district}" }',
      'targets:',
      `  - district: ${CEDAR.number}`,
      `    apiRoot: ${a.url}`,
      `  - district: ${OSAGE.number}`,
      `    apiRoot: ${b.url}`,
      '    credentials: { file: osage.env }',
      `  - district: ${PRAIRIE.number}`,
      `    apiRoot: ${b.url}`,
      '',
    ].join('\n'));
  });

  after(async function () {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const leasIn = (s: TestServer): number[] =>
    [...new Set([2025, 2026].flatMap((y) => s.instance(`/data/v3/${y}`).list(RESOURCE)).map((i) => ((i.body as JsonObject).educationOrganizationReference as JsonObject).educationOrganizationId as number))];

  let run: CliRun;
  let summary: RunSummary;

  it('only the connections whose key is refused or not allowed fail, each with the fix; the others are sent', async function () {
    const listed = await runCli(['connections', '--profile', 'core', '--snapshot', snapshot, '--targets', targets, '--format', 'json'], env);
    expect(listed.code, listed.stderr).to.equal(EXIT.ok);
    const rows = JSON.parse(listed.stdout) as Array<{ key: string; target: { apiRoot: string; credentialsFrom: string } }>;
    expect(rows.map((r) => [r.key, r.target.apiRoot, r.target.credentialsFrom])).to.deep.equal([
      ['1:2025', a.url, 'environment EDFI_KEY_4826100 / EDFI_SECRET_4826100'],
      ['1:2026', a.url, 'environment EDFI_KEY_4826100 / EDFI_SECRET_4826100'],
      ['2:2025', b.url, `file ${join(dir, 'osage.env')}`],
      ['2:2026', b.url, `file ${join(dir, 'osage.env')}`],
      ['3:2025', b.url, 'environment EDFI_KEY_1150025 / EDFI_SECRET_1150025'],
      ['3:2026', b.url, 'environment EDFI_KEY_1150025 / EDFI_SECRET_1150025'],
    ]);
    expect(listed.stdout).to.not.contain(OSAGE.wrongSecret).and.not.contain(CEDAR.secret);

    run = await runCli(['sync', '--profile', 'core', '--snapshot', snapshot, '--state', join(dir, 'state.sqlite'), '--targets', targets,
      '--log-format', 'json', '--summary-json', join(dir, 'summary.json')], env);
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    // The run ends with the most urgent code among its connections: a refused key (6) before a refused record (1).
    expect(run.code, run.stderr).to.equal(EXIT.unreachable);
    expect(summary.exitReason).to.equal('unreachable');
    const byKey = new Map(summary.connections.map((c) => [c.connection, c]));

    const cedar = byKey.get('1:2026')!;
    expect(cedar.exitReason).to.be.oneOf(['ok', 'heldBack']);
    expect(cedar.counts.created).to.be.greaterThan(20);
    expect(cedar.counts.failed).to.equal(0);
    expect(leasIn(a)).to.deep.equal([CEDAR.number]);

    expect(byKey.get('1:2025')!.exitReason).to.be.oneOf(['ok', 'heldBack']);
    for (const key of ['2:2025', '2:2026']) {
      const osage = byKey.get(key)!;
      expect(osage.exitReason).to.equal('unreachable');
      expect(osage.message).to.contain(`${b.url} refused its key and secret (from file ${join(dir, 'osage.env')})`).and.to.contain('401');
      expect(osage.fix).to.contain('Double check your API credentials (key/secret)');
      expect(osage.counts.created).to.equal(0);
    }
    // Toggled off in this snapshot: nothing to send, nothing failed.
    expect(byKey.get('3:2025')!.exitReason).to.equal('ok');

    const prairie = byKey.get('3:2026')!;
    expect(prairie.exitReason).to.equal('apiFailed');
    expect(prairie.counts.created).to.equal(0);
    expect(prairie.counts.failed).to.be.greaterThan(0);
    expect(leasIn(b)).to.deep.equal([]);

    const db = new Database(join(dir, 'state.sqlite'), { readonly: true });
    const open = new ErrorLog(db).list({ state: 'open' });
    db.close();
    const denied = open.filter((e) => e.connection === '3:2026' && e.method !== null);
    expect(denied.length).to.equal(prairie.counts.failed);
    expect(denied.every((e) => e.catalogueId === 'core.error.authorization-denied' && e.status === 403 && /Double check your API credentials/.test(e.fix ?? ''))).to.equal(true);
    const keyRefused = open.filter((e) => e.connection?.startsWith('2:') && e.sourceKey === null);
    expect(keyRefused.map((e) => [e.connection, e.catalogueId])).to.deep.equal([['2:2025', 'core.error.authorization-denied'], ['2:2026', 'core.error.authorization-denied']]);
    expect(open.some((e) => e.connection?.startsWith('1:') && e.method !== null)).to.equal(false);
  });

  it('the JSON log: one object per line with time, level, runId, event; connection and counts on connection events; no credential', function () {
    const lines = run.stderr.trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { time: string; level: string; runId: string; event: string; connection?: string; counts?: Record<string, number>; exitReason?: string; fix?: string });
    for (const e of events) {
      expect(new Date(e.time).toISOString()).to.equal(e.time);
      expect(e.level).to.be.oneOf(['info', 'warn', 'error']);
      expect(e.runId).to.equal(summary.runId);
      expect(e.event).to.be.a('string');
    }
    const names = events.map((e) => e.event);
    expect(names[0]).to.equal('run-start');
    expect(names[names.length - 1]).to.equal('run-end');
    const plans = events.filter((e) => e.event === 'plan');
    expect(plans.map((e) => e.connection)).to.deep.equal(['1:2025', '1:2026', '2:2025', '2:2026', '3:2025', '3:2026']);
    expect(plans.every((e) => typeof e.counts?.candidates === 'number' && typeof e.counts?.toSend === 'number')).to.equal(true);
    const ends = events.filter((e) => e.event === 'connection-end');
    expect(ends.map((e) => [e.connection, e.exitReason])).to.deep.equal(summary.connections.map((c) => [c.connection, c.exitReason]));
    expect(ends.find((e) => e.connection === '2:2026')!.fix).to.contain('Double check your API credentials');
    expect(events.find((e) => e.event === 'run-end')).to.include({ exitReason: 'unreachable', level: 'warn' });
    for (const secret of [CEDAR.secret, OSAGE.secret, OSAGE.wrongSecret]) {
      expect(run.stderr + run.stdout + JSON.stringify(summary), 'a secret in the output').to.not.contain(secret);
    }
  });

  it('a job limited to the district that works succeeds on its own', async function () {
    const one = await runCli(['sync', '--profile', 'core', '--snapshot', snapshot, '--state', join(dir, 'state.sqlite'), '--targets', targets, '--connection', '1:2026', '--held-back-ok'], env);
    expect(one.code, one.stderr).to.equal(EXIT.ok);
  });
});
