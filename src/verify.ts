import type { ClusterApi } from './cluster-api.ts';
import { KubeCallError, UserFacingError } from './errors.ts';
import type { Logger } from './logger.ts';
import { ruleFor, type PermissionRequirement } from './permissions.ts';

export interface VerifyRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  readonly verify: boolean;
  readonly requirePermissions: readonly PermissionRequirement[];
}

/**
 * Proves the new kubeconfig works before anyone relies on it: SelfSubjectReview
 * says who the token is, SelfSubjectAccessReviews say whether it may do what the
 * job needs. Returns the username, or undefined when it could not be asked.
 */
export async function verifyToken(api: ClusterApi, request: VerifyRequest, logger: Logger): Promise<string | undefined> {
  let username: string | undefined;
  if (request.verify) {
    try {
      username = await api.whoAmI({ action: 'confirm who the new token is (SelfSubjectReview)' });
      const expected = `system:serviceaccount:${request.namespace}:${request.serviceAccount}`;
      if (username !== expected) {
        throw new UserFacingError(`The new token authenticates as "${username}", not "${expected}". Check the bootstrap cluster's server and the service-account input.`);
      }
      logger.info(`Verified: the new kubeconfig authenticates as ${username}.`);
    } catch (error) {
      if (!(error instanceof KubeCallError)) throw error;
      if (error.httpStatus === 401 && request.audiences.length > 0) {
        logger.notice(
          `Not verified: the token is for audiences ${request.audiences.join(', ')}, which this API server does not accept, so it cannot check the token. That is expected for tokens meant for another service; set verify: false to skip this check.`,
        );
        if (request.requirePermissions.length > 0) {
          throw new UserFacingError('require-permissions needs a token the API server accepts: leave audiences empty, or include one of the API server\'s audiences.');
        }
        return undefined;
      }
      if (error.httpStatus === 404) {
        logger.notice('Not verified: this API server has no SelfSubjectReview API (authentication.k8s.io/v1, Kubernetes 1.28+). Set verify: false to skip this check.');
      } else {
        throw error;
      }
    }
  }
  await checkPermissions(api, request);
  return username;
}

async function checkPermissions(api: ClusterApi, request: VerifyRequest): Promise<void> {
  if (request.requirePermissions.length === 0) return;
  const missing: PermissionRequirement[] = [];
  for (const requirement of request.requirePermissions) {
    const namespace = requirement.namespace ?? request.namespace;
    const allowed = await api.canI(
      { ...requirement, namespace },
      { action: `check "${requirement.line}" for the new token (SelfSubjectAccessReview)` },
    );
    if (!allowed) missing.push({ ...requirement, namespace });
  }
  if (missing.length === 0) return;
  const subject = `system:serviceaccount:${request.namespace}:${request.serviceAccount}`;
  const lines = missing.map((requirement) => `  - ${requirement.line} (namespace ${requirement.namespace}): rule ${ruleFor(requirement)}`);
  throw new UserFacingError(
    [
      `ServiceAccount ${request.namespace}/${request.serviceAccount} lacks ${missing.length} of the ${request.requirePermissions.length} required permissions:`,
      ...lines,
      `Grant them with a Role holding those rules in each namespace named, bound to ${subject} with a RoleBinding.`,
    ].join('\n'),
  );
}
