// What a cluster keeps in its folder, and whether the processes it records still run.
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterInfo } from './cluster.ts';
import { processName } from './processes.ts';

/** Every name a cluster writes in its folder, so cleaning up never touches anything else there. */
export const FILES = {
  /** Written as soon as a process starts, so an interrupted start can still be cleaned up. */
  pids: 'pids.json',
  /** The ClusterInfo, written once the cluster is ready. */
  info: 'cluster.json',
  etcdData: 'etcd-data',
  pki: 'pki',
  tokens: 'tokens.csv',
  adminKubeconfig: 'admin.kubeconfig',
  etcdLog: 'etcd.log',
  apiServerLog: 'kube-apiserver.log',
} as const;

const LOGS: readonly string[] = [FILES.etcdLog, FILES.apiServerLog];

/** Pids by executable name, which is checked before trusting a pid from an old file. */
export type Pids = Partial<Record<ServerName, number>>;
type ServerName = 'etcd' | 'kube-apiserver';
/** kube-apiserver goes first: etcd waits for its clients' watches to end before it exits. */
const STOP_ORDER: ServerName[] = ['kube-apiserver', 'etcd'];

export type ClusterState =
  | { kind: 'absent' }
  /** A pid file whose processes are gone: a crash, a reboot, or a kill by hand. */
  | { kind: 'stale'; pids: number[] }
  /** pids: those still running, in the order to stop them. */
  | { kind: 'running'; pids: number[]; info: ClusterInfo | undefined };

export async function readState(dir: string): Promise<ClusterState> {
  const pids = await readJson<Pids>(join(dir, FILES.pids));
  if (pids === undefined) return { kind: 'absent' };
  const live = [];
  for (const name of STOP_ORDER) {
    const pid = pids[name];
    // A reused pid belongs to some other program: it is not ours to report or kill.
    if (pid !== undefined && (await processName(pid)) === name) live.push(pid);
  }
  if (live.length === 0) return { kind: 'stale', pids: Object.values(pids) };
  return { kind: 'running', pids: live, info: await readJson<ClusterInfo>(join(dir, FILES.info)) };
}

export async function writePids(dir: string, pids: Pids): Promise<void> {
  await writeFile(join(dir, FILES.pids), `${JSON.stringify(pids)}\n`, { mode: 0o600 });
}

export async function writeInfo(info: ClusterInfo): Promise<void> {
  await writeFile(join(info.dir, FILES.info), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Deletes what a cluster wrote in dir (the logs only if keepLogs is false), then
 * dir itself if that leaves it empty.
 */
export async function removeState(dir: string, { keepLogs }: { keepLogs: boolean }): Promise<void> {
  for (const name of Object.values(FILES)) {
    if (keepLogs && LOGS.includes(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
  const left = await readdir(dir).catch(() => undefined); // undefined: there is no dir
  if (left?.length === 0) await rmdir(dir);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
