// Where the repository's data files live at runtime. Compiled code runs from dist/, so paths are
// found by walking up to package.json rather than by counting '..' segments.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The folder holding the repository's package.json. */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The shared Ed-Fi reference folder (`../shared` next to the repository unless EDFI_SHARED_DIR says otherwise). */
export function sharedDir(): string {
  return process.env.EDFI_SHARED_DIR ?? path.resolve(repoRoot(), '..', 'shared');
}

/** The folder of the project's own Ed-Fi JSON Schemas and descriptor lists. */
export function edfiSchemaDir(): string {
  return path.join(repoRoot(), 'schemas', 'edfi');
}
