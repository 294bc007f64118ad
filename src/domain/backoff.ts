/** Exponential backoff: `base * 2 ** attempt` milliseconds, never more than `cap`. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
}

/**
 * Waits `ms`, or less when `signal` aborts: a shutdown must not wait out a backoff. Resolves
 * either way (never rejects), so the caller's loop looks at its own stop condition next.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The pause before retry number `attempt`, cut short by `signal`. */
export function backoff(attempt: number, policy: BackoffPolicy, signal?: AbortSignal): Promise<void> {
  return pause(backoffDelay(attempt, policy), signal);
}
