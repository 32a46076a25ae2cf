import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeKubeconfigInput, loadBootstrap, resolveCredentials, type BootstrapRequest } from '../../src/bootstrap.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const KEY_PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkeyBodyThatIsLongEnough0123456789\n-----END EC PRIVATE KEY-----\n';
const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: "${CA}"}
- name: staging
  cluster: {server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true}
users:
- name: bot
  user: {token: "bootstrap-token-123456"}
- name: cert
  user: {client-certificate-data: "Y2VydA==", client-key-data: "${Buffer.from(KEY_PEM).toString('base64')}"}
contexts:
- name: prod
  context: {cluster: prod, user: bot}
- name: staging
  context: {cluster: staging, user: cert}
current-context: prod
`;

function request(overrides: Partial<BootstrapRequest>, secrets: string[] = []): BootstrapRequest {
  return { kubeconfig: undefined, context: undefined, env: {}, homeDirectory: '/nonexistent', onSecret: (secret) => secrets.push(secret), ...overrides };
}

describe('loadBootstrap', () => {
  it('reads the kubeconfig input, YAML or base64, and its current cluster', () => {
    for (const input of [kubeconfig, Buffer.from(kubeconfig).toString('base64')]) {
      const bootstrap = loadBootstrap(request({ kubeconfig: input }));
      assert.equal(bootstrap.source, 'the kubeconfig input');
      assert.deepEqual(bootstrap.cluster, { name: 'prod', server: 'https://10.0.0.1:6443', certificateAuthorityData: CA, tlsServerName: undefined, insecureSkipTlsVerify: false, proxyUrl: undefined });
    }
  });

  it('masks every credential of every user before returning, including the key body and a base64 input', () => {
    const secrets: string[] = [];
    const encoded = Buffer.from(kubeconfig).toString('base64');
    loadBootstrap(request({ kubeconfig: encoded }, secrets));
    assert.ok(secrets.includes(encoded));
    assert.ok(secrets.includes('bootstrap-token-123456'));
    assert.ok(secrets.includes(Buffer.from(KEY_PEM).toString('base64')));
    assert.ok(secrets.includes('MHcCAQEEIBkeyBodyThatIsLongEnough0123456789'));
  });

  it('switches to the context input, and lists the contexts when it is not there', () => {
    assert.equal(loadBootstrap(request({ kubeconfig, context: 'staging' })).cluster.insecureSkipTlsVerify, true);
    assert.throws(() => loadBootstrap(request({ kubeconfig, context: 'dev' })), /Context 'dev' is not in the kubeconfig input\. Its contexts: prod, staging\./);
  });

  it('falls back to KUBECONFIG, merging a list the way kubectl does (first file wins)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-'));
    const first = path.join(dir, 'first');
    const second = path.join(dir, 'second');
    fs.writeFileSync(first, kubeconfig.replace('current-context: prod', 'current-context: staging'));
    fs.writeFileSync(second, kubeconfig.replace(/10\.0\.0\.2/g, '10.9.9.9'));
    const bootstrap = loadBootstrap(request({ env: { KUBECONFIG: `${first}:${path.join(dir, 'missing')}:${second}` } }));
    assert.equal(bootstrap.cluster.server, 'https://10.0.0.2:6443');
    assert.equal(bootstrap.ambientKubeconfig, `${first}:${path.join(dir, 'missing')}:${second}`);
    fs.rmSync(dir, { recursive: true });
  });

  it('falls back to ~/.kube/config, with relative CA paths read from beside it', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
    fs.mkdirSync(path.join(home, '.kube'));
    fs.writeFileSync(path.join(home, '.kube', 'ca.crt'), Buffer.from(CA, 'base64'));
    fs.writeFileSync(path.join(home, '.kube', 'config'), kubeconfig.replace(`certificate-authority-data: "${CA}"`, 'certificate-authority: ca.crt'));
    const bootstrap = loadBootstrap(request({ homeDirectory: home }));
    assert.equal(bootstrap.cluster.certificateAuthorityData, CA);
    fs.rmSync(home, { recursive: true });
  });

  it('says what to do when there are no credentials anywhere', () => {
    assert.throws(() => loadBootstrap(request({})), /No bootstrap credentials: set the kubeconfig input/);
  });
});

describe('decodeKubeconfigInput', () => {
  it('leaves YAML alone and decodes base64 of a kubeconfig, with line breaks', () => {
    assert.equal(decodeKubeconfigInput(kubeconfig), kubeconfig);
    const wrapped = Buffer.from(kubeconfig).toString('base64').replace(/(.{76})/g, '$1\n');
    assert.equal(decodeKubeconfigInput(wrapped), kubeconfig);
  });
  it('leaves base64 of something else as it is, to fail as not-a-kubeconfig', () => {
    const other = Buffer.from('hello world').toString('base64');
    assert.equal(decodeKubeconfigInput(other), other);
  });
});

describe('resolveCredentials', () => {
  it('masks credentials that live in files the kubeconfig names: client-key, tokenFile (as in-cluster)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credentials-'));
    try {
      fs.writeFileSync(path.join(dir, 'client.key'), KEY_PEM);
      fs.writeFileSync(path.join(dir, 'client.crt'), 'cert');
      fs.writeFileSync(path.join(dir, 'token'), 'token-from-a-file-0123456789');
      const withUser = (user: string) => `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: ${user}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`;
      const cases: [string, string][] = [
        [`{client-certificate: "${dir}/client.crt", client-key: "${dir}/client.key"}`, 'MHcCAQEEIBkeyBodyThatIsLongEnough0123456789'],
        [`{auth-provider: {name: tokenFile, config: {tokenFile: "${dir}/token"}}}`, 'token-from-a-file-0123456789'],
      ];
      for (const [user, secret] of cases) {
        const secrets: string[] = [];
        const bootstrap = loadBootstrap(request({ kubeconfig: withUser(user) }, secrets));
        assert.ok(!secrets.includes(secret), `not in the kubeconfig text, so not masked by loading it: ${user}`);
        await resolveCredentials(bootstrap.kubeConfig, bootstrap.source, (found) => secrets.push(found));
        assert.ok(secrets.includes(secret), `masked: ${user}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
