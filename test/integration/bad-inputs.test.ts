// Bad input and failure modes, each through the bundled action: exactly one
// ::error:: that names the problem and the fix, no secret in it, and nothing
// left on disk after the main and post steps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createPki } from '../cluster/pki.ts';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import { uniqueName, useCluster, type TestCluster } from '../support/cluster.ts';
import { TEST_ROLES, apply, createNamespaceWithAccounts, createTestClusterRoles, grantTokenRequest, userKubeconfig } from '../support/fixtures.ts';
import { Job, listTree } from '../support/runner.ts';

const cluster: TestCluster = await useCluster();
const namespace = uniqueName('bad');
await createTestClusterRoles(cluster);
await createNamespaceWithAccounts(cluster, namespace, { deployer: TEST_ROLES.viewer, other: undefined });
await grantTokenRequest(cluster, 'token-minter', namespace, ['deployer']);
const minter = userKubeconfig(cluster, 'token-minter');
const admin = userKubeconfig(cluster, 'admin');
const otherCaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-kubeconfig-other-ca-'));
after(() => fs.rmSync(otherCaDir, { recursive: true, force: true }));
const otherPki = await createPki(otherCaDir);
const otherCa = Buffer.from(fs.readFileSync(otherPki.caFile)).toString('base64');
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'not-deployers', namespace }, spec: { serviceAccountName: 'other', containers: [{ name: 'c', image: 'example.invalid/none' }] } };
await apply(cluster, [JSON.stringify(pod)]);

const FAKE_SECRET = 'sup3r-secret-bootstrap-token-value';
const withToken = (token: string) => kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user: 'someone', credentials: { token } });
const withPlugin = (command: string, args: string[] = []) => kubeconfigYaml({ server: cluster.server, caData: cluster.caData, user: 'cloud-user', credentials: { exec: { command, args } } });
const closedPort = 'https://127.0.0.1:9'; // discard port: nothing listens here

interface Case {
  readonly name: string;
  readonly inputs: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly message: RegExp;
  /** Files planted in the workspace before the step; they must survive untouched. */
  readonly plant?: (workspace: string) => void;
}

const base = { kubeconfig: minter, namespace, 'service-account': 'deployer' };
const cases: Case[] = [
  // Inputs, refused before any call or write.
  { name: 'no service-account', inputs: { ...base, 'service-account': '' }, message: /^Input service-account is required/ },
  { name: 'namespace in capitals', inputs: { ...base, namespace: 'Prod' }, message: /^Invalid namespace 'Prod'\. Expected a DNS-1123 label/ },
  { name: 'namespace of 64 characters', inputs: { ...base, namespace: 'n'.repeat(64) }, message: /^Invalid namespace '.*at most 63/ },
  { name: 'service-account with a colon', inputs: { ...base, 'service-account': 'system:ci' }, message: /^Invalid service-account 'system:ci'/ },
  { name: 'expiration of 5m', inputs: { ...base, expiration: '5m' }, message: /refuses tokens shorter than 10 minutes\. Use 10m or more/ },
  { name: 'expiration of 1d', inputs: { ...base, expiration: '1d' }, message: /^Invalid expiration '1d'\. Expected a duration such as 10m/ },
  { name: 'expiration of 0', inputs: { ...base, expiration: '0' }, message: /shorter than 10 minutes/ },
  { name: 'expiration beyond 2^32 s', inputs: { ...base, expiration: '5000000000' }, message: /more than 2\^32 seconds/ },
  { name: 'export-kubeconfig: yes', inputs: { ...base, 'export-kubeconfig': 'yes' }, message: /^Invalid export-kubeconfig 'yes'\. Expected true or false/ },
  { name: 'cleanup: 0', inputs: { ...base, cleanup: '0' }, message: /^Invalid cleanup '0'/ },
  { name: 'verify: maybe', inputs: { ...base, verify: 'maybe' }, message: /^Invalid verify 'maybe'/ },
  { name: 'revoke-on-exit: on', inputs: { ...base, 'revoke-on-exit': 'on' }, message: /^Invalid revoke-on-exit 'on'/ },
  { name: 'server that is no URL', inputs: { ...base, server: 'cluster.example.com' }, message: /^Invalid server 'cluster\.example\.com'\. Expected a URL/ },
  { name: 'server with another scheme', inputs: { ...base, server: 'tcp://1.2.3.4:6443' }, message: /Expected an https:\/\/ URL/ },
  { name: 'CA data that is no certificate', inputs: { ...base, 'certificate-authority-data': 'bm90IGEgY2VydA==' }, message: /^Invalid certificate-authority-data: it is neither a PEM certificate nor base64 of one/ },
  { name: 'CA data with insecure-skip-tls-verify', inputs: { ...base, 'certificate-authority-data': cluster.caData, 'insecure-skip-tls-verify': 'true' }, message: /contradict each other/ },
  { name: 'revoke-on-exit with bound-object', inputs: { ...base, 'revoke-on-exit': 'true', 'bound-object': 'Secret/x' }, message: /a token has one\. Use one of them/ },
  { name: 'bound-object of kind Node', inputs: { ...base, 'bound-object': 'Node/worker-1' }, message: /^Invalid bound-object 'Node\/worker-1'\. Expected Secret\/NAME or Pod\/NAME/ },
  { name: 'bound-object without a name', inputs: { ...base, 'bound-object': 'Secret/' }, message: /^Invalid bound-object 'Secret\/'/ },
  { name: 'cluster-role with a slash', inputs: { ...base, 'cluster-role': 'rbac/edit' }, message: /^Invalid cluster-role 'rbac\/edit'\. Expected the name of a ClusterRole/ },
  { name: 'context-name on two lines', inputs: { ...base, 'context-name': 'a\nb' }, message: /^Invalid context-name: it must be one line/ },
  { name: 'request-timeout of 0', inputs: { ...base, 'request-timeout': '0s' }, message: /^Invalid request-timeout '0s'\. Expected at least 1s/ },
  { name: 'timeout that is no duration', inputs: { ...base, timeout: 'a while' }, message: /^Invalid timeout 'a while'/ },
  { name: 'require-permissions without a resource', inputs: { ...base, 'require-permissions': 'get pods\nlist' }, message: /^Invalid require-permissions line 'list'/ },
  { name: 'require-permissions with extra words', inputs: { ...base, 'require-permissions': 'get pods please' }, message: /^Invalid require-permissions line 'get pods please'/ },
  { name: 'proxy-url that is no URL', inputs: { ...base, 'proxy-url': 'proxy:3128' }, message: /^Invalid proxy-url 'proxy:3128'/ },
  // Bootstrap credentials: never echoed.
  { name: 'kubeconfig that is not YAML', inputs: { ...base, kubeconfig: `clusters: [\n  token: ${FAKE_SECRET}\n  : :` }, message: /^The kubeconfig input is not valid YAML \(line \d+, column \d+\)\. Provide a kubeconfig, as YAML or base64 of it\.$/ },
  { name: 'kubeconfig without clusters', inputs: { ...base, kubeconfig: `users:\n- name: u\n  user:\n    token: ${FAKE_SECRET}\n` }, message: /^The kubeconfig input is not a kubeconfig: it has no clusters/ },
  { name: 'base64 of something else', inputs: { ...base, kubeconfig: Buffer.from(`password=${FAKE_SECRET}`).toString('base64') }, message: /^The kubeconfig input is not a kubeconfig/ },
  { name: 'kubeconfig user without a name', inputs: { ...base, kubeconfig: withToken(FAKE_SECRET).replace('- name: "someone"', '- nom: "someone"') }, message: /^The kubeconfig input is not a valid kubeconfig: users\[0\]\.name is missing\.$/ },
  { name: 'context that is not in the kubeconfig', inputs: { ...base, context: 'prod' }, message: /^Context 'prod' is not in the kubeconfig input\. Its contexts: token-minter\.$/ },
  { name: 'kubeconfig without current-context', inputs: { ...base, kubeconfig: minter.replace(/^current-context:.*$/m, '') }, message: /has no usable current-context\. Set the context input to one of: token-minter/ },
  { name: 'no bootstrap credentials at all', inputs: { ...base, kubeconfig: '' }, env: { HOME: '/nonexistent-home' }, message: /^No bootstrap credentials: set the kubeconfig input/ },
  { name: 'KUBECONFIG naming a missing file', inputs: { ...base, kubeconfig: '' }, env: { KUBECONFIG: '/nonexistent/kubeconfig' }, message: /^KUBECONFIG names \/nonexistent\/kubeconfig, which cannot be read/ },
  { name: 'exec credential plugin not installed', inputs: { ...base, kubeconfig: withPlugin('no-such-credential-plugin') }, message: /^The exec credential plugin 'no-such-credential-plugin' of user 'cloud-user' in the kubeconfig input was not found on PATH: install it/ },
  // Its stderr is not repeated: a plugin may print credentials there.
  { name: 'exec credential plugin that fails', inputs: { ...base, kubeconfig: withPlugin('sh', ['-c', `echo "expired session ${FAKE_SECRET}" >&2; exit 1`]) }, message: /^The exec credential plugin 'sh' of user 'cloud-user' in the kubeconfig input failed: run it by hand/ },
  { name: 'exec credential plugin that prints no JSON', inputs: { ...base, kubeconfig: withPlugin('sh', ['-c', 'echo please log in']) }, message: /^The exec credential plugin 'sh' .* did not print an ExecCredential as JSON/ },
  // The written file: never clobbered, never through a symlink.
  {
    name: 'kubeconfig-path that exists',
    inputs: { ...base, 'kubeconfig-path': 'kube/config' },
    plant: (workspace) => { fs.mkdirSync(path.join(workspace, 'kube')); fs.writeFileSync(path.join(workspace, 'kube/config'), 'precious'); },
    message: /kube\/config already exists, and this action never overwrites a file\. Remove it or choose another kubeconfig-path/,
  },
  {
    name: 'kubeconfig-path that is a planted symlink',
    inputs: { ...base, 'kubeconfig-path': 'link.yaml' },
    plant: (workspace) => { fs.writeFileSync(path.join(workspace, 'target'), 'precious'); fs.symlinkSync(path.join(workspace, 'target'), path.join(workspace, 'link.yaml')); },
    message: /link\.yaml is a symbolic link, which this action never follows/,
  },
  {
    name: 'kubeconfig-path that is a dangling symlink',
    inputs: { ...base, 'kubeconfig-path': 'dangling.yaml' },
    plant: (workspace) => fs.symlinkSync(path.join(workspace, 'nowhere'), path.join(workspace, 'dangling.yaml')),
    message: /dangling\.yaml is a symbolic link/,
  },
  // The API server says no.
  { name: 'bootstrap token the server rejects (401)', inputs: { ...base, kubeconfig: withToken(FAKE_SECRET) }, message: /rejected the credentials from the kubeconfig input \(401 Unauthorized\)\. They are missing, expired, revoked or issued for another cluster/ },
  {
    name: 'bootstrap identity without the TokenRequest rule (403)',
    inputs: { ...base, kubeconfig: userKubeconfig(cluster, 'nobody') },
    message: /forbidden \(403\): serviceaccounts "deployer" is forbidden: User "nobody" cannot create resource "serviceaccounts\/token" in API group "" in the namespace "bad-[a-f0-9]+"\. Grant it with a Role in namespace "bad-[a-f0-9]+" and a RoleBinding; the rule: \{apiGroups: \[""\], resources: \["serviceaccounts\/token"\], verbs: \["create"\], resourceNames: \["deployer"\]\}/,
  },
  { name: 'a ServiceAccount the minter may not mint for (403)', inputs: { ...base, 'service-account': 'other' }, message: /resourceNames: \["other"\]/ },
  { name: 'a ServiceAccount that does not exist (404)', inputs: { ...base, kubeconfig: admin, 'service-account': 'ghost' }, message: /not found \(404\).*Create it, or set create-service-account: true/ },
  { name: 'a namespace that does not exist (404)', inputs: { ...base, kubeconfig: admin, namespace: 'no-such-namespace' }, message: /namespace "no-such-namespace".*not found \(404\).*create-service-account: true/ },
  { name: 'a Pod that runs as another ServiceAccount', inputs: { ...base, kubeconfig: admin, 'bound-object': 'Pod/not-deployers' }, message: /Could not request a token.*(refused the request|\(4\d\d\))/ },
  { name: 'a server nobody listens on', inputs: { ...base, kubeconfig: withToken(FAKE_SECRET).replace(cluster.server, closedPort), timeout: '3s' }, message: /https:\/\/127\.0\.0\.1:9/ },
  { name: 'a CA that did not sign the server certificate', inputs: { ...base, kubeconfig: minter.replace(cluster.caData, otherCa) }, message: /TLS verification failed while trusting the certificate-authority-data from the kubeconfig input/ },
  { name: 'no CA at all for a private cluster', inputs: { ...base, kubeconfig: minter.replace(/^\s*certificate-authority-data:.*$/m, '') }, message: /TLS verification failed while trusting the system CA store/ },
];

describe(`${cases.length} bad inputs and failure modes`, () => {
  it('covers at least 30', () => assert.ok(cases.length >= 30));
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const job = new Job({ secrets: [FAKE_SECRET, cluster.adminToken, cluster.userToken('token-minter'), cluster.userToken('nobody')] });
      testCase.plant?.(job.workspace);
      const planted = Object.fromEntries(listTree(job.workspace).map((entry) => [entry, readLinkOrFile(path.join(job.workspace, entry))]));
      const main = await job.main(testCase.inputs, testCase.env);
      assert.equal(main.code, 1, main.stdout);
      assert.equal(main.errors.length, 1, `exactly one ::error::, got ${JSON.stringify(main.errors)}`);
      assert.match(main.errors[0] ?? '', testCase.message);
      assert.doesNotMatch(main.stdout + main.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
      assert.equal(main.outputs['kubeconfig-path'], undefined);
      assert.equal(main.exported.KUBECONFIG, undefined);
      const post = await job.post(main, testCase.inputs, testCase.env);
      assert.equal(post.code, 0, 'the post step never fails the job');
      assert.deepEqual(post.warnings, []);
      assert.deepEqual(listTree(job.runnerTemp), [], 'nothing left in RUNNER_TEMP');
      const after = Object.fromEntries(listTree(job.workspace).map((entry) => [entry, readLinkOrFile(path.join(job.workspace, entry))]));
      assert.deepEqual(after, planted, 'the workspace is exactly as it was');
    });
  }
});

function readLinkOrFile(file: string): string {
  const stat = fs.lstatSync(file);
  if (stat.isSymbolicLink()) return `-> ${fs.readlinkSync(file)}`;
  return stat.isFile() ? fs.readFileSync(file, 'utf8') : '<dir>';
}
