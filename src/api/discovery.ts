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

  const { document, moved } = onRootOrigin(parseRootDocument(json, rootUrl), rootUrl);
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
      const note = moved ? ` (its root document names ${moved} for its token and data URLs, an origin other than --api-base: sent to ${new URL(`${rootUrl}/`).origin} instead)` : '';
      return `${traits.label}${version}${standard}, at ${rootUrl}${note}`;
    },
  };
}

/**
 * The document's token and data URLs on the origin the operator gave (--api-base). An API behind a reverse proxy
 * that is not set up for it builds its URLs from the request as it sees it: an internal host, or plain http behind
 * a proxy that ends TLS. The key and secret must go where the operator pointed, never downgraded to http, and the
 * ODS instance must not look new because the API named itself differently one night. The path is kept.
 */
function onRootOrigin(document: RootDocument, rootUrl: string): { document: RootDocument; moved?: string } {
  const base = new URL(`${rootUrl}/`).origin;
  const others = new Set<string>();
  const rebase = (url: string): string => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
    if (!m) return url;
    let origin: string;
    try {
      origin = new URL(`${m[1]}/`).origin;
    } catch {
      // A placeholder in the host ({tenant}.example.org): left as the document gives it.
      return url;
    }
    if (origin === base) return url;
    others.add(origin);
    return `${base}${m[2]}`;
  };
  const rebased = { ...document, oauthUrl: rebase(document.oauthUrl), dataUrl: rebase(document.dataUrl) };
  return others.size === 0 ? { document } : { document: rebased, moved: [...others].join(', ') };
}
