import type { ClusterApi } from './cluster-api.ts';
import { KubeCallError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface ProvisionRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly createServiceAccount: boolean;
  readonly clusterRole: string | undefined;
}

function ensureServiceAccount(api: ClusterApi, namespace: string, serviceAccount: string): Promise<boolean> {
  return api.ensureServiceAccount(namespace, serviceAccount, {
    action: `create ServiceAccount "${serviceAccount}" in namespace "${namespace}"`,
    requiredRule: { rule: '{apiGroups: [""], resources: ["serviceaccounts"], verbs: ["create"]}', namespace },
  });
}

/** The RoleBinding's name: one per ServiceAccount and ClusterRole, so reruns find their own. */
export function roleBindingName(serviceAccount: string, clusterRole: string): string {
  const name = `${serviceAccount}-${clusterRole}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  return name.length <= 253 ? name : name.slice(0, 253).replace(/[.-]+$/, '');
}

/**
 * What the seed script did with kubectl: namespace and ServiceAccount when
 * missing, and a RoleBinding to a ClusterRole. Idempotent: existing objects are
 * left as they are.
 */
export async function provision(api: ClusterApi, request: ProvisionRequest, logger: Logger): Promise<void> {
  const { namespace, serviceAccount } = request;
  if (request.createServiceAccount) {
    // The ServiceAccount first: when the namespace exists (the usual case), the
    // bootstrap identity needs no cluster-wide right to create namespaces.
    let accountCreated: boolean;
    try {
      accountCreated = await ensureServiceAccount(api, namespace, serviceAccount);
    } catch (error) {
      if (!(error instanceof KubeCallError && error.httpStatus === 404)) throw error;
      const namespaceCreated = await api.ensureNamespace(namespace, {
        action: `create namespace "${namespace}"`,
        requiredRule: { rule: '{apiGroups: [""], resources: ["namespaces"], verbs: ["create"]} (a ClusterRole)', namespace: undefined },
      });
      logger.info(namespaceCreated ? `Created namespace ${namespace}.` : `Namespace ${namespace} exists.`);
      accountCreated = await ensureServiceAccount(api, namespace, serviceAccount);
    }
    logger.info(accountCreated ? `Created ServiceAccount ${namespace}/${serviceAccount}.` : `ServiceAccount ${namespace}/${serviceAccount} exists.`);
  }
  if (request.clusterRole !== undefined) {
    const name = roleBindingName(serviceAccount, request.clusterRole);
    const created = await api.ensureRoleBinding(namespace, name, request.clusterRole, serviceAccount, {
      action: `bind ServiceAccount "${serviceAccount}" to ClusterRole "${request.clusterRole}" in namespace "${namespace}"`,
      requiredRule: {
        rule: `{apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"]}, plus every permission of ClusterRole ${request.clusterRole} (or "bind" on it)`,
        namespace,
      },
      notFound: `Namespace "${namespace}" does not exist; set create-service-account: true to create it.`,
    });
    logger.info(created ? `Created RoleBinding ${namespace}/${name} to ClusterRole ${request.clusterRole}.` : `RoleBinding ${namespace}/${name} exists; left as it is.`);
  }
}
