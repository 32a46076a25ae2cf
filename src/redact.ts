import { isUserFacing } from './errors.ts';

/**
 * A last line of defence behind the runner's own masking (and the only one for
 * the CLI): every message passes through here before it is printed.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string): void {
    if (secret.length >= 4) this.#secrets.add(secret);
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) result = result.split(secret).join('***');
    return result;
  }
}

/** One line for a failure: the message of an expected error; for a bug, its type and first line, never a stack. */
export function failureMessage(error: unknown): string {
  if (isUserFacing(error)) return error.message;
  const summary = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0] ?? ''}` : String(error);
  return `Unexpected failure (a bug in sa-kubeconfig; please report it): ${summary}`;
}
