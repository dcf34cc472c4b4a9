import type { ResourceApi } from '../../src/emit/api.js';
import type { ApiResult } from '../../src/emit/edfi-client.js';

/**
 * An ODS that accepts every call, without a network: for tests of the emitter's own logic (stopping, batching,
 * equivalences of plans). Subclasses answer POSTs their way. Tests of the client and the protocol use the Ed-Fi
 * test server instead.
 */
export class AcceptingApi implements ResourceApi {
  protected posted = 0;
  async post(_resource: string, _body: object): Promise<ApiResult> {
    return { ok: true, status: 201, id: (++this.posted).toString(16).padStart(32, '0'), attempts: 1 };
  }
  async put(_resource: string, id: string): Promise<ApiResult> {
    return { ok: true, status: 204, id, attempts: 1 };
  }
  async delete(_resource: string, id: string): Promise<ApiResult> {
    return { ok: true, status: 204, id, attempts: 1 };
  }
  async get(): Promise<ApiResult & { items?: unknown[] }> {
    return { ok: true, status: 200, items: [], attempts: 1 };
  }
}
