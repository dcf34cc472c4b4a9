// The run history of a state file shared by parallel per-connection jobs.
import { expect } from 'chai';
import { emptyPlan, type Plan } from '../src/plan/plan-types.js';
import { emptyState } from '../src/state/state-db.js';
import { recordExcluded, startRun } from '../src/state/runs.js';

function planOf(connection: string): Plan {
  const plan = emptyPlan('p', 'r');
  plan.connections.push({ connection, configID: 1, endYear: 2026, resourceEnabled: true, candidates: 1, kept: 0, evaluated: 1, mapped: 0, identityRows: 0, deletes: 0, instance: '/data/v3', shared: 0, heldBack: 0 });
  plan.excluded.push({ connection, sourceKey: 'k=1', student: null, decision: { kind: 'excluded', ruleIds: ['x'], reasons: ['why'], outcomes: [] } });
  return plan;
}

describe('run history', function () {
  it("keeps each connection's excluded records for its own last five runs, whatever other connections run in between", function () {
    const db = emptyState();
    try {
      const first = startRun(db, 'sync', 'p', 's', 'uid-a', ['1:2026']);
      recordExcluded(db, first, planOf('1:2026'));
      const others: number[] = [];
      for (let i = 0; i < 8; i++) {
        const run = startRun(db, 'sync', 'p', 's', `uid-b${i}`, ['2:2026']);
        recordExcluded(db, run, planOf('2:2026'));
        others.push(run);
      }
      const kept = db.prepare('SELECT run_id AS run, connection FROM excluded ORDER BY run_id').all() as Array<{ run: number; connection: string }>;
      expect(kept).to.deep.equal([{ run: first, connection: '1:2026' }, ...others.slice(-5).map((run) => ({ run, connection: '2:2026' }))]);
      expect((db.prepare('SELECT run_uid AS uid, connections FROM runs WHERE run_id = ?').get(first))).to.deep.equal({ uid: 'uid-a', connections: '["1:2026"]' });
    } finally {
      db.close();
    }
  });
});
