import type { Database } from 'better-sqlite3';
import { ErrorLog } from '../state/error-log.js';
import { listRuns, type RunRow } from '../state/runs.js';

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A horizontal bar chart as inline SVG: no script, no external file, prints as it shows. */
function barChart(title: string, bars: Array<[string, number, string]>): string {
  if (bars.length === 0) return `<p class="muted">${esc(title)}: none</p>`;
  const max = Math.max(1, ...bars.map(([, n]) => n));
  const row = 26;
  const labelWidth = 330;
  const width = 760;
  const body = bars
    .map(([label, n, color], i) => {
      const w = Math.max(2, Math.round(((width - labelWidth - 70) * n) / max));
      const y = i * row + 28;
      return `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${esc(label)}</text>` +
        `<rect x="${labelWidth}" y="${y + 2}" width="${w}" height="18" fill="${color}"/>` +
        `<text x="${labelWidth + w + 6}" y="${y + 15}">${n}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="${esc(title)}" width="${width}" height="${bars.length * row + 36}" xmlns="http://www.w3.org/2000/svg">` +
    `<text x="0" y="16" class="chart-title">${esc(title)}</text>${body}</svg>`;
}

interface Summary {
  /** Each connection's outcome: a refused or stopped connection says why and what to do. */
  connections?: Array<{ connection: string; exitReason?: string; message?: string; fix?: string; counts?: { heldBack?: number; toSend?: number } }>;
  plan?: { operations?: Record<string, number>; keyChanges?: number; unchanged?: number; excludedByReason?: Record<string, number>; issues?: Record<string, number> };
  emit?: { created?: number; updated?: number; deleted?: number; alreadyGone?: number; failed?: number; heldBack?: number; failedByStatus?: Record<string, number>; failedByError?: Record<string, number>; aborted?: string };
}

/** One self-contained HTML page for a run: counts, a chart, the error log with fixes, excluded records by reason. */
export function htmlReport(db: Database, runId?: number): string {
  const runs = listRuns(db);
  // By default the last run that planned and sent: a sync, or the sync that ends a resync.
  const planned = (r: RunRow): boolean => r.command.startsWith('sync') || (r.command === 'resync' && Boolean(r.summary?.includes('"plan":{')));
  const run: RunRow | undefined = runId !== undefined ? runs.find((r) => r.run_id === runId) : [...runs].reverse().find(planned);
  if (!run) throw new Error(runId !== undefined ? `no run ${runId} in this state file` : 'no sync run in this state file yet');
  const s = (run.summary ? JSON.parse(run.summary) : {}) as Summary;
  const errors = new ErrorLog(db).list({ runId: run.run_id });
  const excluded = db.prepare('SELECT reasons, COUNT(*) AS n FROM excluded WHERE run_id = ? GROUP BY reasons ORDER BY n DESC').all(run.run_id) as Array<{ reasons: string; n: number }>;
  const excludedRows = db.prepare('SELECT connection, source_key, student, rule_ids, reasons FROM excluded WHERE run_id = ? ORDER BY reasons, connection, source_key LIMIT 500').all(run.run_id) as Array<Record<string, string>>;
  const e = s.emit ?? {};
  const counts: Array<[string, number]> = [
    ['Sent (new)', e.created ?? 0], ['Updated', e.updated ?? 0], ['Deleted', e.deleted ?? 0], ['Already gone', e.alreadyGone ?? 0],
    ['Unchanged', s.plan?.unchanged ?? 0], ['Held back', e.heldBack ?? 0], ['Failed', e.failed ?? 0],
  ];
  const byError = new Map<string, number>();
  for (const x of errors) byError.set(x.catalogueId ?? 'other', (byError.get(x.catalogueId ?? 'other') ?? 0) + 1);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edfi-rules-sync run ${run.run_id}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d2430;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
.muted{color:#667085} .cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde3ea;border-radius:8px;padding:10px 14px;min-width:110px} .card b{display:block;font-size:22px}
.bad b{color:#b42318} table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #eef1f5;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa} svg text{font-size:12px;fill:#1d2430} .chart-title{font-weight:600;font-size:13px}
.status{display:inline-block;border-radius:10px;padding:1px 8px;background:#e7f5ec;color:#067647} .status.partial,.status.failed,.status.aborted,.status.refused,.status.stopped,.status.interrupted{background:#fef0f0;color:#b42318} .status.held-back{background:#fffaeb;color:#b54708}
</style></head><body>
<h1>Ed-Fi sync: run ${run.run_id} <span class="status ${esc(run.status)}">${esc(run.status)}</span></h1>
<p class="muted">${esc(run.command)} · profile ${esc(run.profile)} · snapshot ${esc(run.snapshot)} · ${esc(run.started_at)} – ${esc(run.finished_at ?? 'running')}</p>
<div class="cards">${counts.map(([k, n]) => `<div class="card${k === 'Failed' && n > 0 ? ' bad' : ''}"><b>${n}</b>${esc(k)}</div>`).join('')}</div>
${e.aborted ? `<p class="status failed">Stopped early: ${esc(e.aborted)}</p>` : ''}
${(s.connections ?? []).length === 0 ? '' : `<h2>Connections</h2>
<table><tr><th>Connection</th><th>Outcome</th><th>Held back</th><th>Why, and what to do</th></tr>
${(s.connections ?? []).map((c) => `<tr><td>${esc(c.connection)}</td><td><span class="status ${c.exitReason === 'ok' ? '' : 'failed'}">${esc(c.exitReason ?? '')}</span></td><td>${c.counts?.heldBack ?? 0}</td><td>${esc(c.message ?? '')}${c.fix ? `<br><b>Fix:</b> ${esc(c.fix)}` : ''}</td></tr>`).join('\n')}</table>`}
<h2>Operations and errors</h2>
${barChart('Operations sent', [['POST (new)', e.created ?? 0, '#2e90fa'], ['PUT / upsert', e.updated ?? 0, '#53b1fd'], ['DELETE', e.deleted ?? 0, '#f79009'], ['key changes (DELETE + POST)', s.plan?.keyChanges ?? 0, '#fdb022']])}
${barChart('Errors by type (error log)', [...byError].map(([k, n]) => [k, n, '#f04438'] as [string, number, string]))}
<h2>Error log (${errors.length})</h2>
${errors.length === 0 ? '<p class="muted">No errors in this run.</p>' : `<table><tr><th>Record</th><th>Status</th><th>API message</th><th>Spec error</th><th>Possible causes / how to fix</th></tr>
${errors.map((x) => `<tr><td>${esc(x.method)} ${esc(x.sourceKey)}<br><span class="muted">student ${esc(x.student)} · ${esc(x.connection)}</span></td><td>${esc(x.status)} ${esc(x.level)}</td><td>${esc(x.message)}</td><td>${esc(x.specMessage)}<br><span class="muted">${esc(x.catalogueId)}</span></td><td>${esc(x.cause)}<br><b>Fix:</b> ${esc(x.fix)}</td></tr>`).join('\n')}</table>`}
<h2>Not sent, by reason</h2>
${excluded.length === 0 ? '<p class="muted">No records were kept out by the rules.</p>' : `<table><tr><th>Reason</th><th>Records</th></tr>${excluded.map((x) => `<tr><td>${esc(x.reasons)}</td><td>${x.n}</td></tr>`).join('')}</table>
<details><summary>Records (first 500)</summary><table><tr><th>Connection</th><th>Record</th><th>Student</th><th>Rules</th></tr>${excludedRows.map((x) => `<tr><td>${esc(x.connection)}</td><td>${esc(x.source_key)}</td><td>${esc(x.student)}</td><td>${esc(x.rule_ids)}</td></tr>`).join('')}</table></details>`}
</body></html>
`;
}
