import type { MappingContext } from '../mapping/functions.js';
import type { Candidate, Decision, JsonObject } from '../types.js';

/** What the planner asks an evaluation worker, and what it answers. */
export type WorkerRequest =
  | { id: number; type: 'context'; key: string; context: MappingContext }
  | { id: number; type: 'decide'; items: Candidate[] }
  | { id: number; type: 'map'; contextKey: string; items: Array<{ candidate: Candidate; derived: JsonObject }> };

export interface WorkerResponse {
  id: number;
  error?: string;
  decisions?: Decision[];
  bodies?: Array<{ body: JsonObject; problems: string[] }>;
}
