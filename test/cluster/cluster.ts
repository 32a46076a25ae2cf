// A real etcd and kube-apiserver on loopback ports, for the tests and the demo.
// There is no kube-controller-manager: namespaces get no default ServiceAccount and
// are never fully deleted, and pods stay Pending.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, toStderr, type Progress } from './binaries.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { base64, createPki, issueClientCert, type Pki } from './pki.ts';
import { exitStatus, freePorts, logTail, startService, terminate, type Service } from './processes.ts';
import { FILES, readState, removeState, writeInfo, writePids } from './state.ts';

export { ensureBinaries } from './binaries.ts';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
// Two audiences, as on clusters whose issuer is not the in-cluster URL, so code that
// assumes a single audience fails here rather than in someone's cluster.
const API_AUDIENCES = [ISSUER, 'https://kubernetes.default.svc'];
const READY_WITHIN_MS = 90_000;
const START_ATTEMPTS = 3;

/** Users of the static token file besides admin. Neither has any rights until a test grants them. */
export type TestUser = 'nobody' | 'token-minter';

export interface ClusterOptions {
  /** State folder (data, certificates, keys, logs, kubeconfig); created with mode 0700. */
  dir: string;
  /** Appended last to kube-apiserver's flags, e.g. --authentication-config=FILE. */
  extraApiServerArgs?: string[];
  /** --service-account-max-token-expiration; default 48h. */
  maxTokenExpiration?: string;
  /** Where progress lines go; default stderr. */
  progress?: Progress;
  /** Folder with the three binaries; by default ensureBinaries() finds or builds them. */
  binDir?: string | undefined;
  /** Let the servers outlive this process (own process group, not waited for); for `npm run cluster:up`. */
  detached?: boolean;
  /** Aborting a start in progress kills what it started. */
  signal?: AbortSignal;
}

/** Everything about a running cluster that can cross a process boundary as JSON. */
export interface ClusterInfo {
  dir: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The CA clients must trust: a PEM file, and base64 of that PEM. */
  caFile: string;
  caData: string;
  /** The same CA signs client certificates (--client-ca-file); its key lets tests issue them. */
  caKeyFile: string;
  /** Bearer token of "admin", in group system:masters. */
  adminToken: string;
  /** Mode 0600, CA embedded, context "admin" current. */
  adminKubeconfigPath: string;
  /** The kubectl built with the server: the preinstalled one is too old for it. */
  kubectl: string;
  binDir: string;
  /** --service-account-issuer */
  issuer: string;
  /** --api-audiences: what an empty TokenRequest audience list becomes. */
  apiAudiences: string[];
  etcdPid: number;
  apiServerPid: number;
  /** kube-apiserver's flags, so it can be started again on the same port (startApiServer). */
  apiServerArgs: string[];
  userTokens: Record<TestUser, string>;
}

export interface Cluster extends ClusterInfo {
  userToken(name: TestUser): string;
  /** A client certificate for user and groups that the cluster accepts; base64 PEM. */
  issueClientCert(user: string, groups?: string[]): Promise<{ certData: string; keyData: string }>;
  /** Kills both servers, waits for them to exit and deletes the data; keeps the logs unless keepLogs is false. Safe to repeat. */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
  /** Kills kube-apiserver and leaves etcd and the data: the API server is down until startApiServer(). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again with the same flags, so on the same port; resolves once it is ready. */
  startApiServer(): Promise<void>;
}

/** The Cluster a ClusterInfo describes, e.g. one that another process started. */
export function attachCluster(info: ClusterInfo): Cluster {
  const cluster: Cluster = {
    ...info,
    userToken: (name) => info.userTokens[name],
    issueClientCert: (user, groups) => issueClientCert(info, user, groups),
    stop: async ({ keepLogs = true } = {}) => {
      await terminate([cluster.apiServerPid, info.etcdPid]);
      await removeState(info.dir, { keepLogs });
    },
    stopApiServer: () => terminate([cluster.apiServerPid]),
    startApiServer: async () => {
      const apiServer = startService('kube-apiserver', join(info.binDir, 'kube-apiserver'), info.apiServerArgs,
        join(info.dir, FILES.apiServerLog), false);
      cluster.apiServerPid = apiServer.pid;
      await writePids(info.dir, { etcd: info.etcdPid, 'kube-apiserver': apiServer.pid });
      await waitUntil([apiServer], () => isReady(info), undefined);
    },
  };
  return cluster;
}

/** Stops whatever cluster dir records as running and deletes its state; reports what it found. */
export async function stopClusterIn(dir: string, { keepLogs }: { keepLogs: boolean }): Promise<'stopped' | 'stale' | 'absent'> {
  const state = await readState(dir);
  if (state.kind === 'running') await terminate(state.pids);
  await removeState(dir, { keepLogs });
  return state.kind === 'running' ? 'stopped' : state.kind;
}

/** Whether the API server answers /readyz with 200. */
export function isReady(info: Pick<ClusterInfo, 'server' | 'caData' | 'adminToken'>): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${info.server}/readyz`, {
      ca: Buffer.from(info.caData, 'base64'),
      agent: false, // no pooled keep-alive socket to hold the process open after a detached start
      headers: { authorization: `Bearer ${info.adminToken}` },
      timeout: 5000,
    }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const progress = options.progress ?? toStderr;
  const binDir = options.binDir ?? (await ensureBinaries(progress));
  const { dir } = options;
  await clearPreviousState(dir, progress);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700); // mkdir's mode does not apply to a folder that already existed
  const began = Date.now();
  try {
    const pki = await createPki(join(dir, FILES.pki));
    const tokens = { admin: randomToken(), nobody: randomToken(), 'token-minter': randomToken() };
    await writeFile(join(dir, FILES.tokens), tokenFile(tokens), { mode: 0o600 });
    const setup: Setup = { ...options, binDir, pki, tokens, caData: base64(await readFile(pki.caFile, 'utf8')) };
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await launch(setup);
        await writeFile(info.adminKubeconfigPath, kubeconfigYaml({
          server: info.server, caData: info.caData, user: 'admin', credentials: { token: tokens.admin },
        }), { mode: 0o600 });
        await writeInfo(info);
        progress(`cluster ready at ${info.server} in ${((Date.now() - began) / 1000).toFixed(1)}s ` +
          `(etcd pid ${info.etcdPid}, kube-apiserver pid ${info.apiServerPid}, state in ${dir})`);
        return attachCluster(info);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt === START_ATTEMPTS) throw error;
        progress(`the port for ${error.service} was taken meanwhile; retrying with other ports`);
      }
    }
  } catch (error) {
    await removeState(dir, { keepLogs: true }); // the error names the logs
    throw error;
  }
}

/** What every start attempt shares. */
interface Setup extends ClusterOptions {
  binDir: string;
  pki: Pki;
  tokens: Record<TestUser | 'admin', string>;
  caData: string;
}

async function clearPreviousState(dir: string, progress: Progress): Promise<void> {
  const state = await readState(dir);
  if (state.kind === 'running') {
    throw new Error(`a cluster started in ${dir} is still running (pids ${state.pids.join(', ')}); ` +
      'stop it first (npm run cluster:down stops the one in .cluster)');
  }
  if (state.kind === 'stale') {
    progress(`removing the state of an earlier cluster in ${dir}: its pid file names processes that are gone ` +
      `(${state.pids.join(', ')})`);
  }
  await removeState(dir, { keepLogs: false });
}

/** Starts etcd, then kube-apiserver, on fresh ports; kills both unless the API server becomes ready. */
async function launch(setup: Setup): Promise<ClusterInfo> {
  const { dir, binDir, pki, detached = false, signal } = setup;
  const [etcdPort = 0, etcdPeerPort = 0, apiPort = 0] = await freePorts(3);
  const server = `https://127.0.0.1:${apiPort}`;
  const started: Service[] = [];
  try {
    const etcdData = join(dir, FILES.etcdData);
    await rm(etcdData, { recursive: true, force: true }); // an earlier attempt's member has other peer URLs
    const etcd = startService('etcd', join(binDir, 'etcd'), etcdArgs(etcdData, etcdPort, etcdPeerPort),
      join(dir, FILES.etcdLog), detached);
    started.push(etcd);
    await writePids(dir, { etcd: etcd.pid });
    await waitUntil(started, () => etcdHealthy(etcdPort), signal);

    const apiServerFlags = apiServerArgs(setup, etcdPort, apiPort);
    const apiServer = startService('kube-apiserver', join(binDir, 'kube-apiserver'), apiServerFlags,
      join(dir, FILES.apiServerLog), detached);
    started.push(apiServer);
    await writePids(dir, { etcd: etcd.pid, 'kube-apiserver': apiServer.pid });
    const { admin: adminToken, ...userTokens } = setup.tokens;
    await waitUntil(started, () => isReady({ server, caData: setup.caData, adminToken }), signal);
    return {
      dir, server, caFile: pki.caFile, caData: setup.caData, caKeyFile: pki.caKeyFile, adminToken,
      adminKubeconfigPath: join(dir, FILES.adminKubeconfig), kubectl: join(binDir, 'kubectl'), binDir,
      issuer: ISSUER, apiAudiences: API_AUDIENCES, etcdPid: etcd.pid, apiServerPid: apiServer.pid,
      apiServerArgs: apiServerFlags, userTokens,
    };
  } catch (error) {
    await terminate(started.map((service) => service.pid).reverse());
    await rm(join(dir, FILES.pids), { force: true });
    throw error;
  }
}

function etcdArgs(dataDir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--unsafe-no-fsync', // the data is thrown away; fsync only slows the tests
  ];
}

function apiServerArgs(setup: Setup, etcdPort: number, port: number): string[] {
  const { pki } = setup;
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.servingCertFile}`,
    `--tls-private-key-file=${pki.servingKeyFile}`,
    `--client-ca-file=${pki.caFile}`,
    `--token-auth-file=${join(setup.dir, FILES.tokens)}`,
    '--authorization-mode=RBAC', // the default, AlwaysAllow, would make every 403 test pass vacuously
    `--service-account-issuer=${ISSUER}`,
    `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
    `--service-account-key-file=${pki.serviceAccountKeyFile}`,
    `--api-audiences=${API_AUDIENCES.join(',')}`,
    `--service-account-max-token-expiration=${setup.maxTokenExpiration ?? '48h'}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--endpoint-reconciler-type=none', // nothing would serve the endpoints it publishes
    ...(setup.extraApiServerArgs ?? []),
  ];
}

/** token,user,uid,"groups" lines for --token-auth-file. */
function tokenFile(tokens: Setup['tokens']): string {
  const { admin, ...users } = tokens;
  const lines = [`${admin},admin,admin,"system:masters"`];
  for (const [user, token] of Object.entries(users)) lines.push(`${token},${user},${user}`);
  return `${lines.join('\n')}\n`;
}

function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

async function etcdHealthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** Thrown when a server could not bind its port: another process took it after freePorts() looked. */
class PortTakenError extends Error {
  service: string;
  constructor(service: string, message: string) {
    super(message);
    this.service = service;
  }
}

/** Polls ready() until it holds; fails with the log of a server that exits first or never gets there. */
async function waitUntil(services: Service[], ready: () => Promise<boolean>, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    signal?.throwIfAborted();
    for (const service of services) {
      const status = exitStatus(service);
      if (status) throw await serviceError(service, `exited during start-up (${status})`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) {
      const last = services.at(-1);
      if (last === undefined) throw new Error(`nothing was started, and nothing was ready within ${READY_WITHIN_MS / 1000}s`);
      throw await serviceError(last, `was not ready within ${READY_WITHIN_MS / 1000}s`);
    }
    await sleep(200, undefined, { signal });
  }
}

async function serviceError(service: Service, what: string): Promise<Error> {
  const tail = await logTail(service.logFile);
  const message = `${service.name} ${what}. The last lines of ${service.logFile}:\n${tail.replace(/^/gm, '  ')}`;
  return /address already in use/.test(tail) ? new PortTakenError(service.name, message) : new Error(message);
}
