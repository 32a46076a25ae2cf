import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePermission, ruleFor } from '../../src/permissions.ts';

describe('parsePermission', () => {
  it('reads a core resource', () => {
    assert.deepEqual(parsePermission('get pods'), { line: 'get pods', verb: 'get', group: '', resource: 'pods', subresource: '', namespace: undefined });
  });
  it('reads a group, a subresource and a namespace in each spelling', () => {
    assert.equal(parsePermission('create deployments.apps').group, 'apps');
    assert.equal(parsePermission('get pods/log').subresource, 'log');
    assert.equal(parsePermission('get pods -n other').namespace, 'other');
    assert.equal(parsePermission('get pods --namespace other').namespace, 'other');
    assert.equal(parsePermission('get pods --namespace=other').namespace, 'other');
    assert.equal(parsePermission('patch ingresses.networking.k8s.io/status').group, 'networking.k8s.io');
  });
  it('writes the Role rule that grants a permission', () => {
    assert.equal(ruleFor(parsePermission('create deployments.apps')), '{apiGroups: ["apps"], resources: ["deployments"], verbs: ["create"]}');
    assert.equal(ruleFor(parsePermission('get pods/log')), '{apiGroups: [""], resources: ["pods/log"], verbs: ["get"]}');
  });
  for (const line of ['get', 'get pods extra', 'get Pods', 'get pods -n', 'g3t pods']) {
    it(`refuses ${JSON.stringify(line)}`, () => assert.throws(() => parsePermission(line), /Invalid require-permissions line/));
  }
});
