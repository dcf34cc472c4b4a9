import jsonata from 'jsonata';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile, type YamlFile } from '../util/yaml-file.js';
import { BINDING_NAMES } from './functions.js';
import { compileAst, type AstNode, type CompiledExpression } from './jsonata-compile.js';

export interface FieldMapping {
  id: string;
  field: string;
  spec: string;
  decision?: string;
  expr: string;
  compiled: jsonata.Expression;
  /** The expression as plain functions, when every construct in it compiles (otherwise JSONata evaluates it). */
  fast?: CompiledExpression;
  /** Why it is left to JSONata, when it is. */
  notCompiled?: string;
  /** Line of the entry, and of the expression's first character (a block scalar starts on the next line). */
  line?: number;
  exprLine?: number;
}

export interface MappingFile {
  id: string;
  resource: string;
  file: string;
  fields: FieldMapping[];
  notReported: Array<{ field: string; spec: string; decision?: string }>;
  /** All fields as one JSONata object constructor: one evaluation per record instead of one per field. */
  whole: jsonata.Expression;
  /** The fields that did not compile, as one JSONata object constructor; undefined when every field compiled. */
  rest?: jsonata.Expression;
  /** The parsed YAML, for locating later checks. */
  yaml: YamlFile;
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

/** Line (1-based, in the file) of a character position of a field's expression. */
export function lineOfPosition(field: Pick<FieldMapping, 'expr' | 'exprLine'>, position: number): { line?: number; column: number } {
  const before = field.expr.slice(0, Math.max(0, position));
  const lineInExpr = before.split('\n').length - 1;
  const column = before.length - before.lastIndexOf('\n');
  return { line: field.exprLine !== undefined ? field.exprLine + lineInExpr : undefined, column };
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
    // Block scalars (|, >) start on the line after the key.
    const exprLine = exprPos.line !== undefined ? exprPos.line + (f.expr.includes('\n') ? 1 : 0) : undefined;
    if (seen.has(f.field)) {
      problems.push({ file: displayName, ...file.locate(['fields', i, 'field']), ruleId: f.id, message: `field '${f.field}' is mapped twice (also at entry ${seen.get(f.field)! + 1})` });
    }
    seen.set(f.field, i);
    try {
      const compiled = jsonata(f.expr);
      const { compiled: fast, reason } = compileAst(compiled.ast() as AstNode, { bindings: BINDING_NAMES });
      fields.push({ ...f, compiled, fast, notCompiled: reason, line: file.locate(['fields', i]).line, exprLine });
    } catch (err) {
      const e = err as JsonataError;
      const at = lineOfPosition({ expr: f.expr, exprLine }, e.position ?? 0);
      problems.push({
        file: displayName,
        line: at.line,
        column: at.column,
        ruleId: f.id,
        message: `JSONata syntax error in '${f.field}': ${e.message}${e.token ? ` (at '${e.token}')` : ''}`,
      });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const rest = fields.filter((f) => !f.fast);
  return {
    id: data.id,
    resource: data.resource,
    file: displayName,
    fields,
    notReported: data.notReported ?? [],
    whole: jsonata(combine(data.fields)),
    rest: rest.length > 0 ? jsonata(combine(rest)) : undefined,
    yaml: file,
  };
}
