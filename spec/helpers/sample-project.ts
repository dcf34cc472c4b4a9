// A scratch copy of the engine's sample project (spec/sample-project), for tests that edit a profile. The copy
// gets a link to the repository's schemas/ so its yaml-language-server headers resolve as in a real project.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../../src/util/repo-root.js';

export interface SampleProject {
  dir: string;
  /** profiles/sample/profile.yaml of the copy. */
  profileFile: string;
  path(rel: string): string;
  read(rel: string): string;
  write(rel: string, text: string): void;
  /** Replaces text in a file of the copy; fails the test when the text is not there (a stale edit). */
  edit(rel: string, from: string | RegExp, to: string): void;
  /** Runs `edfi-sync ARGS` in the copy. */
  cli(...args: string[]): SpawnSyncReturns<string>;
  remove(): void;
}

export function sampleProject(): SampleProject {
  const dir = mkdtempSync(join(tmpdir(), 'edfi-sample-'));
  cpSync(repoPath('spec', 'sample-project'), dir, { recursive: true });
  symlinkSync(repoPath('schemas'), join(dir, 'schemas'));
  const path = (rel: string): string => join(dir, rel);
  return {
    dir,
    profileFile: path('profiles/sample/profile.yaml'),
    path,
    read: (rel) => readFileSync(path(rel), 'utf8'),
    write: (rel, text) => writeFileSync(path(rel), text),
    edit(rel, from, to) {
      const text = readFileSync(path(rel), 'utf8');
      const next = text.replace(from, to);
      if (next === text) throw new Error(`edit of ${rel} changed nothing (${String(from)})`);
      writeFileSync(path(rel), next);
    },
    cli: (...args) => spawnSync(process.execPath, [repoPath('bin', 'edfi-sync.js'), ...args], { cwd: dir, encoding: 'utf8' }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
