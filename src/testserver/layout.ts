// Where each API generation the test server plays puts its token endpoint, its data and its metadata, and what
// its root document says. ODS/API 5.x/6.x: /oauth/token and /data/v3[/{year}]; ODS/API 7.x: the route context
// first (/{schoolYearFromRoute}/oauth/token, /{schoolYearFromRoute}/data/v3); the DMS: /{schoolYear}/data (no /v3)
// and a token endpoint found only through the root document.

import type { ApiFlavor } from '../api/flavor.js';
import { DEPENDENCIES } from './resources.js';

export interface DataRoute {
  /** Everything before /ed-fi: the ODS instance, e.g. /data/v3/2026 or /2026/data/v3. */
  prefix: string;
  resource: string;
  id?: string;
}

export interface LayoutOptions {
  flavor: ApiFlavor;
  /** Route context segment names, in order (ods-7 and dms). */
  routeContext: string[];
  /** ods-6: Year Specific mode (the root document names the current year's data URL). */
  yearSpecific: boolean;
  dataStandard: string;
}

export interface Layout {
  isTokenPath(path: string): boolean;
  isDependenciesPath(path: string): boolean;
  dataRoute(path: string): DataRoute | undefined;
  rootDocument(url: string): object;
  /** The instance prefix of a school year (and other context values), as requests name it. */
  instancePrefix(schoolYear: number, context?: Record<string, string>): string;
}

/** The DMS's token endpoint is its identity provider's, wherever that is: here a Keycloak-style path. */
export const DMS_TOKEN_PATH = '/auth/realms/edfi/protocol/openid-connect/token';

function validContextValue(name: string, value: string): boolean {
  if (/year/i.test(name)) return /^\d{4}$/.test(value);
  return value !== '' && !['data', 'oauth', 'metadata', 'auth'].includes(value);
}

export function layoutFor(o: LayoutOptions): Layout {
  if (o.flavor === 'ods-6') return ods6Layout(o);
  return contextLayout(o);
}

function ods6Layout(o: LayoutOptions): Layout {
  const DATA = /^(\/data\/v3(?:\/[^/]+)*?)\/ed-fi\/([^/]+)(?:\/([^/]+))?\/?$/;
  return {
    isTokenPath: (path) => path === '/oauth/token',
    isDependenciesPath: (path) => /^\/metadata\/data\/v3(?:\/\d{4})?\/dependencies$/.test(path),
    dataRoute(path) {
      const m = DATA.exec(path);
      return m ? { prefix: m[1] as string, resource: m[2] as string, id: m[3] } : undefined;
    },
    rootDocument(url) {
      const year = String(new Date().getFullYear());
      return {
        version: '6.1',
        informationalVersion: '6.1',
        suite: '3',
        build: 'test-server',
        apiMode: o.yearSpecific ? 'Year Specific' : 'Shared Instance',
        dataModels: [{ name: 'Ed-Fi', version: o.dataStandard, informationalVersion: `The Ed-Fi Data Model ${o.dataStandard.replace(/\.0$/, '')}` }],
        urls: {
          dependencies: `${url}/metadata/data/v3${o.yearSpecific ? `/${year}` : ''}/dependencies`,
          oauth: `${url}/oauth/token`,
          dataManagementApi: `${url}/data/v3${o.yearSpecific ? `/${year}` : ''}`,
        },
      };
    },
    instancePrefix: (schoolYear) => (o.yearSpecific ? `/data/v3/${schoolYear}` : '/data/v3'),
  };
}

function contextLayout(o: LayoutOptions): Layout {
  const n = o.routeContext.length;
  const dataBase = o.flavor === 'dms' ? '/data' : '/data/v3';
  const segments = `((?:/[^/]+){${n}})`;
  const DATA = new RegExp(`^${segments}${dataBase.replace(/\//g, '\\/')}\\/ed-fi\\/([^/]+)(?:\\/([^/]+))?\\/?$`);
  const TOKEN = new RegExp(`^${segments}\\/oauth\\/token$`);
  const context = `/${o.routeContext.map((name) => `{${name}}`).join('/')}`;
  const contextOk = (prefix: string): boolean => {
    const values = prefix.split('/').slice(1);
    return values.length === n && values.every((v, i) => validContextValue(o.routeContext[i] as string, decodeURIComponent(v)));
  };
  return {
    isTokenPath(path) {
      if (o.flavor === 'dms') return path === DMS_TOKEN_PATH;
      const m = TOKEN.exec(path);
      return m !== null && contextOk(m[1] as string);
    },
    isDependenciesPath(path) {
      if (o.flavor === 'dms') return path === '/metadata/dependencies';
      const m = new RegExp(`^${segments}/metadata/data/v3/dependencies$`).exec(path);
      return m !== null && contextOk(m[1] as string);
    },
    dataRoute(path) {
      const m = DATA.exec(path);
      if (!m || !contextOk(m[1] as string)) return undefined;
      return { prefix: `${m[1] as string}${dataBase}`, resource: m[2] as string, id: m[3] };
    },
    rootDocument(url) {
      const models = [{ name: 'Ed-Fi', version: o.dataStandard, informationalVersion: `The Ed-Fi Data Model ${o.dataStandard.replace(/\.0$/, '')}` }];
      if (o.flavor === 'dms') {
        return {
          version: '8.0.0',
          applicationName: 'Ed-Fi Alliance Data Management Service',
          informationalVersion: '8.0.0',
          dataModels: models,
          urls: {
            dependencies: `${url}/metadata/dependencies`,
            openApiMetadata: `${url}/metadata/specifications`,
            oauth: `${url}${DMS_TOKEN_PATH}`,
            dataManagementApi: `${url}${context}/data`,
            xsdMetadata: `${url}/metadata/xsd`,
          },
        };
      }
      return {
        version: '7.3',
        applicationName: 'Ed-Fi ODS / API',
        informationalVersion: '7.3',
        suite: '3',
        build: 'test-server',
        dataModels: models,
        urls: {
          dependencies: `${url}${context}/metadata/data/v3/dependencies`,
          openApiMetadata: `${url}${context}/metadata/`,
          oauth: `${url}${context}/oauth/token`,
          oauthTokenIntrospection: `${url}${context}/oauth/token_info`,
          dataManagementApi: `${url}${context}/data/v3/`,
          xsdMetadata: `${url}${context}/metadata/xsd`,
        },
      };
    },
    instancePrefix(schoolYear, values = {}) {
      const parts = o.routeContext.map((name) => (/year/i.test(name) ? String(schoolYear) : (values[name] ?? '')));
      const missing = o.routeContext.filter((_name, i) => parts[i] === '');
      if (missing.length > 0) throw new Error(`the test server's route context needs ${missing.join(', ')}`);
      return `/${parts.map(encodeURIComponent).join('/')}${dataBase}`;
    },
  };
}

export function dependencies(): readonly object[] {
  return DEPENDENCIES;
}
