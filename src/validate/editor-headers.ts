// `# yaml-language-server: $schema=...` as the first line lets an editor (VS Code with the YAML extension, and
// others using the YAML language server) check an analyst file as it is typed. `validate` warns when a file has
// none or when it names another schema or a file that is not there.
import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import type { LocatedProblem } from '../util/errors.js';
import type { AnalystFile } from './analyst-files.js';

const HEADER = /^#\s*yaml-language-server:\s*\$schema=(\S+)/;

export function schemaFileName(kind: AnalystFile['kind']): string {
  return `${kind}.schema.json`;
}

export function checkEditorHeader(text: string, f: AnalystFile, root: string): LocatedProblem | undefined {
  const expected = schemaFileName(f.kind);
  const lines = text.split('\n').slice(0, 5);
  const index = lines.findIndex((l) => HEADER.test(l));
  const suggestion = `# yaml-language-server: $schema=${relative(dirname(f.file), resolve(root, 'schemas', expected)).replace(/\\/g, '/')}`;
  if (index < 0) {
    return { file: f.shown, line: 1, message: `no editor schema line: add '${suggestion}' as the first line so editors check this file as you type` };
  }
  const target = HEADER.exec(lines[index]!)![1]!;
  if (/^https?:/.test(target)) return undefined;
  const path = resolve(dirname(f.file), target);
  if (basename(path) !== expected) return { file: f.shown, line: index + 1, message: `the editor schema line names ${basename(path)}, but this is a ${f.kind} file (${expected}): '${suggestion}'` };
  if (!existsSync(path)) return { file: f.shown, line: index + 1, message: `the editor schema line points at ${target}, which does not exist from here: '${suggestion}'` };
  return undefined;
}
