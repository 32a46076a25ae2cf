import path from 'node:path';
import { parseDuration } from './duration.ts';
import { InputError } from './errors.ts';
import {
  parseBoolean,
  parseCertificateAuthorityData,
  parseLines,
  parseList,
  parseNamespace,
  parseObjectName,
  parseServerUrl,
} from './parsers.ts';
import { parsePermission, type PermissionRequirement } from './permissions.ts';

/** The API server refuses shorter tokens (422); say so before asking it. */
export const MIN_EXPIRATION_SECONDS = 600;
/** TokenRequest validation: "may not specify a duration larger than 2^32 seconds". */
export const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface BoundObject {
  readonly kind: 'Secret' | 'Pod';
  readonly name: string;
}

/** Where the written kubeconfig points, when it should not simply copy the bootstrap cluster. */
export interface ClusterOverrides {
  readonly server: string | undefined;
  readonly certificateAuthorityData: string | undefined;
  readonly tlsServerName: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly proxyUrl: string | undefined;
}

/** Everything one invocation needs, validated. Built once by readSettings. */
export interface Settings {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly bootstrapKubeconfig: string | undefined;
  readonly bootstrapContext: string | undefined;
  readonly cluster: ClusterOverrides;
  readonly contextName: string;
  /** Absolute; undefined = a unique file under RUNNER_TEMP. */
  readonly kubeconfigPath: string | undefined;
  readonly exportKubeconfig: boolean;
  readonly createServiceAccount: boolean;
  readonly clusterRole: string | undefined;
  readonly cleanup: boolean;
  readonly revokeOnExit: boolean;
  readonly boundObject: BoundObject | undefined;
  readonly verify: boolean;
  readonly requirePermissions: readonly PermissionRequirement[];
  readonly requestTimeoutSeconds: number;
  readonly timeoutSeconds: number;
}

/** Reads one input by its action.yml name; '' when not given. */
export type InputReader = (name: string) => string;

function optional(value: string): string | undefined {
  return value === '' ? undefined : value;
}

export function parseExpiration(value: string): number {
  const seconds = parseDuration(value, 'expiration');
  if (seconds < MIN_EXPIRATION_SECONDS) {
    throw new InputError(
      `Invalid expiration '${value}': the API server refuses tokens shorter than 10 minutes. Use 10m or more.`,
    );
  }
  if (seconds > MAX_EXPIRATION_SECONDS) {
    throw new InputError(`Invalid expiration '${value}': the API server refuses more than 2^32 seconds. Use a shorter duration.`);
  }
  return seconds;
}

export function parseBoundObject(value: string): BoundObject {
  const match = /^(secret|pod)\/(.+)$/i.exec(value);
  if (match === null) {
    throw new InputError(`Invalid bound-object '${value}'. Expected Secret/NAME or Pod/NAME.`);
  }
  const kind = match[1]?.toLowerCase() === 'pod' ? 'Pod' : 'Secret';
  return { kind, name: parseObjectName(match[2] ?? '', 'bound-object name') };
}

function parseTimeout(value: string, inputName: string): number {
  const seconds = parseDuration(value, inputName);
  if (seconds < 1) throw new InputError(`Invalid ${inputName} '${value}'. Expected at least 1s.`);
  return seconds;
}

function readCluster(input: InputReader): ClusterOverrides {
  const server = optional(input('server'));
  const caData = optional(input('certificate-authority-data'));
  const proxyUrl = optional(input('proxy-url'));
  const insecureSkipTlsVerify = parseBoolean(input('insecure-skip-tls-verify'), 'insecure-skip-tls-verify', false);
  if (insecureSkipTlsVerify && caData !== undefined) {
    throw new InputError(
      'certificate-authority-data and insecure-skip-tls-verify: true contradict each other (kubectl refuses both). Keep the CA and drop insecure-skip-tls-verify.',
    );
  }
  return {
    server: server === undefined ? undefined : parseServerUrl(server, 'server'),
    certificateAuthorityData: caData === undefined ? undefined : parseCertificateAuthorityData(caData, 'certificate-authority-data'),
    tlsServerName: optional(input('tls-server-name')),
    insecureSkipTlsVerify,
    proxyUrl: proxyUrl === undefined ? undefined : parseServerUrl(proxyUrl, 'proxy-url'),
  };
}

/**
 * Validates every input before anything touches the cluster or the disk, so bad
 * input fails with one message that names the input and the fix.
 * `workingDirectory` resolves a relative kubeconfig-path.
 */
export function readSettings(input: InputReader, workingDirectory: string): Settings {
  const serviceAccountInput = input('service-account');
  if (serviceAccountInput === '') {
    throw new InputError('Input service-account is required: the name of the ServiceAccount to mint a token for.');
  }
  const serviceAccount = parseObjectName(serviceAccountInput, 'service-account');
  const namespace = parseNamespace(input('namespace') || 'default', 'namespace');
  const boundObjectInput = optional(input('bound-object'));
  const revokeOnExit = parseBoolean(input('revoke-on-exit'), 'revoke-on-exit', false);
  if (revokeOnExit && boundObjectInput !== undefined) {
    throw new InputError(
      'revoke-on-exit and bound-object both bind the token to an object; a token has one. Use one of them.',
    );
  }
  const clusterRole = optional(input('cluster-role'));
  if (clusterRole !== undefined && /[/\s%]/.test(clusterRole)) {
    throw new InputError(`Invalid cluster-role '${clusterRole}'. Expected the name of a ClusterRole, such as edit or view.`);
  }
  const contextName = input('context-name') || `${serviceAccount}@${namespace}`;
  if (/[\r\n]/.test(contextName)) throw new InputError('Invalid context-name: it must be one line.');
  const kubeconfigPath = optional(input('kubeconfig-path'));
  return {
    namespace,
    serviceAccount,
    audiences: parseList(input('audiences')),
    expirationSeconds: parseExpiration(input('expiration') || '1h'),
    bootstrapKubeconfig: optional(input('kubeconfig')),
    bootstrapContext: optional(input('context')),
    cluster: readCluster(input),
    contextName,
    kubeconfigPath: kubeconfigPath === undefined ? undefined : path.resolve(workingDirectory, kubeconfigPath),
    exportKubeconfig: parseBoolean(input('export-kubeconfig'), 'export-kubeconfig', true),
    createServiceAccount: parseBoolean(input('create-service-account'), 'create-service-account', false),
    clusterRole,
    cleanup: parseBoolean(input('cleanup'), 'cleanup', true),
    revokeOnExit,
    boundObject: boundObjectInput === undefined ? undefined : parseBoundObject(boundObjectInput),
    verify: parseBoolean(input('verify'), 'verify', true),
    requirePermissions: parseLines(input('require-permissions')).map(parsePermission),
    requestTimeoutSeconds: parseTimeout(input('request-timeout') || '30s', 'request-timeout'),
    timeoutSeconds: parseTimeout(input('timeout') || '2m', 'timeout'),
  };
}
