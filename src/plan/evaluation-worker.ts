// A worker thread that evaluates rules and mappings for the planner: the JSONata and json-rules-engine work is
// the costly part of a full plan, and a second core halves it. It compiles the profile once, like the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { MappingContext } from '../mapping/functions.js';
import { loadProfile } from '../profile/load-profile.js';
import type { Candidate, JsonObject } from '../types.js';
import { RecordEvaluator } from './record-evaluator.js';
import type { WorkerRequest, WorkerResponse } from './worker-messages.js';

const { profileFile, cwd } = workerData as { profileFile: string; cwd: string };
const evaluator = new RecordEvaluator(loadProfile(profileFile, cwd));
const contexts = new Map<string, MappingContext>();

parentPort!.on('message', (req: WorkerRequest) => {
  void handle(req).then(
    (res) => parentPort!.postMessage(res),
    (err: Error) => parentPort!.postMessage({ id: req.id, error: err.message } satisfies WorkerResponse),
  );
});

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  if (req.type === 'context') {
    contexts.set(req.key, req.context);
    return { id: req.id, decisions: [] };
  }
  if (req.type === 'decide') {
    const decisions = [];
    for (const c of req.items) decisions.push(await evaluator.decide(c as Candidate));
    return { id: req.id, decisions };
  }
  const ctx = contexts.get(req.contextKey);
  if (!ctx) throw new Error(`no mapping context ${req.contextKey}`);
  const bodies: Array<{ body: JsonObject; problems: string[] }> = [];
  for (const item of req.items) bodies.push(await evaluator.body(item.candidate as Candidate, item.derived, ctx));
  return { id: req.id, bodies };
}
