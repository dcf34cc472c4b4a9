// Reads an Ed-Fi API's root document once and answers, for each connection, where its token and its data are.

import type { Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBody, readErrorText } from '../emit/error-body.js';
import { describeTransportError } from '../emit/transport-error.js';
import { flavorTraits, type ApiFlavor, type FlavorTraits } from './flavor.js';
import { send } from './http-agent.js';
import { DiscoveryError, edfiDataStandard, inferFlavor, parseRootDocument, type RootDocument } from './root-document.js';
import { fillTemplate, isYearSpecificMode, replaceYearSegment, trimSlashes, type RouteContext } from './route-template.js';

export { DiscoveryError } from './root-document.js';

export interface ApiLocation {
  tokenUrl: string;
  /** Base of the resource collections, no trailing slash: `{dataUrl}/ed-fi/studentCTEProgramAssociations`. */
  dataUrl: string;
}

export interface DiscoveredApi {
  rootUrl: string;
  document: RootDocument;
  flavor: ApiFlavor;
  traits: FlavorTraits;
  /** Whether the flavor came from the root document or from --api-flavor. */
  flavorFrom: 'root document' | 'option';
  /** The Ed-Fi data model version the API serves ('4.0.0', '5.2.0'), when the document names it. */
  dataStandard?: string;
  /** The token and data URLs for one connection's route context; `dataPath` (--data-path) overrides the data URL. */
  locate(context: RouteContext, dataPath?: string): ApiLocation;
  /** "Ed-Fi ODS/API 7.x 7.3, Ed-Fi Data Standard 5.2.0, at https://..." */
  describe(): string;
}

export interface DiscoverOptions {
  agent: Dispatcher;
  /** --api-flavor: wins over what the document says. */
  flavor?: ApiFlavor;
  attempts?: number;
  timeoutMs?: number;
}

/** GET {root} (no credentials: the Discovery API is anonymous) and interpret it. */
export async function discoverApi(apiRoot: string, o: DiscoverOptions): Promise<DiscoveredApi> {
  const rootUrl = trimSlashes(apiRoot.trim());
  let url: URL;
  try {
    url = new URL(`${rootUrl}/`);
  } catch {
    throw Object.assign(new Error(`--api-base '${apiRoot}' is not a URL`), { exitCode: 2 });
  }
  const attempts = Math.max(1, o.attempts ?? 3);
  let json: unknown;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      const res = await send(o.agent, url, 'GET', { accept: 'application/json' });
      const parsed = parseBody(res.text);
      if (res.status >= 200 && res.status < 300 && parsed.json !== undefined) {
        json = parsed.json;
        break;
      }
      failure = res.status >= 200 && res.status < 300 ? 'the answer is not JSON' : `HTTP ${res.status}${readErrorText(parsed) ? `: ${readErrorText(parsed)}` : ''}`;
      if (res.status < 500 && res.status !== 429) throw new DiscoveryError(`could not read the Ed-Fi API's root document at ${url.href} (${failure}): is --api-base the API's root URL?`);
    } catch (err) {
      if (err instanceof DiscoveryError) throw err;
      failure = describeTransportError(err, o.timeoutMs ?? 30_000).message;
    }
    if (attempt >= attempts) throw new DiscoveryError(`could not reach the Ed-Fi API's root document at ${url.href} (${failure})`);
    await sleep(200 * attempt);
  }

  const { document, notes } = secureTokenUrl(parseRootDocument(json, rootUrl), rootUrl);
  const inferred = inferFlavor(document);
  const flavor = o.flavor ?? inferred;
  if (!flavor) {
    throw new DiscoveryError(
      `cannot tell which Ed-Fi API generation answers at ${rootUrl} (version '${document.version || '?'}', data URL ${document.dataUrl}): ` +
        'give --api-flavor ods-6, ods-7 or dms',
    );
  }
  const traits = flavorTraits(flavor);
  const dataStandard = edfiDataStandard(document);
  const yearSpecific = isYearSpecificMode(document.apiMode);

  return {
    rootUrl,
    document,
    flavor,
    traits,
    flavorFrom: o.flavor ? 'option' : 'root document',
    dataStandard,
    locate(context: RouteContext, dataPath?: string): ApiLocation {
      const tokenUrl = fillTemplate(document.oauthUrl, context, 'token');
      let dataUrl: string;
      if (dataPath !== undefined && dataPath.trim() !== '') {
        // {endYear} is the placeholder --data-path has always taken.
        const path = fillTemplate(dataPath.trim(), { endYear: context.schoolYear ?? '', ...context }, '--data-path');
        dataUrl = trimSlashes(`${rootUrl}${path.startsWith('/') ? '' : '/'}${path}`);
      } else {
        dataUrl = trimSlashes(fillTemplate(document.dataUrl, context, 'data'));
        if (yearSpecific && context.schoolYear) dataUrl = replaceYearSegment(dataUrl, context.schoolYear);
      }
      return { tokenUrl, dataUrl };
    },
    describe(): string {
      const version = document.version ? ` ${document.version}` : '';
      const standard = dataStandard ? `, Ed-Fi Data Standard ${dataStandard}` : '';
      const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
      return `${traits.label}${version}${standard}, at ${rootUrl}${note}`;
    },
  };
}

/**
 * The key and secret never go over plain http when the operator gave an https --api-base: an ODS/API behind a
 * proxy that ends TLS, and is not told so, names its own host with http. Its token URL is then taken on the
 * --api-base origin (the same host, through the proxy). Nothing else is moved: a token URL on another host (the
 * DMS's identity provider) is the API's own choice, and the data URL names the ODS instance, which identity rows
 * are keyed by (moving it would make the records sent so far look like another ODS's, never deleted). Where the
 * document names another origin, the run's "Ed-Fi API:" line says so.
 */
export function secureTokenUrl(document: RootDocument, rootUrl: string): { document: RootDocument; notes: string[] } {
  const base = new URL(`${rootUrl}/`);
  const notes: string[] = [];
  const split = (url: string): { origin: URL; rest: string } | undefined => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
    if (!m) return undefined;
    try {
      return { origin: new URL(`${m[1]}/`), rest: m[2]! };
    } catch {
      // A placeholder in the host ({tenant}.example.org): as the document gives it.
      return undefined;
    }
  };
  let oauthUrl = document.oauthUrl;
  const token = split(oauthUrl);
  if (token && token.origin.origin !== base.origin) {
    if (base.protocol === 'https:' && token.origin.protocol === 'http:' && token.origin.hostname === base.hostname) {
      oauthUrl = `${base.origin}${token.rest}`;
      notes.push(`its root document names ${token.origin.origin} for its token URL: the key and secret go to ${base.origin} (https) instead`);
    } else {
      notes.push(`its root document names ${token.origin.origin} for its token URL`);
    }
  }
  const data = split(document.dataUrl);
  if (data && data.origin.origin !== base.origin) notes.push(`its root document names ${data.origin.origin} for its data URL${data.origin.protocol === 'http:' ? ' (plain http: configure the API\'s reverse-proxy settings)' : ''}`);
  return { document: oauthUrl === document.oauthUrl ? document : { ...document, oauthUrl }, notes };
}
