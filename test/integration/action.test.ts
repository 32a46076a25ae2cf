// The bundled action, run as the runner runs it, against the real API server;
// kubectl proves each kubeconfig it writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubectl, kubectlOk, uniqueName, useCluster, type TestCluster } from '../support/cluster.ts';
import { TEST_ROLES, apply, createNamespaceWithAccounts, createTestClusterRoles, grantTokenRequest, grantUser, userKubeconfig } from '../support/fixtures.ts';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import { Job, listTree, type StepResult } from '../support/runner.ts';

const cluster: TestCluster = await useCluster();
const namespace = uniqueName('action');
await createTestClusterRoles(cluster);
await createNamespaceWithAccounts(cluster, namespace, { deployer: TEST_ROLES.deployer, reader: TEST_ROLES.viewer });
await grantTokenRequest(cluster, 'token-minter', namespace, ['deployer', 'reader']);
/** The bootstrap credentials: a user with nothing but the documented minimal rule. */
const minter = userKubeconfig(cluster, 'token-minter');

function assertSucceeded(step: StepResult): void {
  assert.equal(step.code, 0, `the step failed: ${step.errors.join(' | ')}\n${step.stdout}\n${step.stderr}`);
  assert.deepEqual(step.errors, []);
}

/** kubectl as a later step of the job: with the KUBECONFIG the action exported. */
function laterStep(job: Job, args: string[]) {
  return kubectl({ kubectl: cluster.kubectl, adminKubeconfigPath: job.env.KUBECONFIG ?? '' }, args);
}

describe('one invocation', () => {
  const job = new Job();
  let main: StepResult;

  before(async () => {
    main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'deployer', expiration: '30m' });
  });

  it('succeeds and sets every output', () => {
    assertSucceeded(main);
    assert.equal(main.outputs.context, `deployer@${namespace}`);
    assert.equal(main.outputs.username, `system:serviceaccount:${namespace}:deployer`);
    assert.ok(main.outputs['kubeconfig-path']?.startsWith(job.runnerTemp + path.sep));
    assert.ok((main.outputs.token ?? '').split('.').length === 3, 'token output is a JWT');
    const lifetime = Date.parse(main.outputs['expiration-timestamp'] ?? '') - Date.now();
    assert.ok(lifetime > 25 * 60_000 && lifetime <= 30 * 60_000, `expires in ${lifetime} ms, expected about 30 minutes`);
  });

  it('masks the token before anything else happens', () => {
    const token = main.outputs.token ?? '';
    assert.ok(main.masks.includes(token));
    const maskAt = main.stdout.indexOf(`::add-mask::${token}`);
    const firstOtherCommand = main.stdout.search(/^::(?!add-mask)/m);
    assert.ok(maskAt >= 0 && (firstOtherCommand === -1 || maskAt < firstOtherCommand || main.stdout.slice(0, maskAt).match(/^::(?!add-mask)/m) === null));
    for (const text of [main.stdout.replace(`::add-mask::${token}`, ''), main.stderr, main.summary]) assert.ok(!text.includes(token));
  });

  it('writes the file with mode 0600 inside a fresh 0700 folder and exports KUBECONFIG', () => {
    const file = main.outputs['kubeconfig-path'] ?? '';
    assert.equal(main.exported.KUBECONFIG, file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  });

  it('gives kubectl the ServiceAccount identity and namespace', async () => {
    const whoami = await laterStep(job, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami.stdout, `system:serviceaccount:${namespace}:deployer`);
    const view = await laterStep(job, ['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']);
    assert.equal(view.stdout, namespace);
  });

  it('allows what the ServiceAccount may do and nothing more', async () => {
    const allowed = await laterStep(job, ['create', 'configmap', 'from-ci', '--from-literal=a=b']);
    assert.equal(allowed.code, 0, allowed.stderr);
    const denied = await laterStep(job, ['get', 'pods', '-n', 'kube-system']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden/i);
  });

  it('writes a job summary without the token', () => {
    assert.match(main.summary, /sa-kubeconfig/);
    assert.match(main.summary, /<tr><th>What<\/th><th>Value<\/th><\/tr>/);
    assert.match(main.summary, new RegExp(`system:serviceaccount:${namespace}:deployer`));
    assert.ok(!main.summary.includes(main.outputs.token ?? '<none>'));
  });

  it('removes exactly its file and folder in the post step', async () => {
    fs.writeFileSync(path.join(job.runnerTemp, 'someone-else.txt'), 'keep me');
    const post = await job.post(main, { kubeconfig: minter, namespace, 'service-account': 'deployer' });
    assert.equal(post.code, 0);
    assert.deepEqual(post.warnings, []);
    assert.deepEqual(listTree(job.runnerTemp), ['someone-else.txt']);
    const again = await job.post(main, { kubeconfig: minter, namespace, 'service-account': 'deployer' });
    assert.equal(again.code, 0, 'a second post step is harmless');
    assert.deepEqual(again.warnings, []);
  });
});

describe('several invocations in one job', () => {
  it('each gets its own file, and each post step removes only its own', async () => {
    const job = new Job();
    const inputs = { kubeconfig: minter, namespace };
    const first = await job.main({ ...inputs, 'service-account': 'deployer' });
    const second = await job.main({ ...inputs, 'service-account': 'reader' });
    const third = await job.main({ ...inputs, 'service-account': 'deployer' });
    for (const step of [first, second, third]) assertSucceeded(step);
    const files = [first, second, third].map((step) => step.outputs['kubeconfig-path'] ?? '');
    assert.equal(new Set(files).size, 3);
    const firstContent = fs.readFileSync(files[0] ?? '', 'utf8');

    assert.equal(job.env.KUBECONFIG, files[2], 'the last invocation wins KUBECONFIG');
    await job.post(third, { ...inputs, 'service-account': 'deployer' });
    assert.ok(!fs.existsSync(files[2] ?? ''));
    assert.equal(fs.readFileSync(files[0] ?? '', 'utf8'), firstContent, 'a later invocation never alters an earlier file');
    assert.ok(fs.existsSync(files[1] ?? ''));
    await job.post(second, { ...inputs, 'service-account': 'reader' });
    await job.post(first, { ...inputs, 'service-account': 'deployer' });
    assert.deepEqual(listTree(job.runnerTemp), []);
  });
});

describe('provisioning like the seed script', () => {
  it('creates the namespace, ServiceAccount and RoleBinding when missing, and is idempotent', async () => {
    const fresh = uniqueName('seed');
    const job = new Job();
    const inputs = { kubeconfig: userKubeconfig(cluster, 'admin'), namespace: fresh, 'service-account': 'ci-sa', 'create-service-account': 'true', 'cluster-role': TEST_ROLES.viewer };
    const first = await job.main(inputs);
    assertSucceeded(first);
    assert.match(first.stdout, new RegExp(`Created namespace ${fresh}`));
    assert.match(first.stdout, /Created RoleBinding/);
    assert.equal((await laterStep(job, ['get', 'pods'])).code, 0, 'the viewer role allows get pods');
    const denied = await laterStep(job, ['create', 'configmap', 'x', '--from-literal=a=b']);
    assert.match(denied.stderr, /forbidden/i);

    const second = await job.main(inputs);
    assertSucceeded(second);
    assert.match(second.stdout, new RegExp(`ServiceAccount ${fresh}/ci-sa exists`));
    assert.doesNotMatch(second.stdout, /Created/);
    assert.match(second.stdout, /exists; left as it is/);
    const bindings = await kubectlOk(cluster, ['get', 'rolebindings', '-n', fresh, '-o', 'name']);
    assert.equal(bindings.trim().split('\n').length, 1);
  });
});

describe('create-service-account with namespace-scoped rights only', () => {
  it('creates the ServiceAccount in an existing namespace without any right on namespaces', async () => {
    const existing = uniqueName('scoped');
    await createNamespaceWithAccounts(cluster, existing, {});
    await grantTokenRequest(cluster, 'token-minter', existing, ['fresh-sa']);
    await grantUser(cluster, 'token-minter', existing, 'create-sa', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['create'] }]);
    const job = new Job();
    const main = await job.main({ kubeconfig: minter, namespace: existing, 'service-account': 'fresh-sa', 'create-service-account': 'true' });
    assertSucceeded(main);
    assert.match(main.stdout, new RegExp(`Created ServiceAccount ${existing}/fresh-sa`));
    assert.equal(main.outputs.username, `system:serviceaccount:${existing}:fresh-sa`);
  });
});

describe('token lifetime', () => {
  it('warns with the real expiry when the server shortens it', async () => {
    const job = new Job();
    const main = await job.main({ kubeconfig: minter, namespace, 'service-account': 'reader', expiration: '72h' });
    assertSucceeded(main);
    const granted = Date.parse(main.outputs['expiration-timestamp'] ?? '') - Date.now();
    assert.ok(granted <= 48 * 3600_000 && granted > 47 * 3600_000, `granted ${granted} ms`);
    assert.equal(main.warnings.length, 1);
    assert.match(main.warnings[0] ?? '', /shortened the token's life from 72h to 48h: it expires at \d{4}-/);
  });
});

describe('ambient credentials', () => {
  it('lets a second invocation mint with the ambient credentials, not with the first one\'s exported token', async () => {
    const job = new Job();
    const ambient = path.join(job.root, 'ambient.kubeconfig');
    fs.writeFileSync(ambient, minter, { mode: 0o600 });
    job.env.KUBECONFIG = ambient;
    const first = await job.main({ namespace, 'service-account': 'reader', 'revoke-on-exit': 'false' });
    assertSucceeded(first);
    const second = await job.main({ namespace, 'service-account': 'deployer' });
    assertSucceeded(second);
    assert.match(second.stdout, new RegExp(`Bootstrap credentials: KUBECONFIG \\(${ambient.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    assert.equal((await laterStep(job, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout, `system:serviceaccount:${namespace}:deployer`);
  });


  it('uses KUBECONFIG from an earlier step when no kubeconfig input is given', async () => {
    const job = new Job();
    const ambient = path.join(job.root, 'ambient.kubeconfig');
    fs.writeFileSync(ambient, minter, { mode: 0o600 });
    job.env.KUBECONFIG = ambient;
    const main = await job.main({ namespace, 'service-account': 'reader' });
    assertSucceeded(main);
    assert.match(main.stdout, /Bootstrap credentials: KUBECONFIG/);
    assert.notEqual(job.env.KUBECONFIG, ambient);
    assert.equal((await laterStep(job, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout, `system:serviceaccount:${namespace}:reader`);
  });
});

describe('bootstrap credentials and the written cluster', () => {
  it('takes the kubeconfig input as base64 too', async () => {
    const job = new Job({ secrets: [cluster.userToken('token-minter')] });
    const main = await job.main({ kubeconfig: Buffer.from(minter).toString('base64'), namespace, 'service-account': 'reader' });
    assertSucceeded(main);
    assert.ok(main.masks.includes(Buffer.from(minter).toString('base64')), 'the base64 input is a credential in itself');
  });

  it('takes a client-certificate identity and masks its key', async () => {
    const { certData, keyData } = await cluster.issueClientCert('cert-minter');
    await grantTokenRequest(cluster, 'cert-minter', namespace, ['reader']);
    const kubeconfig = kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user: 'cert-minter', credentials: { certData, keyData } });
    const job = new Job();
    const main = await job.main({ kubeconfig, namespace, 'service-account': 'reader' });
    assertSucceeded(main);
    assert.ok(main.masks.includes(keyData));
  });

  it('runs an exec credential plugin and masks the token it prints, which is in no file', async () => {
    // As after a cloud provider's get-credentials step: the kubeconfig names a plugin, not a token.
    const token = cluster.userToken('token-minter');
    const job = new Job({ secrets: [token] });
    const plugin = path.join(job.root, 'credential-plugin.sh');
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
    fs.writeFileSync(plugin, `#!/bin/sh\nprintf '%s\\n' '${credential}'\n`, { mode: 0o700 });
    const kubeconfig = kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user: 'cloud-user', credentials: { exec: { command: plugin } } });
    assert.ok(!kubeconfig.includes(token));
    const main = await job.main({ kubeconfig, namespace, 'service-account': 'reader' });
    assertSucceeded(main);
    assert.equal(main.outputs.username, `system:serviceaccount:${namespace}:reader`);
    assert.ok(main.masks.includes(token), 'the token the plugin printed is masked');
  });

  it("uses the pod's ServiceAccount on a self-hosted runner inside the cluster", async () => {
    // The runner pod's ServiceAccount, allowed to mint for 'reader' only.
    const runner = `system:serviceaccount:${namespace}:runner`;
    await apply(cluster, [JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'runner', namespace } })]);
    await grantTokenRequest(cluster, runner, namespace, ['reader']);
    const podToken = (await kubectlOk(cluster, ['create', 'token', 'runner', '-n', namespace, '--duration', '1h'])).trim();
    // What the kubelet mounts into a pod, at the path client-go and client-node read. A
    // private mount namespace (unprivileged, through a user namespace) puts it there for
    // the action alone: the host's /run is untouched.
    const mounted = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-kubeconfig-pod-'));
    after(() => fs.rmSync(mounted, { recursive: true, force: true }));
    fs.writeFileSync(path.join(mounted, 'token'), podToken);
    fs.writeFileSync(path.join(mounted, 'ca.crt'), Buffer.from(cluster.caData, 'base64'));
    fs.writeFileSync(path.join(mounted, 'namespace'), namespace);
    const inPod = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io && cp -r "$0" /run/secrets/kubernetes.io/serviceaccount && exec "$@"';
    // bash, not sh: dash drops environment variables whose names are not identifiers, INPUT_SERVICE-ACCOUNT among them.
    const job = new Job({ secrets: [podToken], launcher: ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--', 'bash', '-c', inPod, mounted] });
    const { hostname, port } = new URL(cluster.server);
    const env = { HOME: job.root, KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port };
    const main = await job.main({ kubeconfig: '', namespace, 'service-account': 'reader' }, env);
    assertSucceeded(main);
    assert.match(main.stdout, /Bootstrap credentials: the in-cluster ServiceAccount; API server https:\/\/127\.0\.0\.1:/);
    assert.ok(main.masks.includes(podToken), "the pod's token is masked");
    // The written kubeconfig carries the CA read from the pod's ca.crt: kubectl outside the pod trusts the server with it.
    const whoami = await laterStep(job, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami.stdout, `system:serviceaccount:${namespace}:reader`, whoami.stderr);
  });

  it('writes the overrides into the kubeconfig, and kubectl honours them', async () => {
    const job = new Job();
    const viaLocalhost = cluster.server.replace('127.0.0.1', 'localhost');
    const main = await job.main({
      kubeconfig: minter,
      namespace,
      'service-account': 'reader',
      server: viaLocalhost,
      'tls-server-name': 'kubernetes.default.svc',
      'context-name': 'ci-reader',
      'export-kubeconfig': 'false',
    });
    assertSucceeded(main);
    assert.equal(main.exported.KUBECONFIG, undefined, 'export-kubeconfig: false exports nothing');
    assert.equal(main.outputs.context, 'ci-reader');
    const file = main.outputs['kubeconfig-path'] ?? '';
    const view = await kubectlOk({ kubectl: cluster.kubectl, adminKubeconfigPath: file }, ['config', 'view', '--minify', '-o', 'json']);
    const config = JSON.parse(view) as { 'current-context': string; clusters: { cluster: { server: string; 'tls-server-name': string } }[] };
    assert.equal(config['current-context'], 'ci-reader');
    assert.equal(config.clusters[0]?.cluster.server, viaLocalhost);
    assert.equal(config.clusters[0]?.cluster['tls-server-name'], 'kubernetes.default.svc');
    const whoami = await kubectl({ kubectl: cluster.kubectl, adminKubeconfigPath: file }, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami.stdout, `system:serviceaccount:${namespace}:reader`);
  });

  it('writes to kubeconfig-path inside the workspace, creating 0700 folders, and removes only those', async () => {
    const job = new Job();
    const inputs = { kubeconfig: minter, namespace, 'service-account': 'reader', 'kubeconfig-path': '.kube/ci/config' };
    const main = await job.main(inputs);
    assertSucceeded(main);
    assert.equal(main.outputs['kubeconfig-path'], path.join(job.workspace, '.kube/ci/config'));
    assert.equal(fs.statSync(path.join(job.workspace, '.kube')).mode & 0o777, 0o700);
    await job.post(main, inputs);
    assert.deepEqual(listTree(job.workspace), []);
  });

  it('keeps the file with cleanup: false', async () => {
    const job = new Job();
    const inputs = { kubeconfig: minter, namespace, 'service-account': 'reader', cleanup: 'false' };
    const main = await job.main(inputs);
    const post = await job.post(main, inputs);
    assert.match(post.stdout, /cleanup: false, so .* stays/);
    assert.ok(fs.existsSync(main.outputs['kubeconfig-path'] ?? ''));
  });
});
