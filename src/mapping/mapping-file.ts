import jsonata from 'jsonata';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile } from '../util/yaml-file.js';

export interface FieldMapping {
  id: string;
  field: string;
  spec: string;
  decision?: string;
  expr: string;
  compiled: jsonata.Expression;
  line?: number;
}

export interface MappingFile {
  id: string;
  resource: string;
  file: string;
  fields: FieldMapping[];
  notReported: Array<{ field: string; spec: string; decision?: string }>;
  /** All fields as one JSONata object constructor: one evaluation per record instead of one per field. */
  whole: jsonata.Expression;
}

interface JsonataError {
  message: string;
  position?: number;
  token?: string;
}

/** The whole-body expression: `{ "field": (expr), ... }`. JSONata leaves out keys whose value is undefined. */
function combine(fields: Array<{ field: string; expr: string }>): string {
  return '{\n' + fields.map((f) => `  ${JSON.stringify(f.field)}: (\n${f.expr}\n)`).join(',\n') + '\n}';
}

export function loadMappingFile(absPath: string, displayName: string): MappingFile {
  const file = readYamlFile(absPath, displayName);
  const problems: LocatedProblem[] = checkAgainstSchema(file, 'mapping');
  if (problems.length > 0) throw new ConfigError(problems);
  const data = file.data as { id: string; resource: string; fields: Array<Omit<FieldMapping, 'compiled' | 'line'>>; notReported?: Array<{ field: string; spec: string; decision?: string }> };

  const fields: FieldMapping[] = [];
  const seen = new Map<string, number>();
  data.fields.forEach((f, i) => {
    const exprPos = file.locate(['fields', i, 'expr']);
    if (seen.has(f.field)) {
      problems.push({ file: displayName, ...file.locate(['fields', i, 'field']), ruleId: f.id, message: `field '${f.field}' is mapped twice (also at entry ${seen.get(f.field)! + 1})` });
    }
    seen.set(f.field, i);
    try {
      fields.push({ ...f, compiled: jsonata(f.expr), line: file.locate(['fields', i]).line });
    } catch (err) {
      const e = err as JsonataError;
      // Point at the line of the expression where JSONata stopped; block scalars (|) start on the next line.
      const before = f.expr.slice(0, e.position ?? 0);
      const lineInExpr = before.split('\n').length - 1;
      const blockOffset = f.expr.includes('\n') ? 1 : 0;
      const column = before.length - before.lastIndexOf('\n');
      problems.push({
        file: displayName,
        line: exprPos.line !== undefined ? exprPos.line + blockOffset + lineInExpr : undefined,
        column,
        ruleId: f.id,
        message: `JSONata syntax error in '${f.field}': ${e.message}${e.token ? ` (at '${e.token}')` : ''}`,
      });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    id: data.id,
    resource: data.resource,
    file: displayName,
    fields,
    notReported: data.notReported ?? [],
    whole: jsonata(combine(data.fields)),
  };
}
