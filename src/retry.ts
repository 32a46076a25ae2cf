/** How hard to try before giving up; see withRetry. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Upper bound for a server's Retry-After, so a confused server cannot stall the job. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/** What a failed attempt tells the retry loop. */
export interface Transience {
  /** A short reason for the notice, e.g. "HTTP 503" or "connection refused". */
  readonly reason: string;
  /** A wait the server asked for (Retry-After), or that its state calls for; else backoff decides. */
  readonly retryAfterMs: number | undefined;
}

export interface RetryHooks {
  /** undefined = the failure is permanent: stop and rethrow. */
  readonly classify: (error: unknown) => Transience | undefined;
  readonly onRetry: (attempt: number, maxAttempts: number, delayMs: number, reason: string) => void;
  /** Aborts the waiting between attempts; the step's deadline. */
  readonly signal: AbortSignal;
  readonly random?: () => number;
}

/** The error of the last attempt, with how many were made. */
export class RetriesExhausted extends Error {
  override name = 'RetriesExhausted';
  readonly attempts: number;
  readonly lastError: unknown;
  constructor(attempts: number, lastError: unknown) {
    super(`gave up after ${attempts} attempts`);
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

/**
 * Full-jitter exponential backoff (AWS' recommendation): matrix jobs that fail
 * together must not retry in lockstep. A Retry-After from the server wins, within
 * bounds. Gives up early when the next wait would pass the deadline.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, transience: Transience, random: () => number): number {
  if (transience.retryAfterMs !== undefined) return Math.min(transience.retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

export async function withRetry<T>(operation: () => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  const random = hooks.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const transience = hooks.classify(error);
      if (transience === undefined) throw error;
      // Out of attempts, or the deadline cut this one short: either way, say how many were made.
      if (hooks.signal.aborted || attempt >= policy.maxAttempts) throw new RetriesExhausted(attempt, error);
      const delayMs = backoffDelay(attempt, policy, transience, random);
      hooks.onRetry(attempt + 1, policy.maxAttempts, delayMs, transience.reason);
      const waited = await sleep(delayMs, hooks.signal);
      if (!waited) throw new RetriesExhausted(attempt, error);
    }
  }
}

/** Resolves true after ms, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
