import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { readSettings, type InputReader } from '../../src/settings.ts';

function reader(inputs: Record<string, string>): InputReader {
  return (name) => inputs[name] ?? '';
}

const read = (inputs: Record<string, string>) => readSettings(reader({ 'service-account': 'deployer', ...inputs }), '/work');

describe('readSettings', () => {
  it('applies the documented defaults', () => {
    const settings = read({});
    assert.equal(settings.namespace, 'default');
    assert.equal(settings.expirationSeconds, 3600);
    assert.equal(settings.contextName, 'deployer@default');
    assert.deepEqual(settings.audiences, []);
    assert.equal(settings.exportKubeconfig, true);
    assert.equal(settings.cleanup, true);
    assert.equal(settings.verify, true);
    assert.equal(settings.revokeOnExit, false);
    assert.equal(settings.kubeconfigPath, undefined);
    assert.equal(settings.requestTimeoutSeconds, 30);
    assert.equal(settings.timeoutSeconds, 120);
  });

  it('resolves a relative kubeconfig-path against the workspace', () => {
    assert.equal(read({ 'kubeconfig-path': 'out/kc.yaml' }).kubeconfigPath, '/work/out/kc.yaml');
    assert.equal(read({ 'kubeconfig-path': '/abs/kc.yaml' }).kubeconfigPath, '/abs/kc.yaml');
  });

  it('splits audiences on commas and newlines, trimming and de-duplicating', () => {
    assert.deepEqual(read({ audiences: ' vault, https://x.example\nvault\n\n' }).audiences, ['vault', 'https://x.example']);
  });

  it('parses bound-object case-insensitively', () => {
    assert.deepEqual(read({ 'bound-object': 'pod/runner-1' }).boundObject, { kind: 'Pod', name: 'runner-1' });
    assert.deepEqual(read({ 'bound-object': 'Secret/s.1' }).boundObject, { kind: 'Secret', name: 's.1' });
  });

  it('accepts a PEM as certificate-authority-data and stores it base64-encoded', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const settings = read({ 'certificate-authority-data': pem });
    assert.equal(Buffer.from(settings.cluster.certificateAuthorityData ?? '', 'base64').toString(), `${pem}\n`);
  });

  // Each bad input: the message must name the input and say what is expected.
  const bad: [string, Record<string, string>, RegExp][] = [
    ['missing service-account', { 'service-account': '' }, /service-account is required/],
    ['upper-case namespace', { namespace: 'Dev' }, /Invalid namespace 'Dev'.*DNS-1123 label/],
    ['namespace too long', { namespace: 'a'.repeat(64) }, /Invalid namespace.*at most 63/],
    ['service-account with a slash', { 'service-account': 'a/b' }, /Invalid service-account 'a\/b'.*DNS-1123 subdomain/],
    ['expiration below 10 minutes', { expiration: '5m' }, /Invalid expiration '5m'.*shorter than 10 minutes/],
    ['expiration in days', { expiration: '1d' }, /Invalid expiration '1d'.*Expected a duration/],
    ['expiration above 2^32 s', { expiration: '9999999999' }, /2\^32 seconds/],
    ['boolean that is not true/false', { 'export-kubeconfig': 'yes' }, /Invalid export-kubeconfig 'yes'. Expected true or false/],
    ['cleanup of 1', { cleanup: '1' }, /Invalid cleanup '1'/],
    ['server that is not a URL', { server: 'not a url' }, /Invalid server 'not a url'/],
    ['server with ftp scheme', { server: 'ftp://x' }, /Invalid server 'ftp:\/\/x'. Expected an https:\/\/ URL/],
    ['CA data that is not a certificate', { 'certificate-authority-data': 'aGVsbG8=' }, /certificate-authority-data: it is neither a PEM certificate/],
    ['CA with insecure-skip-tls-verify', { 'certificate-authority-data': Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----').toString('base64'), 'insecure-skip-tls-verify': 'true' }, /contradict/],
    ['revoke-on-exit with bound-object', { 'revoke-on-exit': 'true', 'bound-object': 'Secret/x' }, /revoke-on-exit and bound-object/],
    ['bound-object of an unsupported kind', { 'bound-object': 'Node/n1' }, /Invalid bound-object 'Node\/n1'. Expected Secret\/NAME or Pod\/NAME/],
    ['cluster-role with a slash', { 'cluster-role': 'a/b' }, /Invalid cluster-role/],
    ['multi-line context-name', { 'context-name': 'a\nb' }, /context-name: it must be one line/],
    ['request-timeout of 0', { 'request-timeout': '0' }, /Invalid request-timeout '0'. Expected at least 1s/],
    ['timeout with garbage', { timeout: 'soon' }, /Invalid timeout 'soon'/],
    ['require-permissions without a resource', { 'require-permissions': 'get' }, /Invalid require-permissions line 'get'/],
    ['require-permissions with -n and no namespace', { 'require-permissions': 'get pods -n' }, /-n needs a namespace/],
    ['proxy-url that is not a URL', { 'proxy-url': '::' }, /Invalid proxy-url/],
  ];
  for (const [name, inputs, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => read(inputs), (error: unknown) => error instanceof InputError && message.test(error.message));
    });
  }
});
