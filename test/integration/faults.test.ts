// The action against servers that fail: gone, restarting, silent, overloaded,
// or with a certificate the client must not trust. Each failure must end in one
// ::error:: that says what happened, with no secret in it and nothing left behind;
// each transient fault must be retried, visibly, within the step's time limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeconfigYaml } from '../cluster/kubeconfig.ts';
import { createNamespaceWithAccounts, grantTokenRequest, userKubeconfig } from '../support/fixtures.ts';
import { kubectlOk, startPrivateCluster } from '../support/cluster.ts';
import {
  SELF_SUBJECT_REVIEWS, dropFirstConnection, startFakeApiServer, startSilentServer, tokenPath, type FakeApiServer,
} from '../support/fake-apiserver.ts';
import { assertFailedWith, assertSucceeded, escapeRegExp, retryNotices, runMainAndPost, type Run } from '../support/steps.ts';

// Private clusters: these tests kill servers, which the shared one must survive.
const [stopped, restartable] = await Promise.all([startPrivateCluster(), startPrivateCluster()]);
const namespace = 'faults';
await createNamespaceWithAccounts(restartable, namespace, { deployer: undefined });
await grantTokenRequest(restartable, 'token-minter', namespace, ['deployer']);
const clusterSecrets = [restartable.adminToken, ...Object.values(restartable.userTokens)];

const NOT_REACHABLE = (server: string): RegExp =>
  new RegExp(`\\[ECONNREFUSED\\] \\(after 6 attempts\\)\\. The API server at ${escapeRegExp(server)} is not reachable from this runner\\.`);

describe('an API server that is down', () => {
  it('fails with the server unreachable once the retries are spent', { timeout: 60_000 }, async () => {
    await stopped.stop({ keepLogs: false });
    const run = await runMainAndPost({ kubeconfig: userKubeconfig(stopped, 'admin'), namespace: 'default', 'service-account': 'x', timeout: '15s' });
    const error = assertFailedWith(run, NOT_REACHABLE(stopped.server), [stopped.adminToken]);
    assert.match(error, /^Could not request a token for ServiceAccount "x" in namespace "default": connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    assert.equal(retryNotices(run.main).length, 5);
    assert.ok(run.seconds < 15, `took ${run.seconds.toFixed(1)}s`);
  });

  /** Runs the action across a restart of kube-apiserver on the same port. */
  async function acrossRestart(inputs: Record<string, string>): Promise<Run> {
    await restartable.stopApiServer();
    // The action's first attempt is dropped (a reset) by a listener on the API
    // server's port; only then does kube-apiserver start again there. It binds the
    // port at once but serves only about 1.5 s later: attempts made meanwhile are
    // refused or wait in the listen backlog until it serves them.
    const firstAttempt = dropFirstConnection(Number(new URL(restartable.server).port));
    const running = runMainAndPost({ namespace, 'service-account': 'deployer', timeout: '60s', ...inputs });
    await firstAttempt;
    await restartable.startApiServer();
    return running;
  }

  it('succeeds when kube-apiserver comes back on the same port while the action retries', { timeout: 90_000 }, async () => {
    // The bootstrap user is admin (system:masters) and verify is off because for
    // about 150 ms after it starts serving, kube-apiserver answers 403 to anyone
    // RBAC authorizes (its RBAC cache is still empty), and a request from the
    // backlog is served first, inside that window: see the next test.
    const run = await acrossRestart({ kubeconfig: userKubeconfig(restartable, 'admin'), verify: 'false' });
    assertSucceeded(run);
    const notices = retryNotices(run.main);
    const action = 'Could not request a token for ServiceAccount "deployer" in namespace "faults"';
    assert.match(notices[0] ?? '', new RegExp(`^${escapeRegExp(action)} \\(connection reset\\); attempt 2 of 6 in \\d+\\.\\ds\\.$`));
    for (const notice of notices.slice(1)) {
      assert.match(notice, new RegExp(`^${escapeRegExp(action)} \\(connection refused\\); attempt [3-6] of 6 in \\d+\\.\\ds\\.$`));
    }
    const whoami = await kubectlOk(restartable, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { token: run.main.outputs.token ?? '' });
    assert.equal(whoami, `system:serviceaccount:${namespace}:deployer`, 'the token works');
  });

  it('succeeds across the restart with a bootstrap user that RBAC authorizes', { timeout: 90_000 }, async () => {
    // The 403 a just-restarted kube-apiserver gives before its RBAC cache fills is retried once.
    const run = await acrossRestart({ kubeconfig: userKubeconfig(restartable, 'token-minter') });
    assertSucceeded(run);
  });
});

describe('a server that accepts connections and never answers', () => {
  /** A run against a fresh silent server; the error names its URL. */
  async function silentRun(limits: { 'request-timeout': string; timeout: string }): Promise<{ run: Run; server: string }> {
    const { server } = await startSilentServer();
    const kubeconfig = kubeconfigYaml({ server, caData: restartable.caData, user: 'u', credentials: { token: restartable.adminToken } });
    return { run: await runMainAndPost({ kubeconfig, namespace, 'service-account': 'deployer', ...limits }), server };
  }
  function outOfTime(server: string, timeout: string, attempts: string): RegExp {
    return new RegExp(
      `the step ran out of time \\(timeout: ${timeout}\\)${attempts}; last problem: ${escapeRegExp(server)} did not answer within 2s \\(request-timeout\\)\\. ` +
        `Check that ${escapeRegExp(server)} is reachable, or raise the timeout input\\.$`,
    );
  }

  it('retries each timed-out request, gives up at the step timeout, names both limits and ends on time', { timeout: 30_000 }, async () => {
    const { run, server } = await silentRun({ 'request-timeout': '2s', timeout: '7s' });
    // Whether the count of attempts is in the message depends on where the deadline falls: see the next test.
    assertFailedWith(run, outOfTime(server, '7s', '( \\(after \\d attempts\\))?'), clusterSecrets);
    const notices = retryNotices(run.main);
    assert.ok(notices.length >= 2, notices.join('\n'));
    assert.ok(notices.every((notice) => notice.includes('(request timed out)')), notices.join('\n'));
    assert.ok(run.seconds < 7 + 2, `the step took ${run.seconds.toFixed(1)}s with timeout: 7s`);
  });

  it('counts the attempts when the deadline ends one in flight', { timeout: 30_000 }, async () => {
    // Attempt 1 times out at 2 s, attempt 2 starts by 2.5 s and would end after 4 s:
    // the 3 s deadline always falls inside it.
    const { run, server } = await silentRun({ 'request-timeout': '2s', timeout: '3s' });
    assert.equal(retryNotices(run.main).length, 1);
    assert.match(run.main.errors[0] ?? '', /\(after 2 attempts\)/, 'the message must count the attempts');
    assertFailedWith(run, outOfTime(server, '3s', ' \\(after 2 attempts\\)'), clusterSecrets);
  });
});

describe('scripted answers from a fake API server', () => {
  const serviceAccount = 'ci';
  const token = tokenPath(namespace, serviceAccount);
  function inputs(server: FakeApiServer): Record<string, string> {
    return { kubeconfig: server.kubeconfig(), namespace, 'service-account': serviceAccount, timeout: '45s', 'request-timeout': '5s' };
  }
  function statuses(server: FakeApiServer, path: string): number[] {
    return server.requests.filter((request) => request.path === path).map((request) => request.status);
  }

  it('waits out a 429 as Retry-After says, retries 502, 503 and 504, then succeeds', { timeout: 60_000 }, async () => {
    const server = await startFakeApiServer(); // one per test: counts and scripts never mix
    server.script(token, [
      { status: 429, headers: { 'retry-after': '2' }, message: 'too many requests, please try again later' },
      { status: 502, message: 'bad gateway' },
      { status: 503, message: 'the server is currently unable to handle the request' },
      { status: 504, message: 'gateway timeout' },
    ]);
    const run = await runMainAndPost(inputs(server));
    assertSucceeded(run);
    assert.deepEqual(statuses(server, token), [429, 502, 503, 504, 201]);
    assert.deepEqual(statuses(server, SELF_SUBJECT_REVIEWS), [201]);
    assert.equal(server.requests.length, 6);
    const notices = retryNotices(run.main);
    assert.equal(notices.length, 4, notices.join('\n'));
    const action = `Could not request a token for ServiceAccount "${serviceAccount}" in namespace "${namespace}"`;
    assert.equal(notices[0], `${action} (HTTP 429); attempt 2 of 6 in 2.0s.`);
    [502, 503, 504].forEach((code, i) => assert.match(notices[i + 1] ?? '', new RegExp(`^${escapeRegExp(action)} \\(HTTP ${code}\\); attempt ${i + 3} of 6 in \\d+\\.\\ds\\.$`)));
    const [first, second] = server.requests;
    const gap = (second?.receivedAt ?? 0) - (first?.answeredAt ?? 0);
    assert.ok(gap >= 1900 && gap < 10_000, `the retry came ${gap.toFixed(0)} ms after the 429 that said Retry-After: 2`);
    assert.equal(run.main.outputs.username, `system:serviceaccount:${namespace}:${serviceAccount}`);
    assert.ok(server.requests.filter((request) => request.path === token).every((request) => request.authorization === `Bearer ${server.bootstrapToken}`));
    assert.equal(server.requests.at(-1)?.authorization, `Bearer ${run.main.outputs.token}`, 'the SelfSubjectReview uses the new token');
  });

  it('retries a 500', { timeout: 30_000 }, async () => {
    const server = await startFakeApiServer();
    server.script(token, [{ status: 500, message: 'etcdserver: request timed out' }]);
    const run = await runMainAndPost(inputs(server));
    assertSucceeded(run);
    assert.deepEqual(statuses(server, token), [500, 201]);
    assert.equal(retryNotices(run.main).length, 1);
  });

  it('explains with a notice, not a failure, an API server without SelfSubjectReview (before 1.28)', { timeout: 30_000 }, async () => {
    const server = await startFakeApiServer();
    server.script(SELF_SUBJECT_REVIEWS, [{ status: 404, message: 'the server could not find the requested resource' }]);
    const run = await runMainAndPost(inputs(server));
    assertSucceeded(run);
    assert.equal(run.main.outputs.username, '');
    assert.deepEqual(run.main.notices, ['Not verified: this API server has no SelfSubjectReview API (authentication.k8s.io/v1, Kubernetes 1.28+). Set verify: false to skip this check.']);
  });

  it('retries the SelfSubjectReview too', { timeout: 30_000 }, async () => {
    const server = await startFakeApiServer();
    server.script(SELF_SUBJECT_REVIEWS, [{ status: 503 }]);
    const run = await runMainAndPost(inputs(server));
    assertSucceeded(run);
    assert.deepEqual(statuses(server, SELF_SUBJECT_REVIEWS), [503, 201]);
    assert.deepEqual(retryNotices(run.main).map((notice) => notice.replace(/ in \d+\.\ds\.$/, '')), [
      'Could not confirm who the new token is (SelfSubjectReview) (HTTP 503); attempt 2 of 6',
    ]);
  });

  it('gives up after 6 attempts of 503', { timeout: 30_000 }, async () => {
    const server = await startFakeApiServer();
    // Retry-After: 0 keeps the test quick; the backoff itself is exercised above.
    server.script(token, Array.from({ length: 6 }, () => ({ status: 503, headers: { 'retry-after': '0' }, message: 'the server is currently unable to handle the request' })));
    const run = await runMainAndPost(inputs(server));
    assertFailedWith(run, new RegExp(
      `^Could not request a token for ServiceAccount "ci" in namespace "faults": the API server at ${escapeRegExp(server.server)} answered HTTP 503: ` +
        'the server is currently unable to handle the request \\(after 6 attempts\\)\\. It may be overloaded or restarting; try again later\\.$',
    ), [server.bootstrapToken]);
    assert.deepEqual(statuses(server, token), [503, 503, 503, 503, 503, 503]);
    assert.equal(retryNotices(run.main).length, 5);
  });

  it('does not retry a 400', { timeout: 30_000 }, async () => {
    const server = await startFakeApiServer();
    server.script(token, [{ status: 400, message: 'TokenRequest.authentication.k8s.io "ci" is invalid: spec.audiences: Invalid value' }]);
    const run = await runMainAndPost(inputs(server));
    assertFailedWith(run, /^Could not request a token for ServiceAccount "ci" in namespace "faults": the API server refused the request \(400\): TokenRequest.authentication.k8s.io "ci" is invalid: spec.audiences: Invalid value\. Check expiration/, [server.bootstrapToken]);
    assert.deepEqual(statuses(server, token), [400]);
    assert.deepEqual(run.main.notices, []);
  });
});

describe('TLS', () => {
  it('says verification failed and names certificate-authority-data when the bootstrap CA did not sign the server certificate', { timeout: 30_000 }, async () => {
    // The fake's CA is a real CA, just not the cluster's.
    const otherCa = (await startFakeApiServer()).caData;
    const kubeconfig = kubeconfigYaml({ server: restartable.server, caData: otherCa, user: 'token-minter', credentials: { token: restartable.userToken('token-minter') } });
    const run = await runMainAndPost({ kubeconfig, namespace, 'service-account': 'deployer', timeout: '15s' });
    assertFailedWith(run, /: unable to verify the first certificate(; [^[]+)? \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]\. TLS verification failed while trusting the certificate-authority-data from the kubeconfig input\. Give the cluster's own CA as certificate-authority-data/, clusterSecrets);
    assert.deepEqual(run.main.notices, [], 'a trust failure is not retried');
  });

  it('names tls-server-name when the certificate does not cover the host, and tls-server-name fixes it', { timeout: 30_000 }, async () => {
    // The fake's certificate names 127.0.0.1 and localhost, not 127.0.0.2.
    const server = await startFakeApiServer({ host: '127.0.0.2' });
    const base = { namespace, 'service-account': 'ci', timeout: '15s' };
    const run = await runMainAndPost({ ...base, kubeconfig: server.kubeconfig() });
    assertFailedWith(run, new RegExp(
      `\\[ERR_TLS_CERT_ALTNAME_INVALID\\]\\. The API server's certificate does not name the host in ${escapeRegExp(server.server)}\\. .*set tls-server-name`,
    ), [server.bootstrapToken]);
    assert.equal(server.requests.length, 0);

    const fixed = await runMainAndPost({ ...base, kubeconfig: server.kubeconfig('tls-server-name: "localhost"') });
    assertSucceeded(fixed);
    assert.equal(server.requests.length, 2, 'TokenRequest and SelfSubjectReview');
  });
});
