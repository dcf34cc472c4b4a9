import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { ConfigError, type LocatedProblem } from './errors.js';

export type PathSegment = string | number;

/** A parsed YAML file that can say on which line any part of it stands. */
export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: PathSegment[]): { line?: number; column?: number };
}

export function parseYaml(text: string, file: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    // The first error only: the ones after it follow from it (a bad indent makes every line below it wrong too).
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const lines = text.split('\n');
    const at = pos ? lines[pos.line - 1] : undefined;
    const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '');
    const problem: LocatedProblem = {
      file, line: pos?.line, column: pos?.col,
      message: `YAML syntax: ${what}${at !== undefined && at.trim() !== '' ? ` (the line: ${JSON.stringify(at.trimEnd())})` : ''}` +
        (/indicator|indent|nested mapping|implicit (map|key)/i.test(what) ? ': check its indentation against the lines above and below it' : ''),
    };
    const ruleId = pos ? idAbove(lines, pos.line) : undefined;
    throw new ConfigError([ruleId ? { ...problem, ruleId } : problem]);
  }
  const locate = (path: PathSegment[]): { line?: number; column?: number } => {
    // Walk up the path until a node exists: a missing property is reported where its parent stands.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  };
  return { file, data: doc.toJS({ maxAliasCount: 100 }), locate };
}

export function readYamlFile(file: string, displayName = file): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: displayName, message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseYaml(text, displayName);
}

/**
 * The id of the entry a line belongs to: the nearest `id:` at or above it (rules, mapping fields and the profile's
 * entries all have one), so a syntax error names the rule an analyst was editing, as other problems do.
 */
function idAbove(lines: string[], line: number): string | undefined {
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    if (!/^\s*(?:-\s+)?id:/.test(lines[i]!)) continue;
    // The entry's own id line, itself broken: no id to name (the one above belongs to another entry).
    const m = /^\s*(?:-\s+)?id:\s*(['"]?)([A-Za-z0-9_.-]+)\1\s*(?:#.*)?$/.exec(lines[i]!);
    return m ? m[2] : undefined;
  }
  return undefined;
}
