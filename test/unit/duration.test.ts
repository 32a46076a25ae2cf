import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/duration.ts';

describe('parseDuration', () => {
  const cases: [string, number][] = [
    ['10m', 600], ['1h', 3600], ['1h30m', 5400], ['3600s', 3600], ['3600', 3600], ['2h0m5s', 7205], [' 15m ', 900],
  ];
  for (const [text, seconds] of cases) it(`reads ${JSON.stringify(text)} as ${seconds}s`, () => assert.equal(parseDuration(text, 'x'), seconds));

  for (const text of ['', 'h', '1d', '1.5h', '-10m', '10 m', '1m1h']) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseDuration(text, 'expiration'), /Invalid expiration/));
  }
});

describe('formatDuration', () => {
  for (const [seconds, text] of [[3600, '1h'], [5400, '1h30m'], [90, '1m30s'], [0, '0s'], [172800, '48h']] as const) {
    it(`writes ${seconds}s as ${text}`, () => assert.equal(formatDuration(seconds), text));
  }
});
