import { InputError } from './errors.ts';

/**
 * Parses `10m`, `1h`, `1h30m`, `3600s` or a bare number of seconds, the forms
 * `kubectl create token --duration` and Go's time.ParseDuration users know.
 * Returns whole seconds.
 */
export function parseDuration(input: string, inputName: string): number {
  const text = input.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (text === '' || match === null) {
    throw new InputError(
      `Invalid ${inputName} '${input}'. Expected a duration such as 10m, 1h, 1h30m, 3600s or a number of seconds.`,
    );
  }
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** Formats seconds the way users write them: 3600 -> 1h, 5400 -> 1h30m, 90 -> 1m30s. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('');
  return parts === '' ? '0s' : parts;
}
