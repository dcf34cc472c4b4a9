// The key of an ODS instance, as identity rows carry it. With API information it is the resolved data URL of the
// resource collections (`http://host/api/data/v3/2026`); without (a plan with no API, from the data path) it is a
// data path (`/data/v3/2026`). The same deployment must give the same key whichever command wrote it, or a run
// would take the records another run sent for records of another ODS (sent again, or never deleted).

/** Whether a key names an API's data URL (`scheme://...`), rather than a data path given without one. */
export function isApiKey(key: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(key);
}

/**
 * One spelling per instance: scheme and host in lower case, a default port dropped, user information dropped
 * (a key is written to the state file: no credential may be in it), repeated and trailing slashes removed. A data
 * path gets one leading slash. The path keeps its case: servers may tell `/Data` from `/data`.
 */
export function normalizeInstanceKey(key: string): string {
  const k = key.trim();
  if (!isApiKey(k)) return `/${k.replace(/\/+/g, '/').replace(/^\/|\/$/g, '')}`;
  let url: URL;
  try {
    url = new URL(k);
  } catch {
    return k.replace(/\/+$/, '');
  }
  // URL already lower-cases the scheme and host and drops the scheme's default port.
  const path = url.pathname.replace(/\/+/g, '/').replace(/\/$/, '');
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** The path of a key (a data path is its own). */
function pathOf(key: string): string {
  if (!isApiKey(key)) return key;
  try {
    return new URL(key).pathname;
  } catch {
    return key;
  }
}

/**
 * Whether a key a state file holds names the same ODS instance as `current`: equal once normalized, or, for a key
 * written without API information (a data path), an API key whose path ends with that data path. Two data URLs
 * of different hosts are different instances (a moved deployment is a new ODS).
 */
export function sameInstance(stored: string, current: string): boolean {
  const a = normalizeInstanceKey(stored);
  const b = normalizeInstanceKey(current);
  if (a === b) return true;
  if (isApiKey(a) === isApiKey(b)) return false;
  const [path, api] = isApiKey(a) ? [b, a] : [a, b];
  const apiPath = normalizeInstanceKey(pathOf(api));
  return path !== '/' && (apiPath === path || apiPath.endsWith(path));
}

/**
 * The ODS instance of each connection, worked out once per connection and in one spelling: the one the API gives
 * (`given`), else the one its identity rows were sent to last (`sentTo`: a dry run sees the state as the last real
 * run left it), else the one instance other connections' rows were sent to that the fallback data path names
 * (`recorded`: a school year whose records are all sent as the later year's, in an ODS the years share, has no rows
 * of its own), else one shared instance (`fallback`).
 */
export function instanceResolver<C>(
  keyOf: (c: C) => string,
  given: ((c: C) => string | undefined) | undefined,
  sentTo: (connection: string) => string | undefined,
  fallback: string,
  recorded?: () => string[],
): (c: C) => string {
  const known = new Map<string, string>();
  let guess: string | undefined;
  const fallbackKey = (): string => {
    if (guess === undefined) {
      const named = (recorded?.() ?? []).filter((k) => isApiKey(k) && sameInstance(fallback, k));
      // Two hosts whose paths both end with the data path: no guess.
      guess = named.length === 1 ? named[0]! : fallback;
    }
    return guess;
  };
  return (c) => {
    const key = keyOf(c);
    let i = known.get(key);
    if (i === undefined) known.set(key, (i = normalizeInstanceKey(given?.(c) ?? sentTo(key) ?? fallbackKey())));
    return i;
  };
}
