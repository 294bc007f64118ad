import { readFileSync, writeFileSync } from 'node:fs';
import { median, sleep } from './stats.js';

const MiB = 2 ** 20;

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: the peak since the last reset). */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export const rssBytes = (pid: number): number | undefined => statusBytes(pid, 'VmRSS');

/** Resets the kernel's peak-RSS mark of a process (writing 5 to clear_refs); false where not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface MemoryReading {
  idleMiB: number;
  peakMiB: number;
  /** peak − idle */
  aboveIdleMiB: number;
  /** how the peak was taken: the kernel's high-water mark, or samples every few ms */
  source: 'VmHWM' | 'samples';
}

/**
 * The server's resident memory while `work` runs, against its idle memory just before: idle is
 * the median of samples over a quiet second; the peak is the kernel's high-water mark since then
 * (reset first) or, where that cannot be reset, the largest of samples taken every 10 ms.
 */
export async function measureMemory<T>(pid: number, work: () => Promise<T>): Promise<{ memory: MemoryReading; result: T }> {
  const idleSamples: number[] = [];
  for (let i = 0; i < 20; i++) {
    idleSamples.push(rssBytes(pid) ?? Number.NaN);
    await sleep(50);
  }
  const idle = median(idleSamples);
  const kernelPeak = resetPeak(pid);
  let sampledPeak = idle;
  const timer = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, rssBytes(pid) ?? 0);
  }, 10);
  try {
    const result = await work();
    const hwm = kernelPeak ? statusBytes(pid, 'VmHWM') : undefined;
    const peak = Math.max(sampledPeak, hwm ?? 0);
    return {
      memory: { idleMiB: idle / MiB, peakMiB: peak / MiB, aboveIdleMiB: (peak - idle) / MiB, source: hwm === undefined ? 'samples' : 'VmHWM' },
      result,
    };
  } finally {
    clearInterval(timer);
  }
}
