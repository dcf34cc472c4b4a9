/** Exit codes of every command, documented in the README. */
export const EXIT = {
  ok: 0,
  /** Some records failed (sync) or differ from expectations (test). */
  recordsFailed: 1,
  /** Bad command line. */
  usage: 2,
  /** An analyst file (profile, rule, mapping, fixture) is invalid. */
  config: 3,
  /** The snapshot fails the schema check. */
  snapshot: 4,
  /** A safety rail stopped the run (mass delete) or another run holds the lock. */
  refused: 5,
  /** The Ed-Fi API could not be reached or refused the credentials. */
  api: 6,
  internal: 70,
} as const;
