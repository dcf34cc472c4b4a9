// Does a profile written for one Ed-Fi Data Standard fit the data model an API serves? A DS 4.0 body sent to a
// DS 5.x API is refused, or worse, has its dropped elements silently discarded (the DMS drops unknown properties),
// so the mismatch is caught before anything is sent.

/**
 * A profile's `dataStandard` is a version pattern: `4.0` (any 4.0.x), `5.x` (any 5.*), or a comma-separated
 * list of those (`5.0, 5.1, 5.2`). The API's version is the Ed-Fi data model version of its root document.
 */
export function dataStandardMatches(profileStandard: string, apiVersion: string): boolean {
  const api = versionParts(apiVersion);
  if (api.length === 0) return false;
  return profileStandard
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .some((pattern) => {
      const want = pattern.split('.').map((s) => s.trim().toLowerCase());
      return want.every((w, i) => w === 'x' || w === '*' || (api[i] !== undefined && Number(w) === api[i]));
    });
}

function versionParts(version: string): number[] {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(version);
  return m ? (m[1] as string).split('.').map(Number) : [];
}

/** "Data Standard 5.2.0": how a version is named in messages. */
export function describeStandard(version: string): string {
  return `Ed-Fi Data Standard ${version}`;
}

/** The data model version each test-server flavor serves, newest generation last. */
const FLAVOR_STANDARDS: Array<{ flavor: 'ods-6' | 'ods-7' | 'dms'; version: string }> = [
  { flavor: 'ods-6', version: '4.0.0' },
  { flavor: 'ods-7', version: '5.2.0' },
  { flavor: 'dms', version: '5.2.0' },
];

/** The first API generation whose data model a profile's `dataStandard` fits (for the demo and tests). */
export function flavorForDataStandard(profileStandard: string): 'ods-6' | 'ods-7' | 'dms' {
  const fit = FLAVOR_STANDARDS.find((f) => dataStandardMatches(profileStandard, f.version));
  if (!fit) throw new Error(`no API generation serves Ed-Fi Data Standard ${profileStandard}`);
  return fit.flavor;
}
