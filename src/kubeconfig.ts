import * as yaml from 'js-yaml';
import type { ClusterOverrides } from './settings.ts';

/** A kubeconfig cluster entry, with its CA inline. */
export interface ClusterEndpoint {
  readonly name: string;
  readonly server: string;
  readonly certificateAuthorityData: string | undefined;
  readonly tlsServerName: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly proxyUrl: string | undefined;
}

/** What the written kubeconfig points at: the bootstrap cluster with any overrides applied. */
export type TargetCluster = ClusterEndpoint;

export interface KubeconfigEntry {
  readonly contextName: string;
  readonly userName: string;
  readonly namespace: string;
  readonly token: string;
}

/**
 * Overrides win field by field. A CA given as an override replaces the bootstrap
 * one; insecure-skip-tls-verify drops it, since kubectl refuses both together.
 */
export function targetCluster(bootstrap: ClusterEndpoint | undefined, overrides: ClusterOverrides): TargetCluster | undefined {
  const server = overrides.server ?? bootstrap?.server;
  if (server === undefined) return undefined;
  const insecureSkipTlsVerify = overrides.insecureSkipTlsVerify || (overrides.certificateAuthorityData === undefined && (bootstrap?.insecureSkipTlsVerify ?? false));
  return {
    // A cluster entry without a name breaks client-node and kubectl in later steps.
    name: bootstrap?.name || new URL(server).host,
    server,
    certificateAuthorityData: insecureSkipTlsVerify ? undefined : overrides.certificateAuthorityData ?? bootstrap?.certificateAuthorityData,
    tlsServerName: overrides.tlsServerName ?? bootstrap?.tlsServerName,
    insecureSkipTlsVerify,
    proxyUrl: overrides.proxyUrl ?? bootstrap?.proxyUrl,
  };
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== false)) as Partial<T>;
}

/** The kubeconfig YAML for one cluster and one or more ServiceAccount contexts; the first is current. */
export function renderKubeconfig(cluster: TargetCluster, entries: readonly KubeconfigEntry[]): string {
  const [current] = entries;
  if (current === undefined) throw new Error('renderKubeconfig needs at least one entry');
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: defined({
          server: cluster.server,
          'certificate-authority-data': cluster.certificateAuthorityData,
          'tls-server-name': cluster.tlsServerName,
          'insecure-skip-tls-verify': cluster.insecureSkipTlsVerify,
          'proxy-url': cluster.proxyUrl,
        }),
      },
    ],
    contexts: entries.map((entry) => ({
      name: entry.contextName,
      context: { cluster: cluster.name, namespace: entry.namespace, user: entry.userName },
    })),
    users: entries.map((entry) => ({ name: entry.userName, user: { token: entry.token } })),
    'current-context': current.contextName,
    preferences: {},
  };
  return yaml.dump(document, { lineWidth: -1, noRefs: true });
}
