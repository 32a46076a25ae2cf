import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { KubeConfig, type Cluster, type User } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { UserFacingError } from './errors.ts';
import type { ClusterEndpoint } from './kubeconfig.ts';

/** The credentials that ask for the token, and where they came from (for messages). */
export interface Bootstrap {
  readonly kubeConfig: KubeConfig;
  /** Names the source in messages, e.g. "the kubeconfig input" or "KUBECONFIG (/tmp/x)". */
  readonly source: string;
  readonly cluster: ResolvedCluster;
  /** The KUBECONFIG value used, so the post step can reach the cluster after this step re-pointed it. */
  readonly ambientKubeconfig: string | undefined;
}

/** The bootstrap cluster with its CA read in, ready to copy into the new kubeconfig. */
export type ResolvedCluster = ClusterEndpoint;

export interface BootstrapRequest {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  /** Environment to look in for KUBECONFIG and in-cluster hints. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDirectory: string;
  /** Called with every secret found, before anything else is done with it. */
  readonly onSecret: (secret: string) => void;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Finds the bootstrap credentials in order of precedence: the kubeconfig input,
 * then KUBECONFIG or ~/.kube/config, then the pod's in-cluster ServiceAccount.
 */
export function loadBootstrap(request: BootstrapRequest): Bootstrap {
  const { kubeConfig, source, ambientKubeconfig } = loadKubeConfig(request);
  for (const user of kubeConfig.getUsers()) maskUserSecrets(user, request.onSecret);
  selectContext(kubeConfig, request.context, source);
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) {
    throw new UserFacingError(`The current context of ${source} names a cluster that it does not define.`);
  }
  return { kubeConfig, source, ambientKubeconfig, cluster: resolveCluster(cluster, source) };
}

function loadKubeConfig(request: BootstrapRequest): Omit<Bootstrap, 'cluster'> {
  if (request.kubeconfig !== undefined) {
    const text = decodeKubeconfigInput(request.kubeconfig);
    // base64 of a kubeconfig is a credential in itself; the YAML form is masked field by field below.
    if (text !== request.kubeconfig) request.onSecret(request.kubeconfig.trim());
    return { kubeConfig: parseKubeconfig(text, 'the kubeconfig input'), source: 'the kubeconfig input', ambientKubeconfig: undefined };
  }
  const fromEnv = request.env.KUBECONFIG?.split(path.delimiter).filter((file) => file !== '') ?? [];
  if (fromEnv.length > 0) {
    const kubeConfig = loadFiles(fromEnv, 'KUBECONFIG');
    return { kubeConfig, source: `KUBECONFIG (${fromEnv.join(path.delimiter)})`, ambientKubeconfig: request.env.KUBECONFIG };
  }
  const homeConfig = path.join(request.homeDirectory, '.kube', 'config');
  if (fs.existsSync(homeConfig)) {
    return { kubeConfig: loadFiles([homeConfig], homeConfig), source: homeConfig, ambientKubeconfig: homeConfig };
  }
  if (request.env.KUBERNETES_SERVICE_HOST && fs.existsSync(IN_CLUSTER_TOKEN)) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    request.onSecret(fs.readFileSync(IN_CLUSTER_TOKEN, 'utf8').trim());
    return { kubeConfig, source: 'the in-cluster ServiceAccount', ambientKubeconfig: undefined };
  }
  throw new UserFacingError(
    'No bootstrap credentials: set the kubeconfig input (for example from a repository secret), run a step that sets KUBECONFIG before this one, or run on a self-hosted runner inside the cluster.',
  );
}

/**
 * Produces the credential the bootstrap user will send (running its exec plugin,
 * reading its token file) and masks it. Masking the fields of a kubeconfig is not
 * enough: an exec plugin (aws eks get-token, gke-gcloud-auth-plugin, kubelogin)
 * returns a token that appears in no file. Doing it now also turns a broken plugin
 * into one clear error before any call, instead of a failure deep inside one.
 */
export async function resolveCredentials(kubeConfig: KubeConfig, source: string, onSecret: (secret: string) => void): Promise<void> {
  // The same KubeConfig object the calls will use: its exec plugin caches the credential it
  // printed, and a plugin run twice (aws eks get-token) prints a different token each time.
  const options: https.RequestOptions = {};
  try {
    await kubeConfig.applyToHTTPSOptions(options);
  } catch (error) {
    throw credentialFailure(kubeConfig, source, error);
  }
  const headers = options.headers;
  const authorization = headers !== undefined && !Array.isArray(headers) ? (headers as Record<string, unknown>).Authorization : undefined;
  if (typeof authorization === 'string') maskLongEnough(authorization.replace(/^Bearer\s+/i, ''), onSecret);
  if (typeof options.auth === 'string') maskLongEnough(options.auth.slice(options.auth.indexOf(':') + 1), onSecret);
  const key = options.key;
  if (typeof key === 'string' || Buffer.isBuffer(key)) {
    for (const line of key.toString().split('\n')) if (!line.startsWith('-----')) maskLongEnough(line, onSecret);
  }
}

/** Names the plugin and what to do; never its output, which is the plugin's to word and may carry credentials. */
function credentialFailure(kubeConfig: KubeConfig, source: string, error: unknown): UserFacingError {
  const user = kubeConfig.getCurrentUser();
  const exec: unknown = user?.exec ?? user?.authProvider?.config?.exec;
  const command = typeof exec === 'object' && exec !== null && 'command' in exec && typeof exec.command === 'string' ? exec.command : undefined;
  if (command === undefined) {
    return new UserFacingError(`The credentials of user '${user?.name ?? '?'}' in ${source} could not be loaded: check the files and settings it names.`);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOENT'
      ? 'was not found on PATH: install it (or the CLI that provides it) in a step before this one'
      : error instanceof SyntaxError
        ? 'did not print an ExecCredential as JSON: run it by hand to see what it prints'
        : 'failed: run it by hand in a step before this one to see why (expired or missing cloud credentials are the usual cause)';
  return new UserFacingError(`The exec credential plugin '${command}' of user '${user?.name ?? '?'}' in ${source} ${what}.`);
}

function maskLongEnough(secret: string, onSecret: (secret: string) => void): void {
  // Very short strings would mask ordinary words across the whole log; no real credential is that short.
  if (secret.trim().length >= 8) onSecret(secret.trim());
}

/** The input may be the YAML itself or base64 of it (secrets are often stored encoded). */
export function decodeKubeconfigInput(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (/\b(clusters|apiVersion|kind)\s*:/.test(decoded)) return decoded;
  }
  return value;
}

function loadFiles(files: readonly string[], origin: string): KubeConfig {
  let merged: KubeConfig | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      if (files.length > 1) continue; // kubectl skips missing entries of a KUBECONFIG list too
      throw new UserFacingError(`${origin} names ${file}, which cannot be read. Check the step that set it.`);
    }
    const kubeConfig = parseKubeconfig(text, file);
    kubeConfig.makePathsAbsolute(path.dirname(file));
    if (merged === undefined) merged = kubeConfig;
    else mergeKeepingFirst(merged, kubeConfig);
  }
  if (merged === undefined) throw new UserFacingError(`None of the files ${origin} names can be read. Check the step that set it.`);
  return merged;
}

/** kubectl's rule for a KUBECONFIG list: the first file to define a name wins. */
function mergeKeepingFirst(into: KubeConfig, from: KubeConfig): void {
  const has = (list: readonly { name: string }[], name: string): boolean => list.some((entry) => entry.name === name);
  for (const cluster of from.getClusters()) if (!has(into.getClusters(), cluster.name)) into.addCluster(cluster);
  for (const user of from.getUsers()) if (!has(into.getUsers(), user.name)) into.addUser(user);
  for (const context of from.getContexts()) if (!has(into.getContexts(), context.name)) into.addContext(context);
  if (!into.getCurrentContext()) into.setCurrentContext(from.getCurrentContext());
}

/**
 * Parses kubeconfig text without ever echoing it: YAML errors carry a snippet of
 * the input, so only the position is reported.
 */
export function parseKubeconfig(text: string, description: string): KubeConfig {
  let document: unknown;
  try {
    document = yaml.load(text);
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    const mark = (error as { mark?: { line?: number; column?: number } }).mark;
    const where = mark?.line === undefined ? '' : ` (line ${mark.line + 1}, column ${(mark.column ?? 0) + 1})`;
    throw new UserFacingError(`${capitalize(description)} is not valid YAML${where}. Provide a kubeconfig, as YAML or base64 of it.`);
  }
  if (typeof document !== 'object' || document === null || !('clusters' in document)) {
    throw new UserFacingError(`${capitalize(description)} is not a kubeconfig: it has no clusters. Provide a kubeconfig, as YAML or base64 of it.`);
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromString(text, { onInvalidEntry: 'throw' });
  } catch (error) {
    // client-node's messages here name only an entry's position ("users[0].name is missing").
    const detail = error instanceof Error && /^\w+\[\d+\][\w.-]* is missing$/.test(error.message) ? `: ${error.message}` : '';
    throw new UserFacingError(`${capitalize(description)} is not a valid kubeconfig${detail}.`);
  }
  return kubeConfig;
}

function selectContext(kubeConfig: KubeConfig, wanted: string | undefined, source: string): void {
  const names = kubeConfig.getContexts().map((context) => context.name);
  const listed = names.length > 0 ? names.join(', ') : '(none)';
  if (wanted !== undefined) {
    if (!names.includes(wanted)) {
      throw new UserFacingError(`Context '${wanted}' is not in ${source}. Its contexts: ${listed}.`);
    }
    kubeConfig.setCurrentContext(wanted);
  } else if (!kubeConfig.getCurrentContext() || kubeConfig.getContextObject(kubeConfig.getCurrentContext()) === null) {
    throw new UserFacingError(`${capitalize(source)} has no usable current-context. Set the context input to one of: ${listed}.`);
  }
}

function resolveCluster(cluster: Cluster, source: string): ResolvedCluster {
  let certificateAuthorityData = cluster.caData;
  if (certificateAuthorityData === undefined && cluster.caFile !== undefined) {
    try {
      certificateAuthorityData = fs.readFileSync(cluster.caFile).toString('base64');
    } catch {
      throw new UserFacingError(`The certificate-authority file ${cluster.caFile} named by ${source} cannot be read.`);
    }
  }
  return {
    name: cluster.name,
    server: cluster.server,
    certificateAuthorityData,
    tlsServerName: cluster.tlsServerName,
    insecureSkipTlsVerify: cluster.skipTLSVerify,
    proxyUrl: cluster.proxyUrl,
  };
}

/** Every credential a kubeconfig user can carry, so none can reach a log. */
function maskUserSecrets(user: User, onSecret: (secret: string) => void): void {
  const secrets: (string | undefined)[] = [user.token, user.password, user.keyData];
  if (user.keyData !== undefined) {
    // client-node decodes the key into PEM; mask its body lines in case a library ever prints them.
    const pem = Buffer.from(user.keyData, 'base64').toString('utf8');
    secrets.push(...pem.split('\n').filter((line) => !line.startsWith('-----')));
  }
  const providerConfig: unknown = user.authProvider?.config;
  if (typeof providerConfig === 'object' && providerConfig !== null) {
    for (const key of ['id-token', 'refresh-token', 'access-token', 'client-secret']) {
      const value: unknown = (providerConfig as Record<string, unknown>)[key];
      if (typeof value === 'string') secrets.push(value);
    }
  }
  for (const secret of secrets) if (secret !== undefined) maskLongEnough(secret, onSecret);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
