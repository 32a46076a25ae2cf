import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { ensureBinaries } from '../cluster/cluster.ts';
import { renderKubeconfig, targetCluster, type ClusterEndpoint } from '../../src/kubeconfig.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const bootstrap: ClusterEndpoint = {
  name: 'prod',
  server: 'https://10.0.0.1:6443',
  certificateAuthorityData: CA,
  tlsServerName: undefined,
  insecureSkipTlsVerify: false,
  proxyUrl: undefined,
};
const noOverrides = { server: undefined, certificateAuthorityData: undefined, tlsServerName: undefined, insecureSkipTlsVerify: false, proxyUrl: undefined };
const entry = { contextName: 'ci@dev', userName: 'ci@dev', namespace: 'dev', token: 'header.payload.signature' };

describe('targetCluster', () => {
  it('copies the bootstrap cluster when nothing is overridden', () => {
    assert.deepEqual(targetCluster(bootstrap, noOverrides), bootstrap);
  });
  it('lets each override win, field by field', () => {
    const target = targetCluster(bootstrap, { ...noOverrides, server: 'https://k8s.example.com', tlsServerName: 'kubernetes', proxyUrl: 'http://proxy:3128' });
    assert.equal(target?.server, 'https://k8s.example.com');
    assert.equal(target?.certificateAuthorityData, CA);
    assert.equal(target?.tlsServerName, 'kubernetes');
    assert.equal(target?.proxyUrl, 'http://proxy:3128');
  });
  it('drops the CA when insecure-skip-tls-verify is asked for (kubectl refuses both)', () => {
    const target = targetCluster(bootstrap, { ...noOverrides, insecureSkipTlsVerify: true });
    assert.equal(target?.certificateAuthorityData, undefined);
    assert.equal(target?.insecureSkipTlsVerify, true);
  });
  it('names a cluster after its host when the bootstrap has none (OIDC)', () => {
    assert.equal(targetCluster(undefined, { ...noOverrides, server: 'https://api.example.com:6443' })?.name, 'api.example.com:6443');
    assert.equal(targetCluster(undefined, noOverrides), undefined);
  });
});

describe('renderKubeconfig', () => {
  const text = renderKubeconfig(bootstrap, [entry]);

  it('reads back with js-yaml as the expected document', () => {
    assert.deepEqual(yaml.load(text), {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'prod', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': CA } }],
      contexts: [{ name: 'ci@dev', context: { cluster: 'prod', namespace: 'dev', user: 'ci@dev' } }],
      users: [{ name: 'ci@dev', user: { token: 'header.payload.signature' } }],
      'current-context': 'ci@dev',
      preferences: {},
    });
  });

  it('reads back with kubectl config view, current context and namespace included', async () => {
    const kubectl = path.join(await ensureBinaries(() => {}), 'kubectl');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'render-')), 'config');
    fs.writeFileSync(file, text, { mode: 0o600 });
    const { stdout } = await promisify(execFile)(kubectl, ['config', 'view', '--kubeconfig', file, '--minify', '--raw', '-o', 'json']);
    const view = JSON.parse(stdout) as { 'current-context': string; contexts: { context: { namespace: string } }[]; users: { user: { token: string } }[]; clusters: { cluster: { server: string } }[] };
    assert.equal(view['current-context'], 'ci@dev');
    assert.equal(view.contexts[0]?.context.namespace, 'dev');
    assert.equal(view.users[0]?.user.token, 'header.payload.signature');
    assert.equal(view.clusters[0]?.cluster.server, 'https://10.0.0.1:6443');
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('writes only the fields that are set', () => {
    const withExtras = renderKubeconfig({ ...bootstrap, certificateAuthorityData: undefined, insecureSkipTlsVerify: true, tlsServerName: 'k', proxyUrl: 'socks5://p:1080' }, [entry]);
    const cluster = (yaml.load(withExtras) as { clusters: { cluster: Record<string, unknown> }[] }).clusters[0]?.cluster;
    assert.deepEqual(cluster, { server: 'https://10.0.0.1:6443', 'tls-server-name': 'k', 'insecure-skip-tls-verify': true, 'proxy-url': 'socks5://p:1080' });
  });

  it('keeps a context name that YAML would otherwise read as another type', () => {
    const text = renderKubeconfig(bootstrap, [{ ...entry, contextName: 'true' }, { ...entry, contextName: '1.0', userName: 'second' }]);
    const document = yaml.load(text) as { contexts: { name: unknown }[]; 'current-context': unknown };
    assert.deepEqual(document.contexts.map((context) => context.name), ['true', '1.0']);
    assert.equal(document['current-context'], 'true');
  });
});
