// revoke-on-exit, bound-object, verify and require-permissions on the real API server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubectl, kubectlOk, uniqueName, untilRefused, useCluster, type TestCluster } from '../support/cluster.ts';
import { TEST_ROLES, apply, createNamespaceWithAccounts, createTestClusterRoles, grantTokenRequest, userKubeconfig } from '../support/fixtures.ts';
import { Job, listTree, type StepResult } from '../support/runner.ts';

const cluster: TestCluster = await useCluster();
const namespace = uniqueName('safety');
await createTestClusterRoles(cluster);
await createNamespaceWithAccounts(cluster, namespace, { deployer: TEST_ROLES.deployer, reader: TEST_ROLES.viewer });
await grantTokenRequest(cluster, 'token-minter', namespace, ['deployer', 'reader']);
const minter = userKubeconfig(cluster, 'token-minter');
const admin = userKubeconfig(cluster, 'admin');
const clusterSecrets = [cluster.adminToken, cluster.userToken('token-minter'), cluster.userToken('nobody')];

function newJob(): Job {
  return new Job({ secrets: clusterSecrets });
}

function assertSucceeded(step: StepResult): void {
  assert.equal(step.code, 0, `the step failed: ${step.errors.join(' | ')}`);
}

function assertFailedCleanly(step: StepResult, job: Job, message: RegExp): void {
  assert.equal(step.code, 1);
  assert.equal(step.errors.length, 1, `one ::error::, got ${JSON.stringify(step.errors)}`);
  assert.match(step.errors[0] ?? '', message);
  assert.deepEqual(listTree(job.runnerTemp), [], 'nothing left in RUNNER_TEMP');
}

/** kubectl with a written kubeconfig; whoami works for any identity, so it shows whether the token still authenticates. */
function whoami(kubeconfigPath: string) {
  return kubectl({ kubectl: cluster.kubectl, adminKubeconfigPath: kubeconfigPath }, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
}

/** How long until the API server refuses the token in the kubeconfig; fails the test after limitMs. */
async function waitUntilRejected(kubeconfigPath: string, limitMs = 20_000): Promise<number> {
  const refused = await untilRefused(cluster, { kubeconfig: kubeconfigPath }, limitMs);
  if (refused === undefined) assert.fail(`the token still works ${limitMs} ms after its bound object was deleted`);
  assert.match(refused.stderr, /Unauthorized|must be logged in/i);
  return refused.ms;
}

async function secretNames(ns: string): Promise<string[]> {
  const out = await kubectlOk(cluster, ['get', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=sa-kubeconfig', '-o', 'name']);
  return out.split('\n').filter((line) => line !== '');
}

describe('revoke-on-exit', () => {
  it('kills the token in the post step, not at expiry', async () => {
    const ns = uniqueName('revoke');
    await createNamespaceWithAccounts(cluster, ns, { deployer: TEST_ROLES.viewer });
    const job = newJob();
    const inputs = { kubeconfig: admin, namespace: ns, 'service-account': 'deployer', 'revoke-on-exit': 'true', cleanup: 'false' };
    const main = await job.main(inputs);
    assertSucceeded(main);
    const file = main.outputs['kubeconfig-path'] ?? '';
    assert.equal((await secretNames(ns)).length, 1, 'one labelled Secret while the job runs');
    assert.equal((await whoami(file)).stdout, `system:serviceaccount:${ns}:deployer`);
    assert.match(main.summary, /when the job ends \(Secret/);

    const post = await job.post(main, inputs);
    assert.equal(post.code, 0);
    assert.match(post.stdout, /Revoked the token: deleted Secret/);
    assert.deepEqual(await secretNames(ns), []);
    const tookMs = await waitUntilRejected(file);
    process.stderr.write(`revoke-on-exit: token refused ${tookMs} ms after the post step\n`);
  });

  it('refuses before minting when the bootstrap identity may not create and delete Secrets', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'deployer', 'revoke-on-exit': 'true' });
    assertFailedCleanly(main, job, /revoke-on-exit needs the bootstrap identity to create and delete Secrets in namespace "safety-[a-f0-9]+", and it may not create or delete them\. Grant it a Role in that namespace with the rule \{apiGroups: \[""\], resources: \["secrets"\], verbs: \["create", "delete"\]\}/);
    assert.deepEqual(main.masks.filter((mask) => mask.split('.').length === 3), [], 'no token was minted');
    assert.deepEqual(await secretNames(namespace), []);
  });

  it('deletes its Secret at once when a later check fails', async () => {
    const ns = uniqueName('revoke');
    await createNamespaceWithAccounts(cluster, ns, { deployer: TEST_ROLES.viewer });
    const job = newJob();
    const main = await job.main({ kubeconfig: admin, namespace: ns, 'service-account': 'deployer', 'revoke-on-exit': 'true', 'require-permissions': 'delete pods' });
    assertFailedCleanly(main, job, /lacks 1 of the 1 required permissions/);
    assert.deepEqual(await secretNames(ns), []);
  });
});

describe('bound-object', () => {
  it('binds the token to a Secret: deleting it revokes the token', async () => {
    await kubectlOk(cluster, ['create', 'secret', 'generic', 'job-anchor', '-n', namespace]);
    const job = newJob();
    const main = await job.main({ kubeconfig: admin, namespace, 'service-account': 'reader', 'bound-object': 'Secret/job-anchor' });
    assertSucceeded(main);
    const file = main.outputs['kubeconfig-path'] ?? '';
    assert.equal((await whoami(file)).code, 0);
    await kubectlOk(cluster, ['delete', 'secret', 'job-anchor', '-n', namespace]);
    await waitUntilRejected(file);
  });

  it('binds the token to a Pod that runs as the ServiceAccount', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner-pod', namespace }, spec: { serviceAccountName: 'reader', containers: [{ name: 'c', image: 'example.invalid/none' }] } };
    await apply(cluster, [JSON.stringify(pod)]);
    const job = newJob();
    const main = await job.main({ kubeconfig: admin, namespace, 'service-account': 'reader', 'bound-object': 'Pod/runner-pod' });
    assertSucceeded(main);
    const file = main.outputs['kubeconfig-path'] ?? '';
    assert.equal((await whoami(file)).code, 0);
    await kubectlOk(cluster, ['delete', 'pod', 'runner-pod', '-n', namespace, '--grace-period=0', '--force']);
    await waitUntilRejected(file);
  });

  it('fails clearly when the object does not exist', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: admin, namespace, 'service-account': 'reader', 'bound-object': 'Secret/not-there' });
    assertFailedCleanly(main, job, /Could not request a token for ServiceAccount "reader".*not found \(404\)/);
  });
});

describe('verify and require-permissions', () => {
  it('passes when every required permission is there', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'reader', 'require-permissions': 'get pods\nlist configmaps\n# a comment\nwatch pods' });
    assertSucceeded(main);
    assert.equal(main.outputs.username, `system:serviceaccount:${namespace}:reader`);
  });

  it('lists every missing permission with the rule that grants it, and writes nothing', async () => {
    const job = newJob();
    const main = await job.main({
      kubeconfig: minter,
      namespace,
      'service-account': 'reader',
      'require-permissions': 'get pods\ncreate deployments.apps\nget pods/log -n kube-system',
    });
    assertFailedCleanly(main, job, /lacks 2 of the 3 required permissions/);
    const message = main.errors[0] ?? '';
    assert.match(message, /create deployments\.apps \(namespace safety-[a-f0-9]+\): rule \{apiGroups: \["apps"\], resources: \["deployments"\], verbs: \["create"\]\}/);
    assert.match(message, /get pods\/log -n kube-system \(namespace kube-system\): rule \{apiGroups: \[""\], resources: \["pods\/log"\], verbs: \["get"\]\}/);
    assert.match(message, new RegExp(`bound to system:serviceaccount:${namespace}:reader`));
  });

  it('explains, without failing, a token whose audiences exclude the API server', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'reader', audiences: 'vault.example.com' });
    assertSucceeded(main);
    assert.equal(main.outputs.username, '');
    assert.ok(main.notices.some((notice) => /Not verified: the token is for audiences vault\.example\.com/.test(notice)), JSON.stringify(main.notices));
  });

  it('accepts a token for one of the API server\'s own audiences', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'reader', audiences: cluster.apiAudiences[0] ?? '' });
    assertSucceeded(main);
    assert.equal(main.outputs.username, `system:serviceaccount:${namespace}:reader`);
  });

  it('skips the check with verify: false', async () => {
    const job = newJob();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'reader', verify: 'false' });
    assertSucceeded(main);
    assert.equal(main.outputs.username, '');
    assert.match(main.summary, /not verified/);
  });
});
