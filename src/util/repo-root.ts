// Data files (SQL, YAML) ship beside the sources, not inside dist/, so code finds them from the repo root.
// Walking up to package.json works the same from src/ (ts-node, editors) and dist/src/ (compiled).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function repoRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`No package.json found above ${dirname(fileURLToPath(import.meta.url))}`);
    }
    dir = parent;
  }
}

export function repoPath(...parts: string[]): string {
  return join(repoRoot(), ...parts);
}
