/**
 * Progress of a long run: a bar redrawn in place on a terminal, a plain line every 10% in a log file,
 * so the scheduled job's log stays readable.
 */
export class Progress {
  private lastPct = -1;
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(private readonly label: string, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY) && process.env.CI === undefined;
  }

  update(done: number, total: number): void {
    if (total <= 0) return;
    const pct = Math.floor((done / total) * 100);
    if (this.tty) {
      if (pct === this.lastPct && done !== total) return;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const rate = done / Math.max(0.001, (Date.now() - this.started) / 1000);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${pct}% ${rate.toFixed(0)}/s`);
      if (done === total) this.stream.write('\n');
    } else {
      const step = Math.floor(pct / 10) * 10;
      if (step === this.lastPct) return;
      this.stream.write(`${this.label}: ${done}/${total} (${step}%)\n`);
      this.lastPct = step;
      return;
    }
    this.lastPct = pct;
  }
}

/** Progress of planning, where the total is not known in advance: a line redrawn on a terminal, silent in logs. */
export function planningProgress(stream: NodeJS.WriteStream = process.stderr): ((done: number, connection: string) => void) | undefined {
  if (!stream.isTTY || process.env.CI !== undefined) return undefined;
  // Cleared after each write's line: the plan summary that follows starts on a clean line.
  return (done, connection) => stream.write(`\rplanning connection ${connection}: ${done} records read\x1b[K\r`);
}
