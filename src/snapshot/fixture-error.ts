// Fixture mistakes are made by people editing YAML, so every message names the file, the table and,
// when known, the line.

export class FixtureError extends Error {
  constructor(
    readonly fixture: string,
    detail: string,
  ) {
    // Details usually start with "<file> line N"; saying the file name twice helps nobody.
    super(detail.startsWith(`${fixture} line `) ? `Fixture ${detail}` : `Fixture ${fixture}: ${detail}`);
    this.name = 'FixtureError';
  }
}
