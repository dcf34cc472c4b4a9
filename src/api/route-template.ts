// Filling the route context of an Ed-Fi API's URLs for one connection. ODS/API 7.x and the DMS publish URL
// templates such as `https://host/{schoolYearFromRoute}/data/v3/` or `https://host/{districtId}/{schoolYear}/data`;
// an ODS/API 5.x/6.x in year-specific mode publishes the data URL of the current calendar year instead.

/**
 * A placeholder of the API's URLs that nothing fills: the command line or the targets file must give it. A
 * configuration problem (exit code 3), not an API that cannot be reached: trying again later would not help.
 */
export class RouteContextError extends Error {
  override readonly name = 'RouteContextError';
  readonly exitCode = 3;
}

/** Values a connection supplies for route placeholders, by placeholder name (matched without regard to case). */
export type RouteContext = Record<string, string>;

/** `{name}` or `{name:constraint(...)}` (ASP.NET route syntax). */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]*)?\}/g;

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * The context values a connection gives by itself: its school year under the names the Ed-Fi APIs use for it, and
 * its district's education organization id. `extra` (from the command line or a targets file) adds or overrides.
 */
export function connectionRouteContext(endYear: number, districtId: string | number | undefined, extra: RouteContext = {}): RouteContext {
  const out: RouteContext = {};
  // A connection without a school year (the delete tool given only an id) fills no year placeholder.
  if (Number.isInteger(endYear) && endYear > 0) out.schoolYear = out.schoolYearFromRoute = String(endYear);
  if (districtId !== undefined && districtId !== '') {
    out.districtId = String(districtId);
    out.localEducationAgencyId = String(districtId);
  }
  return { ...out, ...extra };
}

function lookup(context: RouteContext, name: string): string | undefined {
  if (name in context) return context[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The template with every placeholder filled; a placeholder the context lacks is an error naming it. */
export function fillTemplate(template: string, context: RouteContext, what: string): string {
  const missing = placeholdersOf(template).filter((name) => lookup(context, name) === undefined);
  if (missing.length > 0) {
    const names = [...new Set(missing)];
    throw new RouteContextError(
      `the ${what} URL ${template} needs ${names.map((n) => `{${n}}`).join(', ')}, which this connection does not give: ` +
        `add ${names.map((n) => `--route-context ${n}=VALUE`).join(' ')} (or routeContext in the targets file)`,
    );
  }
  return template.replace(PLACEHOLDER, (_m, name: string) => encodeURIComponent(lookup(context, name) as string));
}

/**
 * ODS/API 5.x/6.x in a year-specific mode names the data URL of the current calendar year (`.../data/v3/2025`):
 * the connection's school year replaces it.
 */
export function replaceYearSegment(dataUrl: string, schoolYear: string): string {
  return dataUrl.replace(/\/(\d{4})(\/?)$/, `/${schoolYear}$2`);
}

export function isYearSpecificMode(apiMode: string | undefined): boolean {
  return /year\s*specific/i.test(apiMode ?? '');
}

export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}
