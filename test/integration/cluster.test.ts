// Smoke tests of the test cluster itself: the real server, RBAC enforced, and
// TokenRequest rules as the action will meet them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from '../cluster/cluster.ts';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import { kubectl, kubectlOk, uniqueName, useCluster, type TestCluster } from '../support/cluster.ts';

const cluster = await useCluster();

/** A fresh namespace holding ServiceAccounts of the given names. */
async function namespaceWith(...serviceAccounts: string[]): Promise<string> {
  const namespace = uniqueName('smoke');
  await kubectlOk(cluster, ['create', 'namespace', namespace]);
  for (const name of serviceAccounts) await kubectlOk(cluster, ['create', 'serviceaccount', name, '-n', namespace]);
  return namespace;
}

function claims(token: string): { iat: number; exp: number; sub: string; aud: string[] } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
}

test('the server and kubectl are v1.37.2', async () => {
  const version = JSON.parse(await kubectlOk(cluster, ['version', '-o', 'json']));
  assert.equal(version.serverVersion.gitVersion, 'v1.37.2');
  assert.equal(version.clientVersion.gitVersion, 'v1.37.2');
});

test('RBAC is enforced: a ServiceAccount without rights may not mint a token for another', async () => {
  const namespace = await namespaceWith('asker', 'target');
  const token = (await kubectlOk(cluster, ['create', 'token', 'asker', '-n', namespace])).trim();
  const denied = await kubectl(cluster, ['create', 'token', 'target', '-n', namespace], { token });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, new RegExp(`serviceaccounts "target" is forbidden: User "system:serviceaccount:${namespace}:asker" ` +
    'cannot create resource "serviceaccounts/token" in API group "" in the namespace'));
});

test('TokenRequest: 10 minutes is accepted, 5 minutes refused by the server', async () => {
  const namespace = await namespaceWith('target');
  const token = (await kubectlOk(cluster, ['create', 'token', 'target', '-n', namespace, '--duration=10m'])).trim();
  const { iat, exp, sub, aud } = claims(token);
  assert.equal(exp - iat, 600);
  assert.equal(sub, `system:serviceaccount:${namespace}:target`);
  assert.deepEqual(aud, cluster.apiAudiences);

  const refused = await kubectl(cluster, ['create', 'token', 'target', '-n', namespace, '--duration=5m']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /may not specify a duration less than 10 minutes/);
});

test('a user granted create on serviceaccounts/token can mint, and not before', async () => {
  const namespace = await namespaceWith('target');
  const asMinter = { token: cluster.userToken('token-minter') };
  const before = await kubectl(cluster, ['create', 'token', 'target', '-n', namespace], asMinter);
  assert.match(before.stderr, /User "token-minter" cannot create resource "serviceaccounts\/token"/);

  await kubectlOk(cluster, ['apply', '-n', namespace, '-f', '-'], { input: minterRbac(namespace) });
  assert.match(await mintEventually(cluster, namespace, asMinter.token), /^ey/);
});

test('client certificates from issueClientCert authenticate as their user and groups', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  const credentials = await cluster.issueClientCert('alice', ['testers', 'readers']);
  await writeFile(kubeconfig, kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user: 'alice', credentials }));
  const review = JSON.parse(await kubectlOk(cluster, ['auth', 'whoami', '-o', 'json'], { kubeconfig }));
  assert.equal(review.status.userInfo.username, 'alice');
  assert.deepEqual(review.status.userInfo.groups, ['testers', 'readers', 'system:authenticated']);
});

test('startCluster failures name the log and show its last lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-failing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'kube-apiserver.log');
  await assert.rejects(
    startCluster({ dir, binDir: cluster.binDir, extraApiServerArgs: ['--no-such-flag'], progress: () => {} }),
    (error: Error) => {
      assert.ok(error.message.startsWith('kube-apiserver exited during start-up (exit code 1)'), error.message);
      assert.ok(error.message.includes(`The last lines of ${log}:`), error.message);
      assert.match(error.message, /unknown flag: --no-such-flag/);
      return true;
    },
  );
  assert.ok(existsSync(log), 'the log named in the error is kept');
  assert.ok(!existsSync(join(dir, 'pids.json')), 'nothing is left running');
});

function minterRbac(namespace: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: token-minter, namespace: ${namespace}}
rules:
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: token-minter, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: token-minter}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: token-minter}
`;
}

/** RBAC reads grants from an informer cache, so a new RoleBinding takes a moment to apply. */
async function mintEventually(cluster: TestCluster, namespace: string, token: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const result = await kubectl(cluster, ['create', 'token', 'target', '-n', namespace], { token });
    if (result.code === 0) return result.stdout.trim();
    if (attempt === 25) assert.fail(`token-minter still cannot mint: ${result.stderr}`);
    await sleep(200);
  }
}
