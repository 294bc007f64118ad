import type { ImportProgress } from '../services/import/importer.js';

const TTY_EVERY_MS = 200;
const LOG_EVERY_MS = 5_000;
const BAR = 24;

const PHASE: Record<ImportProgress['phase'] | 'upload', string> = {
  identify: 'checking',
  import: 'importing',
  consolidate: 'consolidating',
  upload: 'uploading',
};

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

type Progress = ImportProgress | { phase: 'upload'; bytes: number; lines: number };

/**
 * What `page-stats import` shows while it works, on stderr (stdout carries the report): a bar
 * redrawn in place on a terminal, a line every few seconds in a log. Rates and the ETA come from
 * the bytes of the file read so far against its size.
 */
export function progressReporter(file: string, totalBytes: number, out: NodeJS.WriteStream = process.stderr): { update(p: Progress): void; done(): void } {
  const tty = out.isTTY === true;
  let phase = '';
  let phaseStarted = Date.now();
  // In a log, the first line comes after a while: a small file leaves only its report.
  let last = tty ? 0 : Date.now();
  let drawn = false;
  let latest: Progress | undefined;
  // Redrawn on a timer too: consolidating the days reports nothing while it runs.
  const timer = setInterval(() => latest !== undefined && update(latest), tty ? 1_000 : LOG_EVERY_MS);
  timer.unref();
  function update(p: Progress): void {
    latest = p;
    const now = Date.now();
    if (p.phase !== phase) {
      phase = p.phase;
      phaseStarted = now;
      if (!tty && now - last < LOG_EVERY_MS) return;
    } else if (now - last < (tty ? TTY_EVERY_MS : LOG_EVERY_MS)) return;
    last = now;
    const seconds = Math.max(0.001, (now - phaseStarted) / 1000);
    const share = totalBytes > 0 ? Math.min(1, p.bytes / totalBytes) : 0;
    const eta = share > 0 && p.phase !== 'consolidate' ? duration((seconds / share) * (1 - share)) : '-';
    // The lines were read in the phase before: while the days are consolidated, the time it takes.
    const rate =
      p.phase === 'consolidate'
        ? `${duration(seconds)} so far`
        : p.lines > 0
          ? `${Math.round(p.lines / seconds).toLocaleString('en-US')} lines/s`
          : `${megabytes(p.bytes / seconds)}/s`;
    // Once uploaded, the running server reads, stores and consolidates it before it answers.
    const what = p.phase === 'upload' && share >= 1 ? 'on the server' : PHASE[p.phase];
    if (tty) {
      const filled = Math.round(share * BAR);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`;
      const text = `${file} ${what.padEnd(13)} ${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${p.lines.toLocaleString('en-US')} lines  ${rate}  ${megabytes(p.bytes)} / ${megabytes(totalBytes)}  ETA ${eta}`;
      out.write(`\r\u001b[2K${text}`);
      drawn = true;
    } else {
      out.write(
        `page-stats import: ${file}: ${what}, ${Math.round(share * 100)}% (${megabytes(p.bytes)} of ${megabytes(totalBytes)}), ${p.lines} lines, ${rate}, ETA ${eta}\n`,
      );
    }
  }
  return {
    update,
    done() {
      clearInterval(timer);
      if (drawn) out.write('\r\u001b[2K');
    },
  };
}
