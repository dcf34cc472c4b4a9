import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../util/repo-root.js';

/**
 * Every profile of a project: the folders profiles/<name>/ holding a profile.yaml, under `root` when it has a
 * profiles/ folder, else those shipped with this package.
 */
export function listProfiles(root = process.cwd()): string[] {
  const dir = existsSync(join(root, 'profiles')) ? join(root, 'profiles') : repoPath('profiles');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'profile.yaml')))
    .map((d) => d.name)
    .sort();
}
