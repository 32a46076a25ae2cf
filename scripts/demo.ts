// npm run demo: the action end to end on a real local API server, as a workflow
// would run it. Uses the cluster of `npm run cluster:up` when it is running,
// else starts a private one and stops it at the end.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachCluster, isReady, startCluster, type Cluster } from '../test/cluster/cluster.ts';
import { readState } from '../test/cluster/state.ts';
import { kubectl, untilRefused } from '../test/support/cluster.ts';
import { TEST_ROLES, createNamespaceWithAccounts, createTestClusterRoles, grantTokenRequest, grantUser, userKubeconfig } from '../test/support/fixtures.ts';
import { Job, type StepResult } from '../test/support/runner.ts';

const SHARED_DIR = fileURLToPath(new URL('../.cluster', import.meta.url));
const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text: string): void => console.log(`\n${bold(`▶ ${text}`)}`);

async function clusterToUse(): Promise<{ cluster: Cluster; owned: string | undefined }> {
  const state = await readState(SHARED_DIR);
  if (state.kind === 'running' && state.info && (await isReady(state.info))) {
    console.log(`Using the running cluster at ${state.info.server} (npm run cluster:up).`);
    return { cluster: attachCluster(state.info), owned: undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-demo-'));
  console.log('Starting a private etcd + kube-apiserver on loopback (the first run builds them from the Go modules: minutes).');
  return { cluster: await startCluster({ dir }), owned: dir };
}

function printStep(step: StepResult): void {
  // What the runner's log would show: workflow commands as annotations, masks hidden.
  for (const line of step.stdout.split('\n')) {
    if (line === '' || line.startsWith('::add-mask::') || line.startsWith('::debug::')) continue;
    console.log(`  ${line}`);
  }
}

async function run(): Promise<void> {
  const { cluster, owned } = await clusterToUse();
  const job = new Job({ outsideTests: true, secrets: [cluster.adminToken] });
  try {
    say('Setting up: namespace "demo", ServiceAccount "deployer" (may manage configmaps, read pods), bootstrap user "token-minter" (may only mint tokens for deployer)');
    await createTestClusterRoles(cluster);
    await createNamespaceWithAccounts(cluster, 'demo', { deployer: TEST_ROLES.deployer });
    await grantTokenRequest(cluster, 'token-minter', 'demo', ['deployer']);
    // revoke-on-exit's documented extra rule for the bootstrap identity.
    await grantUser(cluster, 'token-minter', 'demo', 'token-minter-revokes', [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] }]);

    const inputs = {
      kubeconfig: userKubeconfig(cluster, 'token-minter'),
      namespace: 'demo',
      'service-account': 'deployer',
      expiration: '15m',
      'revoke-on-exit': 'true',
      'require-permissions': 'create configmaps\nget pods',
    };
    say('Main step: node24 dist/index.js with INPUT_* and the GITHUB_* files, as the runner runs it');
    const main = await job.main(inputs, { RUNNER_DEBUG: '0' });
    printStep(main);
    if (main.code !== 0) throw new Error('the main step failed');
    console.log('\n  Outputs:');
    for (const [name, value] of Object.entries(main.outputs)) console.log(`    ${name}: ${name === 'token' ? '*** (masked)' : value}`);
    console.log(`  Exported: KUBECONFIG=${main.exported.KUBECONFIG}`);
    console.log('\n  Job summary (GITHUB_STEP_SUMMARY):');
    console.log(main.summary.trim().replace(/^/gm, '    '));

    const later = { kubectl: cluster.kubectl, adminKubeconfigPath: main.exported.KUBECONFIG ?? '' };
    for (const [title, args] of [
      ['kubectl auth whoami', ['auth', 'whoami']],
      ['kubectl create configmap hello (allowed)', ['create', 'configmap', `hello-${Date.now()}`, '--from-literal=from=ci']],
      ['kubectl get secrets (denied: least privilege)', ['get', 'secrets']],
    ] as const) {
      say(`Later step: ${title}`);
      const result = await kubectl(later, [...args]);
      console.log((result.stdout + result.stderr).trim().replace(/^/gm, '  '));
    }

    say('Post step: the same bundle with the saved state');
    const post = await job.post(main, inputs, { RUNNER_DEBUG: '0' });
    printStep(post);
    const file = main.outputs['kubeconfig-path'] ?? '';
    console.log(`\n  ${file} ${existsSync(file) ? 'STILL EXISTS (unexpected)' : 'is gone.'}`);

    say('After the job: the token itself, used directly, is refused (revoke-on-exit)');
    // The cluster and CA of the admin kubeconfig, the (demo's own) token instead of its credentials.
    const refused = await untilRefused(cluster, { token: main.outputs.token ?? '' });
    console.log(refused === undefined
      ? '  STILL ACCEPTED 20 s after the post step (unexpected)'
      : `  ${refused.stderr}\n  Refused ${(refused.ms / 1000).toFixed(1)} s after the post step (kube-apiserver trusts a token it has just checked for up to 10 s).`);
  } finally {
    job.dispose();
    if (owned !== undefined) {
      await cluster.stop({ keepLogs: false });
      await rm(owned, { recursive: true, force: true });
    }
  }
}

await run();
