// How long `edfi-sync --help` takes over a bare `node`: runs both alternately, prints the medians, their difference
// and the load average. Not a test (timings belong to measurement, not to pass/fail):
//   node scripts/cli-start-time.mjs [runs] [another bin/edfi-sync.js to compare, e.g. of an older checkout]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../bin/edfi-sync.js', import.meta.url));
const other = process.argv[3];
const time = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = [];
const help = [];
const otherHelp = [];
const load = loadavg().map((x) => x.toFixed(2)).join(' ');
for (let i = 0; i < runs; i++) {
  bare.push(time(['-e', '0']));
  help.push(time([cli, '--help']));
  if (other) otherHelp.push(time([other, '--help']));
}
const b = median(bare);
const h = median(help);
console.log(`runs ${runs}: node -e 0 median ${b.toFixed(1)} ms; edfi-sync --help median ${h.toFixed(1)} ms; over bare node ${(h - b).toFixed(1)} ms`);
if (other) console.log(`${other} --help median ${median(otherHelp).toFixed(1)} ms; over bare node ${(median(otherHelp) - b).toFixed(1)} ms`);
console.log(`load average before: ${load}; after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
