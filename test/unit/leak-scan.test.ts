// The leak scan runs on every step of every integration test (test/support/runner.ts);
// these cases prove it finds what it is meant to find, so a clean result means something.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLeaks, kubeconfigSecrets, type StepResult } from '../support/runner.ts';

const clean: Omit<StepResult, 'leaks'> = {
  code: 0,
  stdout: '::add-mask::s3cr3t-value-123\nWrote the kubeconfig\n',
  stderr: '',
  outputs: { token: 's3cr3t-value-123', context: 'ci@dev' },
  exported: { KUBECONFIG: '/tmp/x/kubeconfig.yaml' },
  state: {},
  summary: '<table></table>',
  errors: [],
  warnings: [],
  notices: [],
  masks: ['s3cr3t-value-123'],
};
const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('findLeaks', () => {
  it('passes a clean step: the mask command and the token output are where secrets belong', () => {
    assert.deepEqual(findLeaks(clean, []), []);
  });
  it('finds a masked value printed elsewhere in stdout', () => {
    assert.deepEqual(findLeaks({ ...clean, stdout: `${clean.stdout}token is s3cr3t-value-123\n` }, []), ['stdout contains a secret (s3cr…)']);
  });
  it('finds a known bootstrap credential in stderr, summary, outputs and exports', () => {
    const leaky = { ...clean, stderr: 'boot-token-xyz', summary: 'boot-token-xyz', outputs: { ...clean.outputs, context: 'boot-token-xyz' }, exported: { X: 'boot-token-xyz' } };
    assert.equal(findLeaks(leaky, ['boot-token-xyz']).length, 4);
  });
  it('finds any JWT and any private key, masked or not', () => {
    assert.deepEqual(findLeaks({ ...clean, stdout: `debug ${jwt}` }, []), ['stdout contains a JWT']);
    assert.deepEqual(findLeaks({ ...clean, stderr: '-----BEGIN EC PRIVATE KEY-----' }, []), ['stderr contains a private key']);
  });
});

describe('kubeconfigSecrets', () => {
  const yaml = 'users:\n- name: u\n  user:\n    token: "abcdefgh123"\n    client-key-data: LS0tLS1CRUdJTg==\n';
  it('reads tokens and keys from YAML', () => assert.deepEqual(kubeconfigSecrets(yaml), ['abcdefgh123', 'LS0tLS1CRUdJTg==']));
  it('reads them from base64 too, and counts the base64 itself as a secret', () => {
    const encoded = Buffer.from(yaml).toString('base64');
    assert.deepEqual(kubeconfigSecrets(encoded), [encoded, 'abcdefgh123', 'LS0tLS1CRUdJTg==']);
  });
});
