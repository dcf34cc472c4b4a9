import { ConfigError } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile } from '../util/yaml-file.js';
import type { Method } from '../types.js';

/** One entry of a specification's Error Log (profiles/<name>/errors.yaml). */
export interface CatalogueEntry {
  id: string;
  status?: number[];
  methods?: Array<Method | 'GET'>;
  match?: string;
  level?: 'error' | 'warning' | 'info';
  specMessage: string;
  cause: string;
  fix: string;
  retry?: boolean;
  clearsIdentity?: boolean;
}

export class ErrorCatalogue {
  private readonly patterns: Array<RegExp | undefined>;

  constructor(readonly entries: CatalogueEntry[]) {
    this.patterns = entries.map((e) => (e.match ? new RegExp(e.match, 'i') : undefined));
  }

  /** First entry whose status, method and pattern all fit; the catch-all (no status) comes last in the files. */
  match(status: number, method: string, message: string): CatalogueEntry {
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.status && !e.status.includes(status)) continue;
      if (e.methods && !e.methods.includes(method as Method)) continue;
      const re = this.patterns[i];
      if (re && !re.test(message)) continue;
      return e;
    }
    return {
      id: 'error.unlisted',
      specMessage: '(not in the specification\'s error list)',
      cause: 'The Ed-Fi API returned an error the specification does not describe.',
      fix: "Read the API's message; retry the record, and contact the ODS administrator if it persists.",
    };
  }

  byId(id: string): CatalogueEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }
}

export function loadCatalogueFile(absPath: string, displayName: string): CatalogueEntry[] {
  const file = readYamlFile(absPath, displayName);
  const problems = checkAgainstSchema(file, 'errors');
  const entries = (file.data as { errors?: CatalogueEntry[] }).errors ?? [];
  entries.forEach((e, i) => {
    if (e.match) {
      try {
        new RegExp(e.match, 'i');
      } catch (err) {
        problems.push({ file: displayName, ...file.locate(['errors', i, 'match']), ruleId: e.id, message: `bad pattern: ${(err as Error).message}` });
      }
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}
