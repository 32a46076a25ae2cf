// The real cluster for integration tests: the one `npm test` shares with every
// test file, or else a private one per call, stopped when the calling scope ends.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import {
  attachCluster, startCluster, type Cluster, type ClusterInfo, type ClusterOptions,
} from '../cluster/cluster.ts';
import { runCommand, type CommandResult } from '../cluster/processes.ts';

/** Holds the JSON ClusterInfo of the cluster test/run.ts started for the whole run. */
export const SHARED_CLUSTER_ENV = 'SA_KUBECONFIG_TEST_CLUSTER';

/** A cluster a test may use but not stop. */
export type TestCluster = Omit<Cluster, 'stop'>;

function sharedInfo(): ClusterInfo | undefined {
  const json = process.env[SHARED_CLUSTER_ENV];
  return json ? (JSON.parse(json) as ClusterInfo) : undefined;
}

/**
 * The shared cluster, or a private one when a test file runs on its own. Call it at
 * the top level of a test file (or in a top-level before()): a private cluster is
 * stopped by an after() hook in the scope it is called from.
 */
export async function useCluster(): Promise<TestCluster> {
  const info = sharedInfo();
  return info ? attachCluster(info) : startPrivateCluster();
}

/**
 * A cluster of the test's own, e.g. with extra kube-apiserver flags, in a fresh
 * temporary folder; an after() hook in the calling scope stops it and deletes the folder.
 */
export async function startPrivateCluster(options: Omit<ClusterOptions, 'dir'> = {}): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-cluster-'));
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop({ keepLogs: false });
    await rm(dir, { recursive: true, force: true });
  });
  cluster = await startCluster({ binDir: sharedInfo()?.binDir, ...options, dir });
  return cluster;
}

export interface KubectlOptions {
  /** Default: the admin kubeconfig. */
  kubeconfig?: string;
  /** A bearer token to use instead of the kubeconfig's credentials. */
  token?: string;
  /** Written to kubectl's stdin, e.g. for `apply -f -`. */
  input?: string;
}

/** Runs the kubectl built with the cluster (the preinstalled one is too old for the server). */
export function kubectl(
  cluster: Pick<ClusterInfo, 'kubectl' | 'adminKubeconfigPath'>,
  args: string[],
  options: KubectlOptions = {},
): Promise<CommandResult> {
  const flags = [`--kubeconfig=${options.kubeconfig ?? cluster.adminKubeconfigPath}`];
  if (options.token !== undefined) flags.push(`--token=${options.token}`);
  return runCommand(cluster.kubectl, [...flags, ...args], options.input);
}

/** kubectl that must succeed: its stdout, or an error carrying its stderr. */
export async function kubectlOk(
  cluster: Pick<ClusterInfo, 'kubectl' | 'adminKubeconfigPath'>,
  args: string[],
  options: KubectlOptions = {},
): Promise<string> {
  const result = await kubectl(cluster, args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Asks who a revoked token is, every 0.5 s for at most limitMs, until the API
 * server refuses it. kube-apiserver caches a successful token authentication for
 * 10 s (its TokenSuccessCacheTTL), so a revoked token is refused within that
 * window, not at once. Resolves to the wait and kubectl's complaint, or undefined
 * when the token still works at the limit.
 */
export async function untilRefused(
  cluster: Pick<ClusterInfo, 'kubectl' | 'adminKubeconfigPath'>,
  credentials: Pick<KubectlOptions, 'kubeconfig' | 'token'>,
  limitMs = 20_000,
): Promise<{ ms: number; stderr: string } | undefined> {
  const start = Date.now();
  for (;;) {
    const result = await kubectl(cluster, ['auth', 'whoami'], credentials);
    if (result.code !== 0) return { ms: Date.now() - start, stderr: result.stderr.trim() };
    if (Date.now() - start > limitMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A fresh DNS-1123 label: prefix plus a random suffix. Without a controller-manager
 * namespaces are never fully deleted, so each test makes its own.
 */
export function uniqueName(prefix: string): string {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) throw new Error(`"${prefix}" cannot start a DNS-1123 label`);
  return name;
}
