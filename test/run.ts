// `npm test [-- FILE_OR_GLOB... --node-test-flag=VALUE...]`: starts one real
// cluster for the whole run, runs node --test with it in SA_KUBECONFIG_TEST_CLUSTER,
// and stops it on every way out: success, failure, Ctrl-C or SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from './cluster/cluster.ts';
import { SHARED_CLUSTER_ENV } from './support/cluster.ts';

const DEFAULT_FILES = ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'];

// Arguments that are not flags name the test files; flags go to node --test as they are.
const args = process.argv.slice(2);
const files = args.filter((arg) => !arg.startsWith('-'));
const flags = args.filter((arg) => arg.startsWith('-'));

const interrupted = new AbortController();
let received: NodeJS.Signals | undefined;
let testGroup: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    received = signal;
    interrupted.abort(new Error(`interrupted by ${signal}`));
    // The tests run in a process group of their own: signal all of it, so private
    // clusters that test files started get the signal too.
    signalGroup(signal);
  });
}

function signalGroup(signal: NodeJS.Signals): void {
  try {
    if (testGroup !== undefined) process.kill(-testGroup, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

let exitCode = 1;
let cluster: Cluster | undefined;
const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-test-cluster-'));
try {
  cluster = await startCluster({ dir, signal: interrupted.signal });
  const tests = spawn(process.execPath, [
    '--test', '--test-reporter=spec', '--test-concurrency=2', ...flags,
    ...(files.length > 0 ? files : DEFAULT_FILES),
  ], {
    stdio: 'inherit',
    detached: true,
    // JSON leaves out the methods: what remains is the ClusterInfo.
    env: { ...process.env, [SHARED_CLUSTER_ENV]: JSON.stringify(cluster) },
  });
  testGroup = tests.pid;
  const [code, signal] = (await once(tests, 'exit')) as [number | null, NodeJS.Signals | null];
  // Whatever the tests started and did not stop (a private cluster, after an
  // interruption) is still in their process group.
  signalGroup('SIGKILL');
  testGroup = undefined;
  exitCode = signal ? 128 + constants.signals[signal] : (code ?? 1);
} catch (error) {
  console.error(`test/run.ts: ${(error as Error).message}`);
} finally {
  await cluster?.stop({ keepLogs: exitCode !== 0 || received !== undefined });
  // Whatever is left in dir is logs worth a look; an empty dir (say, the build failed) goes.
  await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTEMPTY') console.error(`test/run.ts: the cluster's logs are kept in ${dir}`);
  });
}
process.exit(received ? 128 + constants.signals[received] : exitCode);
