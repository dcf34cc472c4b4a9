// The deployment examples under deploy/, tested as far as this machine allows: no Docker engine, no Airflow and no
// Kubernetes cluster here. The Dockerfile's steps run in a plain shell script; the Airflow DAG is imported by
// Python with a stand-in for the airflow package and its tasks run the real command; the Kubernetes CronJob is
// parsed and its command run for every shard index. deploy/README.md says which was run and which was not.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { preloadFromSnapshot } from '../src/cli/commands/test-server.js';
import { EXIT } from '../src/cli/exit-codes.js';
import type { RunSummary } from '../src/cli/run-summary.js';
import { generateSnapshot } from '../src/snapshot/generate.js';
import { startTestServer, type TestServer } from '../src/testserver/server.js';
import { repoPath } from '../src/util/repo-root.js';
import { runCli } from './helpers/cli.js';
import { RESOURCE } from './helpers/sync-e2e.js';

const run = promisify(execFile);
const KEY = 'deploy-key';
const SECRET = 'deploy-Secret-2b7e41';

describe('deploy/: Dockerfile, Airflow DAG, Kubernetes CronJob', function () {
  this.timeout(180_000);
  let dir: string;
  let snapshot: string;
  let server: TestServer;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'edfi-deploy-'));
    snapshot = join(dir, 'snapshot.sqlite');
    generateSnapshot({ students: 200, seed: 5, profile: 'core', out: snapshot });
    server = await startTestServer({ clientId: KEY, clientSecret: SECRET });
    await preloadFromSnapshot(server, snapshot, ['core'], '/data/v3/{endYear}');
  });

  after(async function () {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Records stored per connection ("districtNumber:year"), from the year instances of the test server. */
  const storedConnections = (s: TestServer = server): Set<string> =>
    new Set([2025, 2026].flatMap((y) => s.instance(`/data/v3/${y}`).list(RESOURCE).map((i) => `${(i.body.educationOrganizationReference as { educationOrganizationId: number }).educationOrganizationId}:${y}`)));

  describe('Dockerfile', function () {
    const dockerfile = readFileSync(repoPath('deploy', 'docker', 'Dockerfile'), 'utf8');
    const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const runtime = lines.slice(lines.findIndex((l, i) => i > 0 && l.startsWith('FROM ')));

    it('runs as a non-root user, the CLI as entrypoint, the state on a volume; copies only what exists', function () {
      expect(runtime[0]).to.match(/^FROM node:20/);
      expect(runtime.filter((l) => l.startsWith('USER '))).to.deep.equal(['USER node']);
      expect(runtime.findIndex((l) => l.startsWith('USER '))).to.be.greaterThan(runtime.findIndex((l) => l.startsWith('RUN ')));
      expect(runtime).to.include('ENTRYPOINT ["node", "/app/bin/edfi-sync.js"]');
      expect(runtime).to.include('VOLUME ["/state"]');
      for (const l of lines.filter((x) => /^COPY [^-]/.test(x))) {
        for (const src of l.split(/\s+/).slice(1, -1)) expect(() => readFileSync(repoPath(src)), src).to.not.throw(/ENOENT/);
      }
    });

    it("its steps, run in a plain shell script (build, entrypoint, state on the volume)", async function () {
      const { stdout } = await run('sh', [repoPath('deploy', 'docker', 'test-image-steps.sh')]);
      expect(stdout).to.contain('image steps ok');
    });
  });

  describe('Airflow DAG', function () {
    const dag = repoPath('deploy', 'airflow', 'edfi_sync_dag.py');

    /** A stand-in for the airflow package: enough to import the DAG file and record its task mapping. */
    function fakeAirflow(): string {
      const root = join(dir, 'fake-airflow');
      mkdirSync(join(root, 'airflow'), { recursive: true });
      writeFileSync(join(root, 'airflow', '__init__.py'), '');
      writeFileSync(join(root, 'airflow', 'exceptions.py'), 'class AirflowException(Exception): pass\nclass AirflowFailException(AirflowException): pass\n');
      writeFileSync(join(root, 'airflow', 'models.py'), 'class Variable:\n    @staticmethod\n    def get(name, default_var=None): return default_var\n');
      writeFileSync(join(root, 'airflow', 'decorators.py'), [
        'DAGS = []',
        'EXPANDED = []',
        'class Output:',
        '    def __init__(self, task): self.task = task',
        'class Task:',
        '    def __init__(self, fn, **kw): self.fn, self.kw = fn, kw',
        '    def __call__(self, *a, **k): return Output(self)',
        '    def expand(self, **k): EXPANDED.append((self, k)); return self',
        'def task(fn=None, **kw):',
        '    return Task(fn, **kw) if fn else (lambda f: Task(f, **kw))',
        'def dag(**kw):',
        '    def wrap(fn):',
        '        def build(): DAGS.append(kw); fn()',
        '        return build',
        '    return wrap',
      ].join('\n'));
      return root;
    }

    async function python(code: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
      const { stdout } = await run('python3', ['-c', code], { env: { ...process.env, PYTHONPATH: fakeAirflow(), ...env } });
      return stdout;
    }

    it('compiles with python3 (Airflow itself is not installed here)', async function () {
      await run('python3', ['-m', 'py_compile', dag]);
    });

    it('maps one sync task per connection, and its tasks run the real command with the exit codes mapped', async function () {
      const targets = join(dir, 'airflow-targets.yaml');
      writeFileSync(targets, `defaults:\n  apiRoot: ${server.url}\n  dataPath: /data/v3/{schoolYear}\n  credentials: { keyEnv: EDFI_KEY, secretEnv: EDFI_SECRET }\n`);
      const env = {
        EDFI_SYNC_COMMAND: `${process.execPath} ${repoPath('bin', 'edfi-sync.js')}`,
        EDFI_SYNC_SNAPSHOT: snapshot, EDFI_SYNC_TARGETS: targets, EDFI_SYNC_STATE: join(dir, 'airflow.sqlite'),
        EDFI_SYNC_SUMMARIES: join(dir, 'airflow-summaries'), EDFI_KEY: KEY, EDFI_SECRET: SECRET,
      };
      const out = await python(`
import importlib.util, json, os
import airflow.decorators as d
from airflow.exceptions import AirflowException, AirflowFailException
spec = importlib.util.spec_from_file_location("edfi_sync_dag", ${JSON.stringify(dag)})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
assert d.DAGS[0]["dag_id"] == "edfi_sync" and d.DAGS[0]["catchup"] is False
(mapped, kw), = d.EXPANDED
assert mapped.fn.__name__ == "sync_connection" and kw["connection"].task.fn.__name__ == "list_connections"
conns = m.list_connections_now()
results = {}
for c in conns:
    results[c["key"]] = m.sync_connection_now(c)["exitReason"]
# A refused key, on a state with something to send (a run with nothing to send never asks the API).
os.environ["EDFI_SECRET"] = "wrong"
os.environ["EDFI_SYNC_STATE"] = os.environ["EDFI_SYNC_STATE"] + ".fresh"
try:
    m.sync_connection_now(conns[0]); refused = "no exception"
except AirflowFailException as e: refused = "fail: " + str(e)
except AirflowException as e: refused = "retry: " + str(e)
print(json.dumps({"keys": [c["key"] for c in conns], "results": results, "refused": refused}))
`, env);
      const r = JSON.parse(out.trim().split('\n').pop()!) as { keys: string[]; results: Record<string, string>; refused: string };
      // The toggled-off connection (3:2025) is not mapped.
      expect(r.keys).to.deep.equal(['1:2025', '1:2026', '2:2025', '2:2026', '3:2026']);
      expect(Object.values(r.results).every((x) => x === 'ok' || x === 'heldBack')).to.equal(true);
      expect(r.refused).to.match(/^retry: connection 1:2025: unreachable \(exit 6\)/);
      expect(readdirSync(join(dir, 'airflow-summaries')).sort()).to.deep.equal(r.keys.map((k) => `core-${k.replace(':', '-')}.json`).sort());
      expect(storedConnections()).to.include.members(['4826100:2025', '4826100:2026', '480101:2025', '480101:2026', '1150025:2026']);
    });
  });

  describe('Kubernetes CronJob (Indexed Job)', function () {
    const docs = parseAllDocuments(readFileSync(repoPath('deploy', 'kubernetes', 'edfi-sync-cronjob.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const cron = docs.find((d) => d.kind === 'CronJob')!;
    const job = cron.spec.jobTemplate.spec;
    const pod = job.template.spec;
    const container = pod.containers[0];
    const args = container.args as string[];

    it('parses; one pod per shard, non-root, exit codes mapped to what Kubernetes does', async function () {
      expect(job.completionMode).to.equal('Indexed');
      expect(args[args.indexOf('--shard') + 1]).to.equal(`$(SHARD)/${job.completions}`);
      expect(job.parallelism).to.equal(job.completions);
      expect(container.env[0].valueFrom.fieldRef.fieldPath).to.equal("metadata.annotations['batch.kubernetes.io/job-completion-index']");
      expect(pod.securityContext.runAsNonRoot).to.equal(true);
      expect(pod.restartPolicy).to.equal('Never');
      const [stop, count] = job.podFailurePolicy.rules as Array<{ action: string; onExitCodes: { values: number[] } }>;
      expect(stop!.onExitCodes.values).to.have.members([EXIT.usage, EXIT.config, EXIT.input, EXIT.refused, EXIT.internal]);
      expect(count!.onExitCodes.values).to.have.members([EXIT.apiFailed, EXIT.unreachable]);
      expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).to.include('/state');
      const help = await runCli(['sync', '--help']);
      for (const a of args.filter((x) => x.startsWith('--'))) expect(help.stdout, a).to.contain(a);
    });

    it('its command, run here for every shard index at once, sends every connection exactly once', async function () {
      const ods = await startTestServer({ clientId: KEY, clientSecret: SECRET });
      try {
        await preloadFromSnapshot(ods, snapshot, ['core'], '/data/v3/{endYear}');
        await runShards(ods);
      } finally {
        await ods.close();
      }
    });

    async function runShards(ods: TestServer): Promise<void> {
      const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
      const secrets = join(dir, 'secrets');
      const state = join(dir, 'k8s-state');
      mkdirSync(secrets);
      mkdirSync(state);
      for (const n of [4826100, 480101, 1150025]) writeFileSync(join(secrets, `${n}.env`), `EDFI_CLIENT_ID=${KEY}\nEDFI_CLIENT_SECRET=${SECRET}\n`);
      const targets = join(dir, 'k8s-targets.yaml');
      writeFileSync(targets, (configMap.data['targets.yaml'] as string)
        .replace(/https:\/\/[a-z.-]*ods\.example\.org\/api/g, ods.url)
        .replaceAll('/run/secrets/edfi', secrets));
      const paths: Record<string, string> = { '/data/snapshot.sqlite': snapshot, '/config/targets.yaml': targets };
      const runs = await Promise.all(Array.from({ length: job.completions as number }, (_, i) =>
        runCli(args.map((a) => (paths[a] ?? a).replace('/state/', `${state}/`).replace('$(SHARD)', String(i)))),
      ));
      runs.forEach((r, i) => expect(r.code, `shard ${i}: ${r.stderr.slice(0, 2000)}`).to.equal(EXIT.ok));
      const summaries = Array.from({ length: job.completions as number }, (_, i) => JSON.parse(readFileSync(join(state, `core-shard-${i}.summary.json`), 'utf8')) as RunSummary);
      const ran = summaries.flatMap((s) => s.connections.map((c) => c.connection));
      expect(ran.sort()).to.deep.equal(['1:2025', '1:2026', '2:2025', '2:2026', '3:2025', '3:2026']);
      for (const r of runs) for (const line of r.stderr.trim().split('\n').filter(Boolean)) JSON.parse(line);
      expect(storedConnections(ods)).to.deep.equal(new Set(['4826100:2025', '4826100:2026', '480101:2025', '480101:2026', '1150025:2026']));
      expect(ods.requests.filter((r) => r.method === 'POST' && r.path.includes(RESOURCE)).every((r) => r.status === 201)).to.equal(true);
    }
  });
});
