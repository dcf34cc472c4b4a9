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
    const problems: LocatedProblem[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return { file, line: pos?.line, column: pos?.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
    });
    throw new ConfigError(problems);
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
