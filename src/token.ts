import type { ClusterApi, IssuedToken, TokenSpec } from './cluster-api.ts';
import { formatDuration } from './duration.ts';
import type { Logger } from './logger.ts';
import { ruleFor } from './permissions.ts';

export interface TokenRequestInput extends TokenSpec {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface MintedToken extends IssuedToken {
  /** True when the server granted less than was asked. */
  readonly shortened: boolean;
}

/** The Role rule a bootstrap identity needs to mint for this one ServiceAccount and no other. */
export function tokenRequestRule(serviceAccount: string): string {
  return ruleFor({ line: '', verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: undefined })
    .replace(/}$/, `, resourceNames: ["${serviceAccount}"]}`);
}

/**
 * Asks for the token and hands it to logger.secret before anything else sees
 * it. A shorter life than asked (the server's --service-account-max-token-expiration)
 * is a warning with the real expiry, not a failure.
 */
export async function requestToken(api: ClusterApi, input: TokenRequestInput, logger: Logger): Promise<MintedToken> {
  const { namespace, serviceAccount } = input;
  const issued = await api.requestToken(namespace, serviceAccount, input, {
    action: `request a token for ServiceAccount "${serviceAccount}" in namespace "${namespace}"`,
    requiredRule: { rule: tokenRequestRule(serviceAccount), namespace },
    notFound: `ServiceAccount "${serviceAccount}" or namespace "${namespace}" does not exist (or the bound object is missing). Create it, or set create-service-account: true.`,
    invalidHint: 'Check expiration (at least 10m), audiences and bound-object.',
  });
  logger.secret(issued.token);
  const granted = issued.expirationSeconds ?? Math.round((issued.expirationTimestamp.getTime() - Date.now()) / 1000);
  const shortened = granted < input.expirationSeconds;
  if (shortened) {
    logger.warning(
      `The API server shortened the token's life from ${formatDuration(input.expirationSeconds)} to ${formatDuration(granted)}: it expires at ${issued.expirationTimestamp.toISOString()}. Ask for ${formatDuration(granted)} or less, or raise the server's --service-account-max-token-expiration.`,
    );
  }
  return { ...issued, shortened };
}
