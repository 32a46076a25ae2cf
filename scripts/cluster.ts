// npm run cluster:up | cluster:down | cluster:status: a real cluster to try the
// action against by hand. It lives in .cluster/ at the repository root and keeps
// running after `up` returns, until `down`.
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isReady, startCluster, stopClusterIn, type ClusterInfo } from '../test/cluster/cluster.ts';
import { FILES, readState } from '../test/cluster/state.ts';

const DIR = fileURLToPath(new URL('../.cluster', import.meta.url));
/** A stable path to the matching kubectl (the built one lives in a cache folder named by a hash). */
const KUBECTL_LINK = join(DIR, 'bin', 'kubectl');

const USAGE = 'usage: node scripts/cluster.ts up|down|status';

async function up(): Promise<void> {
  const state = await readState(DIR);
  if (state.kind === 'running') {
    if (!state.info || !(await isReady(state.info))) {
      throw new Error(`a cluster in ${show(DIR)} runs (pids ${state.pids.join(', ')}) but its API server is not ready; ` +
        `see ${show(join(DIR, FILES.apiServerLog))}, or start afresh with npm run cluster:down`);
    }
    console.log('Already running.');
    describe(state.info);
    return;
  }
  // A stale pid file is cleaned up, with a message, by startCluster.
  const cluster = await startCluster({ dir: DIR, detached: true });
  await rm(KUBECTL_LINK, { force: true });
  await mkdir(dirname(KUBECTL_LINK), { recursive: true });
  await symlink(cluster.kubectl, KUBECTL_LINK);
  describe(cluster);
}

async function down(): Promise<void> {
  await rm(dirname(KUBECTL_LINK), { recursive: true, force: true });
  const found = await stopClusterIn(DIR, { keepLogs: false });
  console.log({
    stopped: `Stopped etcd and kube-apiserver and removed ${show(DIR)}.`,
    stale: `Nothing was running (the pid file was stale); removed ${show(DIR)}.`,
    absent: 'Nothing was running.',
  }[found]);
}

async function status(): Promise<boolean> {
  const state = await readState(DIR);
  if (state.kind === 'absent') console.log('Not running.');
  if (state.kind === 'stale') {
    console.log(`Not running: the pid file names processes that are gone (${state.pids.join(', ')}); ` +
      'cluster:up cleans it up.');
  }
  if (state.kind !== 'running') return false;
  const ready = state.info !== undefined && (await isReady(state.info));
  if (ready && state.info) {
    console.log('Running.');
    describe(state.info);
  } else {
    console.log(`Running (pids ${state.pids.join(', ')}) but not ready: see ${show(join(DIR, FILES.apiServerLog))}.`);
  }
  return ready;
}

function describe(info: ClusterInfo): void {
  const kubeconfig = show(info.adminKubeconfigPath);
  console.log([
    `  server      ${info.server}`,
    `  kubeconfig  ${kubeconfig}   (user admin, system:masters)`,
    `  kubectl     ${show(KUBECTL_LINK)}   (v1.37, matching the server)`,
    `  logs        ${show(join(DIR, FILES.apiServerLog))}, ${show(join(DIR, FILES.etcdLog))}`,
    `  pids        etcd ${info.etcdPid}, kube-apiserver ${info.apiServerPid}`,
    `Try: ${show(KUBECTL_LINK)} --kubeconfig ${kubeconfig} version`,
    'Stop: npm run cluster:down',
  ].join('\n'));
}

function show(path: string): string {
  return relative(process.cwd(), path) || '.';
}

try {
  const command = process.argv[2];
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else if (command === 'status') process.exitCode = (await status()) ? 0 : 1;
  else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`cluster ${process.argv[2]}: ${(error as Error).message}`);
  process.exitCode = 1;
}
