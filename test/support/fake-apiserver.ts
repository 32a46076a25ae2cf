// Stand-ins for an API server that misbehaves in ways a real one cannot be made
// to on cue: an HTTPS server that answers TokenRequest and SelfSubjectReview after
// a scripted run of failures, a TCP server that accepts and never answers, and a
// listener that notices a client's first attempt at a port.
// Each is stopped by an after() hook in the scope that started it: a test, or the
// file when started at the top level (in a before() hook it would stop as the hook ends).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import { base64, createPki } from '../cluster/pki.ts';

/** One scripted answer: a status, its headers, and a Kubernetes Status message. */
export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  message?: string;
}

/** What the fake saw, with when it arrived and when it was answered (performance.now() ms). */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  status: number;
  receivedAt: number;
  answeredAt: number;
}

export interface FakeApiServer {
  /** https://HOST:PORT */
  server: string;
  /** base64 PEM of the CA that signed the serving certificate (for 127.0.0.1, localhost, …; not 127.0.0.2). */
  caData: string;
  /** The token in kubeconfig()'s user: a secret for leak checks (the fake accepts any token). */
  bootstrapToken: string;
  requests: SeenRequest[];
  /** Answers the next requests to path with these, in order; after them, the normal answer. */
  script(path: string, answers: FakeAnswer[]): void;
  /** A bootstrap kubeconfig for this server; clusterLines are added to its cluster entry (e.g. `tls-server-name: "localhost"`). */
  kubeconfig(...clusterLines: string[]): string;
}

export const SELF_SUBJECT_REVIEWS = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

export function tokenPath(namespace: string, serviceAccount: string): string {
  return `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`;
}

const TOKEN_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/;

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token shaped like a ServiceAccount JWT; the signature is random, the fake never checks it. */
function fakeJwt(subject: string): string {
  return `${base64url({ alg: 'RS256', kid: 'fake' })}.${base64url({ sub: subject, iss: 'fake-apiserver' })}.${randomBytes(32).toString('base64url')}`;
}

function subjectOf(authorization: string | undefined): string | undefined {
  const payload = authorization?.replace(/^Bearer /, '').split('.')[1];
  if (payload === undefined) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: string }).sub;
  } catch {
    return undefined;
  }
}

function statusBody(code: number, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code };
}

/** The normal answer to a request the script has nothing more for. */
function normalAnswer(path: string, authorization: string | undefined, body: unknown): { status: number; body: object } {
  const token = TOKEN_PATH.exec(path);
  if (token) {
    const [, namespace, serviceAccount] = token;
    const spec = (body as { spec?: { audiences?: string[]; expirationSeconds?: number } } | undefined)?.spec ?? {};
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    return {
      status: 201,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: serviceAccount, namespace },
        spec: { audiences: spec.audiences ?? [], expirationSeconds },
        status: {
          token: fakeJwt(`system:serviceaccount:${namespace}:${serviceAccount}`),
          expirationTimestamp: new Date(Date.now() + expirationSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      },
    };
  }
  if (path === SELF_SUBJECT_REVIEWS) {
    const username = subjectOf(authorization);
    if (username === undefined) return { status: 401, body: statusBody(401, 'Unauthorized') };
    return {
      status: 201,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: { username, groups: ['system:serviceaccounts', 'system:authenticated'] } } },
    };
  }
  return { status: 404, body: statusBody(404, `the fake API server does not serve ${path}`) };
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('error', reject);
    request.on('end', () => {
      try {
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch {
        resolve(text);
      }
    });
  });
}

/** An HTTPS fake of the two calls the action makes, listening on host (default 127.0.0.1). */
export async function startFakeApiServer({ host = '127.0.0.1' }: { host?: string } = {}): Promise<FakeApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-fake-apiserver-'));
  let server: HttpsServer | undefined;
  after(async () => {
    if (server !== undefined) await closeHttpsServer(server);
    await rm(dir, { recursive: true, force: true });
  });
  const pki = await createPki(dir);
  const scripts = new Map<string, FakeAnswer[]>();
  const requests: SeenRequest[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const receivedAt = performance.now();
    const path = new URL(request.url ?? '/', 'https://fake').pathname;
    const authorization = request.headers.authorization;
    const body = await readBody(request);
    const scripted = scripts.get(path)?.shift();
    const answer = scripted === undefined
      ? normalAnswer(path, authorization, body)
      : { status: scripted.status, body: statusBody(scripted.status, scripted.message ?? `scripted ${scripted.status}`), headers: scripted.headers };
    response.writeHead(answer.status, { 'content-type': 'application/json', ...('headers' in answer ? answer.headers : {}) });
    response.end(JSON.stringify(answer.body), () => {
      requests.push({ method: request.method ?? '', path, authorization, body, status: answer.status, receivedAt, answeredAt: performance.now() });
    });
  };

  server = createHttpsServer({ key: await readFile(pki.servingKeyFile), cert: await readFile(pki.servingCertFile) }, (request, response) => {
    handle(request, response).catch((error: unknown) => response.destroy(error as Error));
  });
  const port = await listen(server, host);
  const url = `https://${host}:${port}`;
  const caData = base64(await readFile(pki.caFile, 'utf8'));
  const bootstrapToken = randomBytes(24).toString('base64url');
  return {
    server: url,
    caData,
    bootstrapToken,
    requests,
    script: (path, answers) => scripts.set(path, [...(scripts.get(path) ?? []), ...answers]),
    kubeconfig: (...clusterLines) => {
      const yaml = kubeconfigYaml({ server: url, caData, user: 'bootstrap', credentials: { token: bootstrapToken } });
      return yaml.replace(/^( {4}certificate-authority-data: .*)$/m, (line) => [line, ...clusterLines.map((extra) => `    ${extra}`)].join('\n'));
    },
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte: not even a TLS handshake. */
export async function startSilentServer(): Promise<{ server: string }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = await listen(server, '127.0.0.1');
  return { server: `https://127.0.0.1:${port}` };
}

/**
 * Listens on 127.0.0.1:port until the first client connects, drops that
 * connection (the client sees a reset) and stops listening: resolves then. Tells a
 * test the moment a client made its first attempt at a port where nothing else listens.
 */
export async function dropFirstConnection(port: number): Promise<void> {
  const server = createTcpServer();
  after(() => new Promise((resolve) => server.close(resolve)));
  const connected = new Promise<void>((resolve) => {
    server.once('connection', (socket) => {
      socket.on('error', () => {});
      socket.resetAndDestroy();
      server.close(() => resolve());
    });
  });
  if ((await listen(server, '127.0.0.1', port)) !== port) throw new Error(`could not listen on port ${port}`);
  await connected;
}

function listen(server: TcpServer, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeHttpsServer(server: HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
