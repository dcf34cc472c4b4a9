import type { Command } from 'commander';
import { runGenerate } from '../../snapshot/cli-generate.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write a synthetic Campus snapshot (seeded: the same seed gives the same data)')
    .requiredOption('--students <n>', 'number of students')
    .requiredOption('--out <file>', 'snapshot file to write (replaced if it exists)')
    .option('--seed <n>', 'random seed', '1')
    .option('--years <list>', 'configured school years (end years), e.g. 2025,2026')
    .option('--profile <which>', 'connections to create: a profile name, a comma list taken in turn by district, or both (every profile)', 'both')
    .action((o: { students: string; out: string; seed: string; years?: string; profile: string }) => {
      runGenerate(o, (line) => process.stderr.write(line + '\n'));
    });
}
