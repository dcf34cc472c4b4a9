import { EdFiClient, type EdFiClientOptions } from '../emit/edfi-client.js';
import type { Credentials } from './credentials.js';

/**
 * One client per data path. A path with {endYear} (year-specific ODS instances, /data/v3/{endYear}) gets the
 * connection's school year; connections are "districtID:endYear".
 */
export function clientFactory(apiBase: string, dataPath: string, creds: Credentials, extra: Partial<EdFiClientOptions> = {}): (connection: string) => EdFiClient {
  const clients = new Map<string, EdFiClient>();
  return (connection: string) => {
    const endYear = connection.split(':')[1] ?? '';
    const path = dataPath.replace('{endYear}', endYear);
    let c = clients.get(path);
    if (!c) clients.set(path, (c = new EdFiClient({ baseUrl: apiBase, dataPath: path, ...creds, ...extra })));
    return c;
  };
}
