// Runs the action's main and post steps on a fresh job and checks the outcome the
// way every fault test wants it: one clear error, no secret shown, nothing left behind.
import assert from 'node:assert/strict';
import { Job, listTree, type StepResult } from './runner.ts';

export interface Run {
  job: Job;
  main: StepResult;
  post: StepResult;
  /** How long the main step took, in seconds. */
  seconds: number;
}

/** Main, then its post step with the same inputs and environment. */
export async function runMainAndPost(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<Run> {
  const job = new Job();
  const began = performance.now();
  const main = await job.main(inputs, env);
  const seconds = (performance.now() - began) / 1000;
  const post = await job.post(main, inputs, env);
  return { job, main, post, seconds };
}

function describeStep(step: StepResult): string {
  return `exit ${step.code}; errors: ${step.errors.join(' | ') || '(none)'}\n--- stdout\n${step.stdout}--- stderr\n${step.stderr}`;
}

/** The post step ran cleanly and RUNNER_TEMP holds nothing. */
function assertCleanedUp(run: Run): void {
  assert.equal(run.post.code, 0, `post step: ${describeStep(run.post)}`);
  assert.deepEqual(run.post.errors, []);
  assert.deepEqual(listTree(run.job.runnerTemp), [], 'RUNNER_TEMP is empty after main and post');
}

export function assertSucceeded(run: Run): void {
  assert.equal(run.main.code, 0, describeStep(run.main));
  assert.deepEqual(run.main.errors, []);
  assertCleanedUp(run);
}

/**
 * The main step failed with exactly one ::error:: matching pattern, which it
 * returns; no secret appears in anything either step printed; nothing is left in RUNNER_TEMP.
 */
export function assertFailedWith(run: Run, pattern: RegExp, secrets: readonly string[]): string {
  const { main } = run;
  assert.equal(main.code, 1, describeStep(main));
  assert.equal(main.errors.length, 1, `exactly one ::error::\n${describeStep(main)}`);
  const [error = ''] = main.errors;
  assert.match(error, pattern);
  assert.doesNotMatch(error, /\n\s+at /, 'no stack trace');
  for (const step of [main, run.post]) {
    const printed = `${step.stdout.replace(/^::add-mask::.*$/gm, '')}\n${step.stderr}`;
    for (const secret of [...secrets, ...main.masks]) assert.ok(!printed.includes(secret), `a secret (${secret.slice(0, 4)}…) was printed`);
  }
  assertCleanedUp(run);
  return error;
}

/** The retry notices, e.g. `Could not … (HTTP 503); attempt 2 of 6 in 0.4s.` */
export function retryNotices(step: StepResult): string[] {
  return step.notices.filter((notice) => /; attempt \d+ of \d+ in \d+\.\ds\.$/.test(notice));
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
