// The action behind a real forward proxy (tinyproxy): HTTPS_PROXY / NO_PROXY for
// its own calls, the proxy-url input for its calls and for the kubeconfig it
// writes, and a proxy that is not there. The proxy's log says what went through it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { freePorts } from '../cluster/processes.ts';
import { kubectl, uniqueName, useCluster, type TestCluster } from '../support/cluster.ts';
import { createNamespaceWithAccounts, grantTokenRequest, userKubeconfig } from '../support/fixtures.ts';
import { Job, listTree } from '../support/runner.ts';
import { assertFailedWith, assertSucceeded, escapeRegExp, runMainAndPost } from '../support/steps.ts';
import { startTinyproxy } from '../support/tinyproxy.ts';

const cluster: TestCluster = await useCluster();
const namespace = uniqueName('proxy');
await createNamespaceWithAccounts(cluster, namespace, { deployer: undefined });
await grantTokenRequest(cluster, 'token-minter', namespace, ['deployer']);
const minter = userKubeconfig(cluster, 'token-minter');
/** host:port of the API server, as a CONNECT to it appears in the proxy's log. */
const apiServer = new URL(cluster.server).host;
const apiPort = Number(new URL(cluster.server).port);
const inputs = { kubeconfig: minter, namespace, 'service-account': 'deployer', timeout: '30s', 'request-timeout': '10s' };
const username = `system:serviceaccount:${namespace}:deployer`;

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'proxy-url'?: string } }[];
}

describe('HTTPS_PROXY', () => {
  for (const variable of ['HTTPS_PROXY', 'https_proxy']) {
    it(`sends the action's calls through the proxy in ${variable}, and keeps it out of the kubeconfig`, { timeout: 60_000 }, async () => {
      const proxy = await startTinyproxy({ connectPorts: [apiPort] });
      const job = new Job();
      const main = await job.main(inputs, { [variable]: proxy.url });
      assert.equal(main.code, 0, main.errors.join('\n'));
      assert.equal(main.outputs.username, username);
      // One tunnel for the bootstrap identity's TokenRequest, one for the new token's SelfSubjectReview.
      assert.deepEqual(await proxy.connects(), [apiServer, apiServer]);
      const written = yaml.load(fs.readFileSync(main.outputs['kubeconfig-path'] ?? '', 'utf8')) as KubeconfigFile;
      assert.equal(written.clusters[0]?.cluster['proxy-url'], undefined, 'the environment of this step is not written into the kubeconfig');
      await job.post(main, inputs);
      assert.deepEqual(listTree(job.runnerTemp), []);
    });
  }

  it('goes direct to hosts NO_PROXY lists', { timeout: 60_000 }, async () => {
    const proxy = await startTinyproxy({ connectPorts: [apiPort] });
    const run = await runMainAndPost(inputs, { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' });
    assertSucceeded(run);
    assert.equal(run.main.outputs.username, username);
    assert.deepEqual(await proxy.connects(), []);
  });
});

describe('the proxy-url input', () => {
  it('is used for the action\'s calls and written into the kubeconfig, where kubectl uses it', { timeout: 60_000 }, async () => {
    const proxy = await startTinyproxy({ connectPorts: [apiPort] });
    const job = new Job();
    const withProxy = { ...inputs, 'proxy-url': proxy.url };
    const main = await job.main(withProxy);
    assert.equal(main.code, 0, main.errors.join('\n'));
    assert.deepEqual(await proxy.connects(), [apiServer, apiServer]);

    const file = main.outputs['kubeconfig-path'] ?? '';
    const written = yaml.load(fs.readFileSync(file, 'utf8')) as KubeconfigFile;
    assert.equal(written.clusters[0]?.cluster['proxy-url'], proxy.url);
    const whoami = await kubectl({ kubectl: cluster.kubectl, adminKubeconfigPath: file }, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami.stdout, username, whoami.stderr);
    assert.deepEqual(await proxy.connects(), [apiServer, apiServer, apiServer], 'kubectl went through the proxy too');

    const post = await job.post(main, withProxy);
    assert.equal(post.code, 0);
    assert.deepEqual(listTree(job.runnerTemp), []);
  });
});

describe('a proxy that fails', () => {
  it('fails naming the proxy and where it came from when nothing listens at HTTPS_PROXY', { timeout: 60_000 }, async () => {
    const [closedPort = 0] = await freePorts(1);
    const run = await runMainAndPost({ ...inputs, timeout: '20s' }, { HTTPS_PROXY: `http://127.0.0.1:${closedPort}` });
    assertFailedWith(run, new RegExp(
      `^Could not request a token for ServiceAccount "deployer" in namespace "${namespace}": connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort} \\[ECONNREFUSED\\] \\(after 6 attempts\\)\\. ` +
        `The API server at ${escapeRegExp(cluster.server)} is not reachable through the proxy http://127\\.0\\.0\\.1:${closedPort} \\(from HTTPS_PROXY\\)\\. .*NO_PROXY\\.$`,
    ), [cluster.userToken('token-minter')]);
  });

  it('fails at once, quoting the proxy, when the proxy refuses to tunnel to the API server', { timeout: 60_000 }, async () => {
    const [otherPort = 0] = await freePorts(1);
    const proxy = await startTinyproxy({ connectPorts: [otherPort] });
    const run = await runMainAndPost({ ...inputs, timeout: '20s' }, { HTTPS_PROXY: proxy.url });
    assertFailedWith(run, new RegExp(
      `^Could not request a token for ServiceAccount "deployer" in namespace "${namespace}": Proxy response \\(403\\) !== 200 when HTTP Tunneling \\[UND_ERR_ABORTED\\]\\. ` +
        `The proxy ${escapeRegExp(proxy.url)} \\(from HTTPS_PROXY\\) refused to tunnel to ${escapeRegExp(cluster.server)}\\.`,
    ), [cluster.userToken('token-minter')]);
    assert.deepEqual(await proxy.connects(), [apiServer], 'one CONNECT, refused, not retried');
    assert.deepEqual(run.main.notices, []);
  });
});
