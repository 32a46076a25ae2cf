import { ApiException } from '@kubernetes/client-node';
import { formatDuration } from './duration.ts';
import { KubeCallError, UserFacingError, isUserFacing } from './errors.ts';
import type { Proxy } from './proxy.ts';
import { RetriesExhausted, type Transience } from './retry.ts';

/** What a call was for, so its failure can say what to fix. */
export interface CallContext {
  /** Completes "Could not …", e.g. `request a token for ServiceAccount "ci" in namespace "dev"`. */
  readonly action: string;
  readonly server: string;
  /** Whose credentials were used, e.g. "the credentials from the kubeconfig input". */
  readonly credentials: string;
  /** Which CA the client trusted, for TLS failures. */
  readonly trust: string;
  /** The proxy the calls went through, and where it was asked for. */
  readonly proxy: Proxy | undefined;
  /** The RBAC rule the caller needs, as YAML flow, and where: shown on 403. */
  readonly requiredRule?: { readonly rule: string; readonly namespace: string | undefined };
  /** What a 404 means here and which input fixes it. */
  readonly notFound?: string;
  /** Extra advice on 400/422. */
  readonly invalidHint?: string;
  readonly requestTimeoutSeconds: number;
  readonly timeoutSeconds: number;
}

interface KubernetesStatus {
  readonly message?: string;
  readonly reason?: string;
}

const TRANSIENT_HTTP = new Set([429, 500, 502, 503, 504]);

/** Network errors worth another try: the server restarting, a load balancer hiccup, a slow DNS answer. */
const TRANSIENT_NETWORK: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

function networkCause(error: unknown): { code: string; message: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  let current: unknown = error;
  // fetch wraps the socket error as `cause`, sometimes two levels deep.
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return { code, message: current.message };
    current = current.cause;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && isTimeout(error.cause)));
}

function parseStatus(body: unknown): KubernetesStatus {
  if (typeof body === 'object' && body !== null) return body as KubernetesStatus;
  if (typeof body !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as KubernetesStatus) : {};
  } catch {
    return {};
  }
}

function retryAfterMs(headers: Readonly<Record<string, string>>): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Decides which failures the retry loop tries again. */
export function classifyTransient(error: unknown): Transience | undefined {
  if (error instanceof ApiException) {
    return TRANSIENT_HTTP.has(error.code) ? { reason: `HTTP ${error.code}`, retryAfterMs: retryAfterMs(error.headers) } : undefined;
  }
  if (isTimeout(error)) return { reason: 'request timed out', retryAfterMs: undefined };
  const cause = networkCause(error);
  const reason = cause === undefined ? undefined : TRANSIENT_NETWORK[cause.code];
  return reason === undefined ? undefined : { reason, retryAfterMs: undefined };
}

/**
 * How a 403 from a just-restarted kube-apiserver is waited out. Its RBAC
 * authorizer answers from an informer cache that is empty for a moment after the
 * server starts serving: about 150 ms on an idle machine, and measured past an
 * immediate retry on a loaded 2-core one. A fixed wait, not jittered backoff,
 * because the cache fills on the server's clock, not ours.
 */
const RECONNECT_FORBIDDEN = { retries: 3, waitMs: 1_000 } as const;

/**
 * classifyTransient for the attempts of one call, plus one case that needs
 * memory: after the server was unreachable, up to RECONNECT_FORBIDDEN.retries
 * 403s are retried, each after RECONNECT_FORBIDDEN.waitMs. A 403 otherwise is final.
 */
export function transienceOfOneCall(): (error: unknown) => Transience | undefined {
  let forbiddenRetriesLeft = 0;
  return (error) => {
    const transience = classifyTransient(error);
    if (transience !== undefined) {
      if (!(error instanceof ApiException)) forbiddenRetriesLeft = RECONNECT_FORBIDDEN.retries;
      return transience;
    }
    if (forbiddenRetriesLeft > 0 && error instanceof ApiException && error.code === 403) {
      forbiddenRetriesLeft--;
      return { reason: 'HTTP 403 from an API server that was just unreachable, whose RBAC cache may still be filling', retryAfterMs: RECONNECT_FORBIDDEN.waitMs };
    }
    return undefined;
  };
}

/**
 * The one place that turns client-node, undici and Kubernetes Status failures
 * into a message a user can act on. Never includes ApiException.message (it
 * embeds response headers and body) nor a stack.
 */
export function describeKubeError(error: unknown, context: CallContext, deadline: AbortSignal): UserFacingError {
  if (isUserFacing(error)) return error;
  const attempts = error instanceof RetriesExhausted ? error.attempts : 1;
  const last = error instanceof RetriesExhausted ? error.lastError : error;
  const afterTries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (deadline.aborted) {
    return new KubeCallError(
      `Could not ${context.action}: the step ran out of time (timeout: ${formatDuration(context.timeoutSeconds)})${afterTries}; last problem: ${shortCause(last, context)}. Check that ${context.server} is reachable, or raise the timeout input.`,
      undefined,
    );
  }
  if (last instanceof ApiException) return new KubeCallError(describeHttpError(last, context, afterTries), last.code);
  return new KubeCallError(`Could not ${context.action}: ${shortCause(last, context)}${afterTries}. ${transportAdvice(last, context)}`, undefined);
}

function shortCause(error: unknown, context: CallContext): string {
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    return `HTTP ${error.code}${status.message ? ` (${status.message})` : ''}`;
  }
  if (isTimeout(error)) return `${context.server} did not answer within ${formatDuration(context.requestTimeoutSeconds)} (request-timeout)`;
  const cause = networkCause(error);
  // Node appends advice for its own command line ("; if the root CA is installed locally, try running Node.js with --use-system-ca"): not for an action's user.
  if (cause !== undefined) return `${cause.message.split('; ')[0]} [${cause.code}]`;
  // Errors of our own making or client-node's configuration checks; never a response body.
  return error instanceof Error ? error.message.split('\n')[0] ?? 'unknown error' : 'unknown error';
}

function transportAdvice(error: unknown, context: CallContext): string {
  if (isTimeout(error)) {
    return `The server at ${context.server} accepted the connection but did not answer in time. Check its health, or raise request-timeout.`;
  }
  const cause = networkCause(error);
  const code = cause?.code ?? '';
  const proxy = context.proxy;
  if (proxy !== undefined && /^Proxy response \(\d+\)/.test(cause?.message ?? '')) {
    return `The proxy ${proxy.url} (from ${proxy.source}) refused to tunnel to ${context.server}. Check that it allows CONNECT to that host and port, or bypass it with NO_PROXY.`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `The API server's certificate does not name the host in ${context.server}. Use a server URL whose host the certificate names, or set tls-server-name to a name it does.`;
  }
  if (TLS_TRUST_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('CERT_')) {
    return `TLS verification failed while trusting ${context.trust}. Give the cluster's own CA as certificate-authority-data (from the cluster's kubeconfig).`;
  }
  if (code === 'ENOTFOUND') return `The host in ${context.server} does not resolve from this runner. Check the server URL.`;
  if (code in TRANSIENT_NETWORK) {
    if (proxy !== undefined) {
      return `The API server at ${context.server} is not reachable through the proxy ${proxy.url} (from ${proxy.source}). Check that the proxy is up and reaches the cluster, or bypass it with NO_PROXY.`;
    }
    return `The API server at ${context.server} is not reachable from this runner. Check the server URL, that the cluster is up, and any firewall or proxy (HTTPS_PROXY, proxy-url).`;
  }
  return `Check the server URL ${context.server} and the bootstrap kubeconfig.`;
}

function describeHttpError(error: ApiException<unknown>, context: CallContext, afterTries: string): string {
  const status = parseStatus(error.body);
  const said = status.message ? `: ${status.message}` : '';
  const prefix = `Could not ${context.action}`;
  switch (error.code) {
    case 401:
      return `${prefix}: the API server at ${context.server} rejected ${context.credentials} (401 Unauthorized). They are missing, expired, revoked or issued for another cluster; refresh them.`;
    case 403: {
      const grant = context.requiredRule === undefined
        ? ''
        : ` Grant it with a Role${context.requiredRule.namespace ? ` in namespace "${context.requiredRule.namespace}"` : ''} and a RoleBinding; the rule: ${context.requiredRule.rule}.`;
      return `${prefix}: forbidden (403)${said}.${grant}`;
    }
    case 404:
      return `${prefix}: not found (404)${said}. ${context.notFound ?? ''}`.trimEnd();
    case 400:
    case 422:
      return `${prefix}: the API server refused the request (${error.code})${said}. ${context.invalidHint ?? ''}`.trimEnd();
    default:
      return `${prefix}: the API server at ${context.server} answered HTTP ${error.code}${said}${afterTries}. ${TRANSIENT_HTTP.has(error.code) ? 'It may be overloaded or restarting; try again later.' : ''}`.trimEnd();
  }
}
