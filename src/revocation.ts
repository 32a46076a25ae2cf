import { randomBytes } from 'node:crypto';
import { MANAGED_BY_LABEL, type ClusterApi } from './cluster-api.ts';
import { UserFacingError } from './errors.ts';
import type { Logger } from './logger.ts';

/** The per-invocation Secret a revocable token is bound to. */
export interface RevocationSecret {
  readonly namespace: string;
  readonly name: string;
}

/** Unique per invocation: matrix legs and reruns each get their own. */
export function revocationSecretName(serviceAccount: string): string {
  const suffix = randomBytes(5).toString('hex');
  return `sa-kubeconfig-${serviceAccount.slice(0, 200).replace(/\./g, '-')}-${suffix}`;
}

const SECRET_RULE = '{apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete"]}';

/**
 * Refuses revoke-on-exit before anything is minted when the bootstrap identity
 * could create the Secret but not delete it again (the token would then live to
 * its expiry, silently).
 */
export async function checkRevocationAllowed(api: ClusterApi, namespace: string): Promise<void> {
  const missing: string[] = [];
  for (const verb of ['create', 'delete']) {
    const allowed = await api.canI(
      { namespace, verb, group: '', resource: 'secrets', subresource: '' },
      { action: `check whether the bootstrap identity may ${verb} Secrets in namespace "${namespace}"` },
    );
    if (!allowed) missing.push(verb);
  }
  if (missing.length > 0) {
    throw new UserFacingError(
      `revoke-on-exit needs the bootstrap identity to create and delete Secrets in namespace "${namespace}", and it may not ${missing.join(' or ')} them. Grant it a Role in that namespace with the rule ${SECRET_RULE}, or turn revoke-on-exit off.`,
    );
  }
}

/**
 * Creates the Secret the token will be bound to; `record` runs first, so the
 * post step can delete the Secret even if this step dies right after creating it.
 */
export async function createRevocationSecret(
  api: ClusterApi,
  secret: RevocationSecret,
  serviceAccount: string,
  record: (secret: RevocationSecret) => void,
  logger: Logger,
): Promise<string> {
  record(secret);
  const uid = await api.createSecret(
    secret.namespace,
    secret.name,
    { ...MANAGED_BY_LABEL, 'sa-kubeconfig/service-account': serviceAccount.slice(0, 63).replace(/[.-]+$/, '') },
    {
      action: `create the revocation Secret "${secret.name}" in namespace "${secret.namespace}"`,
      requiredRule: { rule: SECRET_RULE, namespace: secret.namespace },
      notFound: `Namespace "${secret.namespace}" does not exist; set create-service-account: true to create it.`,
    },
  );
  logger.info(`Created Secret ${secret.namespace}/${secret.name}; the token dies when the post step deletes it.`);
  return uid;
}

/** Deletes the Secret, which makes every token bound to it fail from then on. */
export async function deleteRevocationSecret(api: ClusterApi, secret: RevocationSecret): Promise<boolean> {
  return api.deleteSecret(secret.namespace, secret.name, {
    action: `delete the revocation Secret "${secret.name}" in namespace "${secret.namespace}"`,
    requiredRule: { rule: SECRET_RULE, namespace: secret.namespace },
  });
}
