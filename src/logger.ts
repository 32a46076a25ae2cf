/**
 * Where the core reports progress. The action maps it to @actions/core, the CLI
 * to stderr, tests to an array; the core never prints by itself.
 */
export interface Logger {
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** Registers a secret so no later output can show it. Called before the value is used. */
  secret(value: string): void;
}
