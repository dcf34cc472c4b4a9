import type { ApiResult } from './edfi-client.js';

/** The calls the emitter makes: the HTTP client implements it; a dry run answers without a network. */
export interface ResourceApi {
  post(resource: string, body: object): Promise<ApiResult>;
  put(resource: string, id: string, body: object): Promise<ApiResult>;
  delete(resource: string, id: string): Promise<ApiResult>;
  get(resource: string, query?: Record<string, string | number>, opts?: { offset?: number; limit?: number; totalCount?: boolean }): Promise<ApiResult & { items?: unknown[]; totalCount?: number }>;
}
