import type { ApiResult, PageOptions, PageResult, Query } from './edfi-client.js';

/** The calls the emitter makes: the HTTP client implements it; a dry run answers without a network. */
export interface ResourceApi {
  post(resource: string, body: object): Promise<ApiResult>;
  put(resource: string, id: string, body: object): Promise<ApiResult>;
  delete(resource: string, id: string): Promise<ApiResult>;
  get(resource: string, query?: Query, opts?: PageOptions): Promise<PageResult>;
  /** Every item of a collection in the API's paging style (offset or cursor); throws EdFiRequestError on a failed page. */
  getAll?(resource: string, query?: Query, pageSize?: number): AsyncIterable<object>;
  /** One record by its Ed-Fi id. */
  getById?(resource: string, id: string): Promise<ApiResult>;
  /** Gets a token now; throws EdFiAuthError when the key is refused or the token endpoint cannot be reached. */
  authenticate?(): Promise<void>;
}
