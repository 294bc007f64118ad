import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/**
 * CPU time PostgreSQL spends on one database: its backends (and autovacuum workers), which name
 * the database in their process title. A backend's time is lost to this count when it exits,
 * so they are sampled every 100 ms and each one's last reading kept; the shared processes (WAL
 * writer, checkpointer) are not counted. The machine's other databases do not count either.
 */
export class DatabaseCpu {
  /** CPU seconds per backend: at its first sample (0 if it started after us) and at its last */
  private readonly backends = new Map<number, { first: number; last: number }>();
  private readonly others = new Set<number>();
  private readonly timer: NodeJS.Timeout;
  private readonly title: string;
  private started = false;

  constructor(databaseUrl: string) {
    this.title = ` ${decodeURIComponent(new URL(databaseUrl).pathname.slice(1))} `;
    this.sample();
    this.started = true;
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  private sample(): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (this.others.has(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) {
          this.others.add(pid);
          continue;
        }
        let seen = this.backends.get(pid);
        if (seen === undefined) {
          const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
          if (!`${cmdline} `.includes(this.title)) {
            // A new backend shows the postmaster's command line until it has set its title.
            if (cmdline.startsWith('postgres: ')) this.others.add(pid);
            continue;
          }
        }
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cpu = (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
        if (seen === undefined) this.backends.set(pid, (seen = { first: this.started ? 0 : cpu, last: cpu }));
        seen.last = cpu;
      } catch {
        // exited meanwhile: its last reading stays
      }
    }
  }

  /** CPU seconds since construction. */
  seconds(): number {
    this.sample();
    let total = 0;
    for (const b of this.backends.values()) total += b.last - b.first;
    return total;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
