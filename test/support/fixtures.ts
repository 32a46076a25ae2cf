// Objects the action's integration tests need on the real cluster, made with the admin kubectl.
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import type { TestCluster } from './cluster.ts';
import { kubectlOk } from './cluster.ts';

/**
 * Creates or updates objects. Server-side apply, because test files run
 * concurrently against one cluster: a client-side apply of the same object from
 * two of them races (both see it missing, one create fails with AlreadyExists).
 */
export async function apply(cluster: TestCluster, documents: readonly string[]): Promise<void> {
  await kubectlOk(cluster, ['apply', '--server-side', '--force-conflicts', '--field-manager=sa-kubeconfig-tests', '-f', '-'], { input: documents.join('\n---\n') });
}

/**
 * ClusterRoles with explicit rules. The built-in edit and view are aggregated by
 * kube-controller-manager, which the test cluster does not run, so they are empty here.
 */
export const TEST_ROLES = { deployer: 'test-deployer', viewer: 'test-viewer' } as const;

export async function createTestClusterRoles(cluster: TestCluster): Promise<void> {
  const roles = [
    { name: TEST_ROLES.deployer, rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'pods/log', 'configmaps', 'deployments'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] },
    { name: TEST_ROLES.viewer, rules: [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list', 'watch'] }] },
  ];
  const documents = roles.map((role) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role.name }, rules: role.rules }));
  await apply(cluster, documents);
}

/** A namespace with ServiceAccounts; each may be bound to a ClusterRole (view, edit, …) there. */
export async function createNamespaceWithAccounts(cluster: TestCluster, namespace: string, accounts: Record<string, string | undefined>): Promise<void> {
  const documents = [`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${namespace}"}}`];
  for (const [account, clusterRole] of Object.entries(accounts)) {
    documents.push(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"${account}","namespace":"${namespace}"}}`);
    if (clusterRole !== undefined) {
      documents.push(
        `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"${account}-${clusterRole}","namespace":"${namespace}"},` +
          `"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"${clusterRole}"},` +
          `"subjects":[{"kind":"ServiceAccount","name":"${account}","namespace":"${namespace}"}]}`,
      );
    }
  }
  await apply(cluster, documents);
}

/** An RBAC rule, as in a Role's `rules`. */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** A Role named `name` with `rules` in the namespace, bound to a (static-token) user. */
export async function grantUser(cluster: TestCluster, user: string, namespace: string, name: string, rules: readonly Rule[]): Promise<void> {
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  };
  await apply(cluster, [JSON.stringify(role), JSON.stringify(binding)]);
}

/** Grants a user exactly the documented minimal rule: create serviceaccounts/token for the named accounts. */
export async function grantTokenRequest(cluster: TestCluster, user: string, namespace: string, accounts: string[]): Promise<void> {
  await grantUser(cluster, user, namespace, `${user}-mints`, [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'], resourceNames: accounts }]);
}

/** A kubeconfig for one of the cluster's static-token users. */
export function userKubeconfig(cluster: TestCluster, user: 'token-minter' | 'nobody' | 'admin'): string {
  const token = user === 'admin' ? cluster.adminToken : cluster.userToken(user);
  return kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user, credentials: { token } });
}
