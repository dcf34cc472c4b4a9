/** Where in an analyst's file a problem is. Line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** The id of the rule, mapping field or profile entry the problem is in, when there is one. */
  ruleId?: string;
}

export interface LocatedProblem extends SourceLocation {
  message: string;
}

export function formatProblem(p: LocatedProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}${p.column !== undefined ? ':' + p.column : ''}` : p.file;
  return `${where}${p.ruleId ? ` [${p.ruleId}]` : ''}: ${p.message}`;
}

/** Raised when analyst-edited files are invalid; carries every problem found, not only the first. */
export class ConfigError extends Error {
  constructor(readonly problems: LocatedProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}
