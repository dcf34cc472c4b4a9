// TODO markers: `init-profile` turns the copied profile's titles and spec lines into "TODO: ..." texts that keep
// the copied wording, and `validate` lists every one left (file, line, id) until the state's own text is written.
import { isScalar, parseDocument, visit, type Pair } from 'yaml';
import { enclosingId } from '../util/file-schema.js';
import type { LocatedProblem } from '../util/errors.js';
import { parseYaml, type PathSegment } from '../util/yaml-file.js';

/** The keys whose text quotes a specification. */
const SPEC_KEYS = new Set(['title', 'spec']);
export const TODO_PREFIX = 'TODO';

/** Rewrites every title and spec text of one YAML file as a TODO marker; the rest of the file is left as it is. */
export function markTodos(text: string, name: string, from: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text;
  const edits: Array<{ start: number; end: number; block: boolean; value: string }> = [];
  visit(doc, {
    Pair(_, pair: Pair) {
      if (!isScalar(pair.key) || !SPEC_KEYS.has(String(pair.key.value)) || !isScalar(pair.value) || !pair.value.range) return;
      const old = String(pair.value.value).trim();
      if (old.startsWith(TODO_PREFIX)) return;
      const what = pair.key.value === 'title' ? `the title of ${name}'s specification` : `quote ${name}'s specification`;
      edits.push({
        start: pair.value.range[0],
        end: pair.value.range[1],
        block: String(pair.value.type).startsWith('BLOCK'),
        value: `${TODO_PREFIX}: ${what} (copied from ${from}: ${old.replace(/\s+/g, ' ')})`,
      });
    },
  });
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) {
    // A block scalar's range ends after its last line break; the quoted replacement needs its own.
    out = out.slice(0, e.start) + JSON.stringify(e.value) + (e.block ? '\n' : '') + out.slice(e.end);
  }
  return out;
}

/** An entry without an id of its own (notReported) is named by its field. */
function ownerOf(entry: Record<string, unknown>): string | undefined {
  if (typeof entry.id === 'string') return entry.id;
  return typeof entry.field === 'string' ? `field ${entry.field}` : undefined;
}

function topName(data: unknown): string | undefined {
  const name = data && typeof data === 'object' ? (data as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** Every TODO marker still in a YAML file, as a warning with file, line and the id of the entry it stands in. */
export function findTodos(text: string, file: string): LocatedProblem[] {
  let yaml;
  try {
    yaml = parseYaml(text, file);
  } catch {
    return []; // a YAML syntax error is reported by the file's own check
  }
  const out: LocatedProblem[] = [];
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (SPEC_KEYS.has(k) && typeof v === 'string' && v.trim().startsWith(TODO_PREFIX)) {
          out.push({
            file,
            ...yaml.locate([...path, k]),
            ruleId: ownerOf(node as Record<string, unknown>) ?? enclosingId(yaml.data, [...path, k]) ?? topName(yaml.data),
            message: `${k} is still a TODO marker: write the text of your state's specification (${k === 'title' ? 'its title' : path.length === 0 ? 'its name and version' : 'the sentence this entry implements'})`,
          });
        } else walk(v, [...path, k]);
      }
    }
  };
  walk(yaml.data, []);
  return out;
}
