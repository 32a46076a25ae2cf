import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPORTED_VARIABLE, PREVIOUS_VARIABLE, ambientKubeconfig, exportsFor } from '../../src/ambient.ts';

describe('ambient KUBECONFIG across invocations', () => {
  it('is KUBECONFIG as it is when this action has exported nothing', () => {
    assert.equal(ambientKubeconfig({ KUBECONFIG: '/home/runner/.kube/gke' }), '/home/runner/.kube/gke');
    assert.equal(ambientKubeconfig({}), undefined);
  });

  it('sees past the file an earlier invocation exported, to the cloud credentials before it', () => {
    const first = exportsFor('/tmp/a/kubeconfig.yaml', { KUBECONFIG: '/home/runner/.kube/gke' });
    assert.deepEqual(first, { KUBECONFIG: '/tmp/a/kubeconfig.yaml', [EXPORTED_VARIABLE]: '/tmp/a/kubeconfig.yaml', [PREVIOUS_VARIABLE]: '/home/runner/.kube/gke' });
    assert.equal(ambientKubeconfig(first), '/home/runner/.kube/gke');
    const second = exportsFor('/tmp/b/kubeconfig.yaml', first);
    assert.equal(second[PREVIOUS_VARIABLE], '/home/runner/.kube/gke', 'still the original after two invocations');
  });

  it('falls back to ~/.kube/config when there was no KUBECONFIG before', () => {
    assert.equal(ambientKubeconfig(exportsFor('/tmp/a/kubeconfig.yaml', {})), undefined);
  });

  it('respects a KUBECONFIG that a later step set to something else', () => {
    const env = { ...exportsFor('/tmp/a/kubeconfig.yaml', { KUBECONFIG: '/old' }), KUBECONFIG: '/other/cluster' };
    assert.equal(ambientKubeconfig(env), '/other/cluster');
  });
});
