/** Exit codes of every command, documented in the README: a scheduler acts on them. */
export const EXIT = {
  /** Everything the snapshot wants is in the ODS (or the dry run / plan completed). */
  ok: 0,
  /** Completed, but some operations failed at the API (details in the error log); `test`: fixtures failed. */
  apiFailed: 1,
  /** Bad command line or option value. */
  usage: 2,
  /** An analyst file (profile, rule, mapping, fixture, targets) is invalid, or the profile does not fit the API. */
  config: 3,
  /** The snapshot or the state file cannot be read or fails the schema and value checks. */
  input: 4,
  /** A safety rail refused: the mass-delete guard, or another run holds the lock. */
  refused: 5,
  /** The Ed-Fi API could not be reached or refused the credentials. */
  unreachable: 6,
  /** Completed: nothing failed at the API, but records were held back by data problems (in the error log). */
  heldBack: 7,
  internal: 70,
} as const;
