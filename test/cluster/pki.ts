// Keys and certificates for the test cluster. Node makes keys but cannot write
// X.509 certificates, so those come from the openssl CLI. One CA signs both the
// serving certificate and client certificates, as kubeadm's cluster CA does.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './processes.ts';

const VALID_DAYS = '365';

/** Names the serving certificate answers to: how the API server is reached from the host and from pods. */
const SERVING_NAMES = [
  'IP:127.0.0.1',
  'IP:10.0.0.1', // first address of --service-cluster-ip-range: the kubernetes Service
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

// A config of our own, so the system's openssl.cnf adds no extensions of its own.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${SERVING_NAMES.join(',')}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

export interface Pki {
  caFile: string;
  caKeyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  /** Signs and verifies ServiceAccount tokens (kube-apiserver reads the public half from the same file). */
  serviceAccountKeyFile: string;
}

/** Writes a fresh CA, serving certificate and ServiceAccount key into dir. */
export async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki: Pki = {
    caFile: join(dir, 'ca.crt'),
    caKeyFile: join(dir, 'ca.key'),
    servingCertFile: join(dir, 'apiserver.crt'),
    servingKeyFile: join(dir, 'apiserver.key'),
    serviceAccountKeyFile: join(dir, 'sa.key'),
  };
  await writeFile(configFile(pki.caFile), OPENSSL_CONFIG);
  await writeFile(pki.caKeyFile, ecPrivateKeyPem(), { mode: 0o600 });
  await openssl(['req', '-x509', '-new', '-key', pki.caKeyFile, '-subj', '/CN=sa-kubeconfig-test-ca',
    '-days', VALID_DAYS, '-config', configFile(pki.caFile), '-extensions', 'ca', '-out', pki.caFile]);
  await writeFile(pki.servingKeyFile, ecPrivateKeyPem(), { mode: 0o600 });
  await signCertificate(pki, pki.servingKeyFile, '/CN=kube-apiserver', 'server', pki.servingCertFile);
  await writeFile(pki.serviceAccountKeyFile, ecPrivateKeyPem(), { mode: 0o600 });
  return pki;
}

/**
 * A client certificate for user in groups, signed by the CA the API server trusts
 * for clients (the certificate's CN is the user name, each O a group).
 * Returns base64 PEM, the form a kubeconfig's client-*-data takes.
 */
export async function issueClientCert(
  ca: Pick<Pki, 'caFile' | 'caKeyFile'>,
  user: string,
  groups: string[] = [],
): Promise<{ certData: string; keyData: string }> {
  const subject = [`CN=${subjectValue(user)}`, ...groups.map((group) => `O=${subjectValue(group)}`)];
  const work = await mkdtemp(join(ca.caFile, '..', 'client-'));
  try {
    const keyFile = join(work, 'client.key');
    const certFile = join(work, 'client.crt');
    const keyPem = ecPrivateKeyPem();
    await writeFile(keyFile, keyPem, { mode: 0o600 });
    await signCertificate(ca, keyFile, `/${subject.join('/')}`, 'client', certFile);
    const certPem = await readFile(certFile, 'utf8');
    return { certData: base64(certPem), keyData: base64(keyPem) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** A new P-256 key as SEC1 PEM ("EC PRIVATE KEY"), the one EC form --service-account-key-file accepts. */
function ecPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'sec1', format: 'pem' }).toString();
}

async function signCertificate(
  ca: Pick<Pki, 'caFile' | 'caKeyFile'>,
  keyFile: string,
  subject: string,
  extensions: 'server' | 'client',
  outFile: string,
): Promise<void> {
  const config = configFile(ca.caFile);
  const csr = await openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-config', config]);
  const serial = `0x${randomBytes(12).toString('hex')}`;
  await openssl(['x509', '-req', '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-set_serial', serial,
    '-days', VALID_DAYS, '-extfile', config, '-extensions', extensions, '-out', outFile], csr);
}

/** The openssl config lives beside the CA so a later process (a test) can still sign with it. */
function configFile(caFile: string): string {
  return join(caFile, '..', 'openssl.cnf');
}

/** Escapes the characters openssl's -subj treats as syntax. */
function subjectValue(value: string): string {
  return value.replace(/[\\/+=]/g, (c) => `\\${c}`);
}

async function openssl(args: string[], input?: string): Promise<string> {
  const result = await runCommand('openssl', args, input).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT'
      ? new Error('the openssl CLI is not on PATH; the test cluster needs it to make certificates')
      : error;
  });
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}
