import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds PostgreSQL has used: every live `postgres` process, plus what the postmaster's
 * exited children (backends that closed) used, which the kernel adds to its cutime and cstime.
 * Monotonic, but the machine is shared: other databases' work counts too.
 */
export function postgresCpuSeconds(): number {
  const procs = new Map<number, { ppid: number; own: number; children: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const p of procs.values()) total += p.own + (procs.has(p.ppid) ? 0 : p.children);
  return total;
}
