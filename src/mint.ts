import { KubeConfig } from '@kubernetes/client-node';
import { loadBootstrap, resolveCredentials, type Bootstrap } from './bootstrap.ts';
import { createClusterApi, type CallPolicy, type ClusterApi, type TokenSpec } from './cluster-api.ts';
import { UserFacingError } from './errors.ts';
import { renderKubeconfig, targetCluster, type TargetCluster } from './kubeconfig.ts';
import type { Logger } from './logger.ts';
import { provision } from './provision.ts';
import { chooseProxy, type Proxy } from './proxy.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
import {
  checkRevocationAllowed,
  createRevocationSecret,
  deleteRevocationSecret,
  revocationSecretName,
  type RevocationSecret,
} from './revocation.ts';
import type { Settings } from './settings.ts';
import { requestToken } from './token.ts';
import { verifyToken } from './verify.ts';

const CLEANUP_TIMEOUT_MS = 30_000;

export interface MintEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDirectory: string;
  readonly retry?: RetryPolicy;
}

export interface MintHooks {
  readonly logger: Logger;
  /** Persist what the post step must delete, and how to reach the cluster again, before it exists. */
  readonly recordRevocationSecret: (secret: RevocationSecret, ambientKubeconfig: string | undefined) => void;
}

export interface MintResult {
  readonly kubeconfig: string;
  readonly token: string;
  readonly expirationTimestamp: Date;
  readonly contextName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  /** From SelfSubjectReview; undefined when not verified. */
  readonly username: string | undefined;
  readonly cluster: TargetCluster;
  readonly revocationSecret: RevocationSecret | undefined;
}

/** Describes the CA a client trusts, for TLS error messages. */
function describeTrust(cluster: { certificateAuthorityData: string | undefined; insecureSkipTlsVerify: boolean }, source: string): string {
  if (cluster.insecureSkipTlsVerify) return 'no CA at all (insecure-skip-tls-verify)';
  return cluster.certificateAuthorityData ? `the certificate-authority-data from ${source}` : 'the system CA store (no certificate-authority-data was given)';
}

/** A copy of the kubeconfig whose current cluster goes through the proxy. */
function withProxy(kubeConfig: KubeConfig, proxy: Proxy | undefined): KubeConfig {
  const current = kubeConfig.getCurrentCluster();
  const proxyUrl = proxy?.url;
  if (proxyUrl === undefined || current === null || current.proxyUrl === proxyUrl) return kubeConfig;
  const proxied = new KubeConfig();
  proxied.loadFromOptions({
    clusters: kubeConfig.getClusters().map((cluster) => (cluster.name === current.name ? { ...cluster, proxyUrl } : cluster)),
    users: kubeConfig.getUsers(),
    contexts: kubeConfig.getContexts(),
    currentContext: kubeConfig.getCurrentContext(),
  });
  return proxied;
}

function callPolicy(settings: Settings, deadline: AbortSignal, logger: Logger, retry: RetryPolicy): CallPolicy {
  return {
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    timeoutSeconds: settings.timeoutSeconds,
    deadline,
    retry,
    onRetry: (message) => logger.notice(message),
    // Our own warnings already cover what matters (a shortened life); keep the server's words visible but quiet.
    onWarning: (warning) => logger.info(`The API server says: ${warning}`),
  };
}

/**
 * The bootstrap identity's kubeconfig, through the proxy the environment or inputs
 * ask for, with its credential produced (exec plugin run) and masked once.
 */
async function bootstrapClient(bootstrap: Bootstrap, settings: Settings, environment: MintEnvironment, onSecret: (secret: string) => void): Promise<(policy: CallPolicy) => ClusterApi> {
  const configured = bootstrap.cluster.proxyUrl
    ? { url: bootstrap.cluster.proxyUrl, source: `proxy-url in ${bootstrap.source}` }
    : { url: settings.cluster.proxyUrl, source: 'the proxy-url input' };
  const proxy = chooseProxy(bootstrap.cluster.server, configured, environment.env);
  const kubeConfig = withProxy(bootstrap.kubeConfig, proxy);
  await resolveCredentials(kubeConfig, bootstrap.source, onSecret);
  const target = {
    server: bootstrap.cluster.server,
    credentials: `the credentials from ${bootstrap.source}`,
    trust: describeTrust(bootstrap.cluster, bootstrap.source),
    proxy,
  };
  return (policy) => createClusterApi(kubeConfig, target, policy);
}

/** The bootstrap identity, ready to call the API server. */
export interface BootstrapConnection {
  readonly bootstrap: Bootstrap;
  /** Calls bounded by the step's deadline. */
  readonly api: ClusterApi;
  readonly policy: CallPolicy;
  /** The same identity under other limits (clean-up after a failure gets a budget of its own). */
  readonly withPolicy: (policy: CallPolicy) => ClusterApi;
}

/**
 * Finds the bootstrap credentials (masking them) and a client for them whose
 * calls end at `deadline`. The main step mints with it; the post step deletes
 * the revocation Secret with it.
 */
export async function connectBootstrap(settings: Settings, environment: MintEnvironment, logger: Logger, deadline: AbortSignal): Promise<BootstrapConnection> {
  const onSecret = (secret: string): void => logger.secret(secret);
  const bootstrap = loadBootstrap({
    kubeconfig: settings.bootstrapKubeconfig,
    context: settings.bootstrapContext,
    env: environment.env,
    homeDirectory: environment.homeDirectory,
    onSecret,
  });
  const withPolicy = await bootstrapClient(bootstrap, settings, environment, onSecret);
  const policy = callPolicy(settings, deadline, logger, environment.retry ?? DEFAULT_RETRY_POLICY);
  return { bootstrap, api: withPolicy(policy), policy, withPolicy };
}

/**
 * The whole data flow, with no runner effects: bootstrap → (provision) →
 * (revocation Secret) → token → render → verify. On failure, deletes the
 * revocation Secret it created, so a failed step leaves nothing behind.
 */
export async function mintKubeconfig(settings: Settings, environment: MintEnvironment, hooks: MintHooks): Promise<MintResult> {
  const { logger } = hooks;
  const { bootstrap, api, policy, withPolicy } = await connectBootstrap(settings, environment, logger, AbortSignal.timeout(settings.timeoutSeconds * 1000));
  logger.info(`Bootstrap credentials: ${bootstrap.source}; API server ${bootstrap.cluster.server}.`);
  await provision(api, settings, logger);

  let revocationSecret: RevocationSecret | undefined;
  try {
    let boundObject: TokenSpec['boundObject'] = settings.boundObject === undefined ? undefined : { ...settings.boundObject, uid: undefined };
    if (settings.revokeOnExit) {
      await checkRevocationAllowed(api, settings.namespace);
      revocationSecret = { namespace: settings.namespace, name: revocationSecretName(settings.serviceAccount) };
      const uid = await createRevocationSecret(api, revocationSecret, settings.serviceAccount, (secret) => hooks.recordRevocationSecret(secret, bootstrap.ambientKubeconfig), logger);
      boundObject = { kind: 'Secret', name: revocationSecret.name, uid };
    }
    const minted = await requestToken(api, { ...settings, boundObject }, logger);
    const cluster = targetCluster(bootstrap.cluster, settings.cluster);
    if (cluster === undefined) throw new UserFacingError('No API server URL: the bootstrap cluster has none and the server input is empty. Set server.');
    const kubeconfig = renderKubeconfig(cluster, [
      { contextName: settings.contextName, userName: `${settings.serviceAccount}@${settings.namespace}`, namespace: settings.namespace, token: minted.token },
    ]);
    const username = await verifyToken(mintedTokenApi(kubeconfig, cluster, bootstrap.source, environment, policy), settings, logger);
    return {
      kubeconfig,
      token: minted.token,
      expirationTimestamp: minted.expirationTimestamp,
      contextName: settings.contextName,
      namespace: settings.namespace,
      serviceAccount: settings.serviceAccount,
      audiences: settings.audiences,
      username,
      cluster,
      revocationSecret,
    };
  } catch (error) {
    if (revocationSecret !== undefined) {
      // The step's deadline may be what failed: give the clean-up a budget of its own.
      const cleanupPolicy = callPolicy(settings, AbortSignal.timeout(CLEANUP_TIMEOUT_MS), logger, environment.retry ?? DEFAULT_RETRY_POLICY);
      await deleteQuietly(withPolicy(cleanupPolicy), revocationSecret, logger);
    }
    throw error;
  }
}

function mintedTokenApi(kubeconfig: string, cluster: TargetCluster, source: string, environment: MintEnvironment, policy: CallPolicy): ClusterApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfig);
  const proxy = chooseProxy(cluster.server, { url: cluster.proxyUrl, source: 'proxy-url' }, environment.env);
  return createClusterApi(
    withProxy(kubeConfig, proxy),
    { server: cluster.server, credentials: 'the new token', trust: describeTrust(cluster, source), proxy },
    policy,
  );
}

async function deleteQuietly(api: ClusterApi, secret: RevocationSecret, logger: Logger): Promise<void> {
  try {
    await deleteRevocationSecret(api, secret);
  } catch (error) {
    logger.warning(`${error instanceof Error ? error.message : String(error)} The post step will try again.`);
  }
}
