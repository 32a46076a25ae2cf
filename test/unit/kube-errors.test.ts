// The translator is fed the error shapes client-node and undici really produce
// (ApiException with a Status body; TypeError 'fetch failed' with a coded cause).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { classifyTransient, describeKubeError, transienceOfOneCall, type CallContext } from '../../src/kube-errors.ts';
import { RetriesExhausted } from '../../src/retry.ts';

const context: CallContext = {
  action: 'request a token for ServiceAccount "ci" in namespace "dev"',
  server: 'https://10.0.0.1:6443',
  credentials: 'the credentials from the kubeconfig input',
  trust: 'the certificate-authority-data from the kubeconfig input',
  proxy: undefined,
  requiredRule: { rule: '{apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"], resourceNames: ["ci"]}', namespace: 'dev' },
  notFound: 'Create it, or set create-service-account: true.',
  invalidHint: 'Check expiration.',
  requestTimeoutSeconds: 30,
  timeoutSeconds: 120,
};
const live = new AbortController().signal;

function apiError(code: number, message: string, headers: Record<string, string> = {}): ApiException<string> {
  const body = JSON.stringify({ kind: 'Status', status: 'Failure', message, code });
  // client-node's own message embeds the body and headers: it must never be shown.
  return new ApiException(code, `HTTP-Code: ${code} Message: Unknown API Status Code! Body: ${body} Headers: ${JSON.stringify({ ...headers, authorization: 'Bearer leaked' })}`, body, headers);
}

function fetchFailed(code: string, message: string): TypeError {
  const cause = Object.assign(new Error(message), { code });
  return new TypeError('fetch failed', { cause });
}

describe('describeKubeError', () => {
  const cases: [string, unknown, RegExp][] = [
    ['401', apiError(401, 'Unauthorized'), /rejected the credentials from the kubeconfig input \(401 Unauthorized\)/],
    ['403 with the rule', apiError(403, 'serviceaccounts "ci" is forbidden'), /forbidden \(403\): serviceaccounts "ci" is forbidden\. Grant it with a Role in namespace "dev" and a RoleBinding; the rule: \{apiGroups/],
    ['404 with the hint', apiError(404, 'serviceaccounts "ci" not found'), /not found \(404\): serviceaccounts "ci" not found\. Create it, or set create-service-account: true\.$/],
    ['422 with the hint', apiError(422, 'may not specify a duration less than 10 minutes'), /refused the request \(422\): may not specify.*Check expiration\.$/],
    ['503 after retries', new RetriesExhausted(6, apiError(503, 'unavailable')), /answered HTTP 503: unavailable \(after 6 attempts\)\. It may be overloaded/],
    ['connection refused', fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6443'), /connect ECONNREFUSED 10\.0\.0\.1:6443 \[ECONNREFUSED\]\. The API server at https:\/\/10\.0\.0\.1:6443 is not reachable/],
    ['unknown CA', fetchFailed('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain; if the root CA is installed locally, try running Node.js with --use-system-ca'), /certificate chain \[SELF_SIGNED_CERT_IN_CHAIN\]\. TLS verification failed while trusting the certificate-authority-data from the kubeconfig input/],
    ['wrong host name', fetchFailed('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), /does not name the host.*set tls-server-name/],
    ['DNS', fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere'), /does not resolve from this runner/],
    ['request timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), /did not answer within 30s \(request-timeout\)/],
  ];
  for (const [name, error, message] of cases) {
    it(`explains ${name}`, () => {
      const described = describeKubeError(error, context, live);
      assert.match(described.message, message);
      assert.doesNotMatch(described.message, /leaked|HTTP-Code|Headers/);
    });
  }

  it('never passes on Node\'s advice about its own command line', () => {
    const message = describeKubeError(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), context, live).message;
    assert.doesNotMatch(message, /use-system-ca/);
  });

  it('names the proxy when the calls went through one', () => {
    const proxied = { ...context, proxy: { url: 'http://proxy.internal:3128', source: 'HTTPS_PROXY' } };
    assert.match(describeKubeError(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 10.1.1.1:3128'), proxied, live).message, /not reachable through the proxy http:\/\/proxy\.internal:3128 \(from HTTPS_PROXY\)\..*NO_PROXY/);
    assert.match(describeKubeError(fetchFailed('UND_ERR_ABORTED', 'Proxy response (403) !== 200 when HTTP Tunneling'), proxied, live).message, /The proxy http:\/\/proxy\.internal:3128 \(from HTTPS_PROXY\) refused to tunnel to https:\/\/10\.0\.0\.1:6443/);
  });

  it('blames the step deadline once it has passed', () => {
    const message = describeKubeError(new RetriesExhausted(3, fetchFailed('ECONNREFUSED', 'refused')), context, AbortSignal.abort()).message;
    assert.match(message, /the step ran out of time \(timeout: 2m\) \(after 3 attempts\); last problem: refused \[ECONNREFUSED\]/);
  });
});

describe('transienceOfOneCall', () => {
  it('retries up to three 403s, a second apart, right after the server was unreachable (a restarting kube-apiserver), and no more', () => {
    const classify = transienceOfOneCall();
    assert.equal(classify(apiError(403, 'x')), undefined, 'a 403 out of the blue is final');
    assert.equal(classify(fetchFailed('ECONNREFUSED', 'refused'))?.reason, 'connection refused');
    for (let retry = 1; retry <= 3; retry++) {
      const transience = classify(apiError(403, 'x'));
      assert.match(transience?.reason ?? '', /403 from an API server that was just unreachable/, `403 number ${retry}`);
      assert.equal(transience?.retryAfterMs, 1000);
    }
    assert.equal(classify(apiError(403, 'x')), undefined, 'the fourth 403 is real');
    assert.equal(classify(fetchFailed('ECONNRESET', 'reset'))?.reason, 'connection reset');
    assert.equal(classify(apiError(403, 'x'))?.retryAfterMs, 1000, 'a new outage earns new retries');
  });
  it('does not retry a 403 that follows an HTTP error rather than an outage', () => {
    const classify = transienceOfOneCall();
    assert.equal(classify(apiError(503, 'x'))?.reason, 'HTTP 503');
    assert.equal(classify(apiError(403, 'x')), undefined);
  });
});

describe('classifyTransient', () => {
  it('retries 429 with its Retry-After, and 5xx', () => {
    assert.deepEqual(classifyTransient(apiError(429, 'slow down', { 'retry-after': '2' })), { reason: 'HTTP 429', retryAfterMs: 2000 });
    for (const code of [500, 502, 503, 504]) assert.equal(classifyTransient(apiError(code, 'x'))?.reason, `HTTP ${code}`);
  });
  it('retries resets, refusals and timeouts', () => {
    assert.equal(classifyTransient(fetchFailed('ECONNRESET', 'reset'))?.reason, 'connection reset');
    assert.equal(classifyTransient(fetchFailed('ECONNREFUSED', 'refused'))?.reason, 'connection refused');
    assert.equal(classifyTransient(new DOMException('t', 'TimeoutError'))?.reason, 'request timed out');
  });
  it('does not retry what another try cannot fix', () => {
    for (const code of [400, 401, 403, 404, 409, 422]) assert.equal(classifyTransient(apiError(code, 'x')), undefined);
    assert.equal(classifyTransient(fetchFailed('SELF_SIGNED_CERT_IN_CHAIN', 'x')), undefined);
    assert.equal(classifyTransient(new Error('bug')), undefined);
  });
});
