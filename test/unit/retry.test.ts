import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, RetriesExhausted, backoffDelay, withRetry } from '../../src/retry.ts';

const transient = { reason: 'HTTP 503', retryAfterMs: undefined };
const fast = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 2 };

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, DEFAULT_RETRY_POLICY, transient, () => 1));
    assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 8000]);
    assert.equal(backoffDelay(3, DEFAULT_RETRY_POLICY, transient, () => 0), 0);
  });
  it('honours Retry-After within its bound', () => {
    assert.equal(backoffDelay(1, DEFAULT_RETRY_POLICY, { reason: '429', retryAfterMs: 3000 }, () => 0.5), 3000);
    assert.equal(backoffDelay(1, DEFAULT_RETRY_POLICY, { reason: '429', retryAfterMs: 3_600_000 }, () => 0.5), 30_000);
  });
});

describe('withRetry', () => {
  const hooks = (log: string[], signal = new AbortController().signal) => ({
    classify: (error: unknown) => (error instanceof Error && error.message === 'transient' ? transient : undefined),
    onRetry: (attempt: number, max: number) => log.push(`${attempt}/${max}`),
    signal,
  });

  it('retries a transient failure until it succeeds, reporting each retry', async () => {
    const log: string[] = [];
    let calls = 0;
    const result = await withRetry(async () => (++calls < 3 ? Promise.reject(new Error('transient')) : 'ok'), fast, hooks(log));
    assert.equal(result, 'ok');
    assert.deepEqual(log, ['2/6', '3/6']);
  });
  it('stops at once on a permanent failure', async () => {
    let calls = 0;
    await assert.rejects(withRetry(async () => { calls++; throw new Error('permanent'); }, fast, hooks([])), /permanent/);
    assert.equal(calls, 1);
  });
  it('gives up after maxAttempts with the last error', async () => {
    let calls = 0;
    await assert.rejects(withRetry(async () => { calls++; throw new Error('transient'); }, fast, hooks([])), (error: unknown) => error instanceof RetriesExhausted && error.attempts === 6);
    assert.equal(calls, 6);
  });
  it('stops waiting when the deadline passes', async () => {
    const controller = new AbortController();
    const slow = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await assert.rejects(withRetry(async () => { throw new Error('transient'); }, slow, { ...hooks([], controller.signal), random: () => 1 }), RetriesExhausted);
    assert.ok(Date.now() - started < 10_000, 'did not sit out the 60 s backoff');
  });
});
