// npm run bench [-- --students N | --million] [--repeat N] [--skip-emit] [--fresh]: the figures of docs/benchmark.md, never a
// timed test. Every row is a ratio to a baseline measured in the same run, because the machine is shared and
// absolute times move by tens of percent: a plan against a bare SQLite scan of exactly the rows it plans (only the
// connections it really reads), the emitter against a bare fetch loop with the same bodies and concurrency to the
// same trivial local server. Each measured step runs in a process of its own, so its peak RSS is its own.
// Snapshots are kept under .bench/ (git-ignored) and reused: a million students take minutes to generate.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const stepJs = join(here, 'step.js');
const dir = join(root, '.bench');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const students = process.argv.includes('--million') ? 1_000_000 : Number(arg('students') ?? 100_000);
const skipEmit = process.argv.includes('--skip-emit');
const fresh = process.argv.includes('--fresh');
const emitOps = Number(arg('emit-ops') ?? 4000);
// Each plan is measured this many times, each against the scans just before and after it, and the median ratio is
// reported with the range: one run on this shared machine moved a ratio by a third.
const repeat = Math.max(1, Number(arg('repeat') ?? (students >= 1_000_000 ? 1 : 3)));

interface StepResult { ms: number; rssMB: number; [k: string]: unknown }

function step(args: string[]): StepResult {
  const out = execFileSync(process.execPath, [stepJs, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as StepResult;
}

function best(n: number, args: string[]): StepResult {
  let r: StepResult | undefined;
  for (let i = 0; i < n; i++) {
    const x = step(args);
    if (!r || x.ms < r.ms) r = x;
  }
  return r!;
}

interface Paired { run: StepResult; before: StepResult; after: StepResult; ratio: number }

/**
 * A plan step `repeat` times, each compared with the mean of the scans just before and just after it (the scan
 * after one is the scan before the next). The median ratio, its range, and the highest peak RSS of all runs.
 */
function paired(first: StepResult, args: string[], scanArgs: string[], reset: () => void): { median: Paired; all: Paired[]; range: string; rssMB: number } {
  const all: Paired[] = [];
  let before = first;
  for (let i = 0; i < repeat; i++) {
    reset();
    const run = step(args);
    const after = step(scanArgs);
    all.push({ run, before, after, ratio: run.ms / ((before.ms + after.ms) / 2) });
    before = after;
  }
  const sorted = [...all].sort((a, b) => a.ratio - b.ratio);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const range = all.length > 1 ? `; median of ${all.length}, ratios ${sorted.map((p) => p.ratio.toFixed(1)).join(' / ')}` : '';
  return { median, all, range, rssMB: Math.max(...all.map((p) => p.run.rssMB)) };
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return '(uptime not available)';
  }
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

function profiles(): string[] {
  const p = join(root, 'profiles');
  return readdirSync(p).filter((n) => existsSync(join(p, n, 'profile.yaml')) && existsSync(join(p, n, 'fixture-base.yaml'))).sort();
}

interface Row { step: string; time: string; count: string; ratio: string; baseline: string; rss: string; goal: string }
const rows: Row[] = [];
function row(r: Row): void {
  rows.push(r);
  console.log(`${r.step.padEnd(44)} ${r.time.padStart(9)} ${r.count.padStart(14)} ${r.ratio.padStart(8)} ${r.rss.padStart(8)}  (${r.baseline}; goal ${r.goal})`);
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(here, 'trivial-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`trivial server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const before = uptime();
  console.log(`edfi-rules-sync benchmark: ${students.toLocaleString('en-US')} students, Node ${process.version}`);
  console.log(`load before: ${before}`);
  const snapshot = join(dir, `snapshot-${students}.sqlite`);
  if (fresh || !existsSync(snapshot)) {
    const g = step(['generate', '--students', String(students), '--out', snapshot]);
    console.log(`generated ${snapshot} in ${secs(g.ms)} (${Math.round((g.bytes as number) / 1e6)} MB)`);
  }
  console.log('\nstep                                              time          count    ratio  peakRSS');
  const results: Record<string, unknown> = { students, node: process.version, loadBefore: before };
  for (const name of profiles()) {
    // Baseline: the bare scan of the rows the planner reads, ordered as it reads them. The load of this shared
    // machine moves within a run, so each plan is compared with the mean of the scans just before and just after it.
    const scanArgs = ['scan', '--profile', name, '--snapshot', snapshot, '--ordered', '1'];
    const scan = best(2, scanArgs);
    const bare = best(2, ['scan', '--profile', name, '--snapshot', snapshot, '--ordered', '0']);
    const rowsN = scan.rows as number;
    row({ step: `${name}: bare scan, as the planner reads it`, time: secs(scan.ms), count: `${rowsN.toLocaleString('en-US')} rows`, ratio: '1.0x', baseline: `${rate(rowsN, scan.ms)}; the query as written: ${secs(bare.ms)}`, rss: `${scan.rssMB} MB`, goal: 'baseline' });
    const state = join(dir, `state-${name}-${students}.sqlite`);
    const planArgs = ['plan', '--profile', name, '--snapshot', snapshot, '--state', state];
    const fulls = paired(scan, planArgs, scanArgs, () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(state + suffix, { force: true });
    });
    const full = fulls.median;
    row({ step: `${name}: full plan (no state)`, time: secs(full.run.ms), count: `${(full.run.ops as number).toLocaleString('en-US')} ops`, ratio: `${full.ratio.toFixed(1)}x`, baseline: `${rate(rowsN, full.run.ms)} records; scans around it ${secs(full.before.ms)} / ${secs(full.after.ms)}${fulls.range}`, rss: `${fulls.rssMB} MB`, goal: '<= 4x, <= 300 MB' });
    step(['apply', '--profile', name, '--snapshot', snapshot, '--state', state]);
    const sames = paired(step(scanArgs), planArgs, scanArgs, () => undefined);
    const same = sames.median;
    row({ step: `${name}: unchanged night`, time: secs(same.run.ms), count: `${(same.run.ops as number).toLocaleString('en-US')} ops`, ratio: `${same.ratio.toFixed(1)}x`, baseline: `${rate(rowsN, same.run.ms)} records, ${same.run.evaluated} evaluated; scans around it ${secs(same.before.ms)} / ${secs(same.after.ms)}${sames.range}`, rss: `${sames.rssMB} MB`, goal: '<= 2x, <= 300 MB' });
    const size = step(['size', '--state', state, '--snapshot', snapshot]);
    row({ step: `${name}: state file after the first night`, time: '', count: `${Math.round((size.bytes as number) / 1e6)} MB`, ratio: `${((size.bytes as number) / (size.snapshotBytes as number)).toFixed(2)}x`, baseline: `snapshot ${Math.round((size.snapshotBytes as number) / 1e6)} MB`, rss: '', goal: '<= 2x the snapshot' });
    results[name] = { scan, bare, full: fulls.all, same: sames.all, size };
  }

  {
    // CLI start: `edfi-sync --help` against a bare `node` start, alternated, best of seven each.
    const bin = join(root, 'bin', 'edfi-sync.js');
    const timed = (args: string[]): number => {
      const t = performance.now();
      execFileSync(process.execPath, args, { stdio: 'ignore' });
      return performance.now() - t;
    };
    let node = Infinity;
    let help = Infinity;
    for (let i = 0; i < 7; i++) {
      node = Math.min(node, timed(['-e', '0']));
      help = Math.min(help, timed([bin, '--help']));
    }
    row({ step: 'edfi-sync --help', time: `${Math.round(help)} ms`, count: '', ratio: `+${Math.round(help - node)} ms`, baseline: `bare node start ${Math.round(node)} ms`, rss: '', goal: '<= 100 ms over bare node' });
    results.cliStart = { nodeMs: node, helpMs: help };
  }

  if (!skipEmit) {
    const emitSnapshot = join(dir, 'emit-20000.sqlite');
    const bodies = join(dir, 'emit-bodies.jsonl');
    if (!existsSync(emitSnapshot)) step(['generate', '--students', '20000', '--out', emitSnapshot]);
    if (!existsSync(bodies)) step(['bodies', '--snapshot', emitSnapshot, '--out', bodies]);
    const server = await startServer();
    try {
      for (const c of [8, 32]) {
        const args = ['emit', '--url', server.url, '--concurrency', String(c), '--bodies', bodies, '--limit', String(emitOps)];
        // Alternate the two, best of three each, so a burst of load on the shared machine hits both alike.
        let bare: StepResult | undefined;
        let emitter: StepResult | undefined;
        let client: StepResult | undefined;
        for (let i = 0; i < 3; i++) {
          const b = step([...args, '--mode', 'bare']);
          const k = step([...args, '--mode', 'client']);
          if (!client || k.ms < client.ms) client = k;
          const estate = join(dir, 'emit-state.sqlite');
          for (const suffix of ['', '-wal', '-shm']) rmSync(estate + suffix, { force: true });
          const e = step([...args, '--mode', 'emitter', '--state', estate]);
          if (!bare || b.ms < bare.ms) bare = b;
          if (!emitter || e.ms < emitter.ms) emitter = e;
        }
        const ops = emitter!.ops as number;
        row({ step: `emitter, c=${c} (${ops} POSTs)`, time: secs(emitter!.ms), count: rate(ops, emitter!.ms), ratio: `${(bare!.ms / emitter!.ms).toFixed(2)}`, baseline: `bare fetch loop ${rate(ops, bare!.ms)}; the Ed-Fi client alone in that loop ${rate(ops, client!.ms)} = ${(bare!.ms / client!.ms).toFixed(2)}`, rss: `${emitter!.rssMB} MB`, goal: '>= 0.9 of the bare loop' });
        results[`emit-c${c}`] = { bare, client, emitter };
      }
    } finally {
      server.stop();
    }
  }
  const after = uptime();
  console.log(`\nload after: ${after}`);
  results.loadAfter = after;
  results.rows = rows;
  writeFileSync(join(dir, `results-${students}.json`), JSON.stringify(results, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
