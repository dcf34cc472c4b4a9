// The `edfi-sync` command as a scheduler runs it: a process of its own, its exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import { repoPath, repoRoot } from '../../src/util/repo-root.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/edfi-sync.js ...args` with the given environment added to this process's. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, o: { cwd?: string; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'edfi-sync.js'), ...args], {
      cwd: o.cwd ?? repoRoot(),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(o.stdin ?? '');
  });
}
