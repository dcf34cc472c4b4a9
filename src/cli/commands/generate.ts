import type { Command } from 'commander';
import { generateSnapshot } from '../../snapshot/generate.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write a synthetic Campus snapshot (seeded: the same seed gives the same data)')
    .requiredOption('--students <n>', 'number of students', (v) => parseInt(v, 10))
    .requiredOption('--out <file>', 'snapshot file to write (replaced if it exists)')
    .option('--seed <n>', 'random seed', (v) => parseInt(v, 10), 1)
    .option('--profile <which>', "connections to create: core, missouri or both", 'both')
    .action((o: { students: number; out: string; seed: number; profile: 'core' | 'missouri' | 'both' }) => {
      const started = Date.now();
      const s = generateSnapshot({ students: o.students, seed: o.seed, out: o.out, profile: o.profile });
      process.stderr.write(`wrote ${o.out} (seed ${o.seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n${JSON.stringify(s, null, 2)}\n`);
    });
}
