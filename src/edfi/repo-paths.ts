// Where the Ed-Fi data files live at runtime (found from the project folder, compiled or not).
import path from 'node:path';
import { repoRoot } from '../util/repo-root.js';

export { repoRoot } from '../util/repo-root.js';

/** The shared Ed-Fi reference folder (`../shared` next to the repository unless EDFI_SHARED_DIR says otherwise). */
export function sharedDir(): string {
  return process.env.EDFI_SHARED_DIR ?? path.resolve(repoRoot(), '..', 'shared');
}

/** The folder of the project's own Ed-Fi JSON Schemas and descriptor lists. */
export function edfiSchemaDir(): string {
  return path.join(repoRoot(), 'schemas', 'edfi');
}
