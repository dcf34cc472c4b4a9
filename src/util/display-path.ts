import { relative } from 'node:path';

/**
 * A file as a message shows it: relative to the working directory when it is below it, else absolute (an operator
 * running from elsewhere read "../../srv/edfi/mappings/x.yaml:38" and had to work out where that was).
 */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}
