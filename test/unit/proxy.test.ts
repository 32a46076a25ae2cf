import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProxy } from '../../src/proxy.ts';

const proxyFromEnvironment = (server: string, env: Record<string, string>) => chooseProxy(server, undefined, env)?.url;

const proxy = 'http://proxy.internal:3128';

describe('chooseProxy', () => {
  it('prefers a configured proxy-url to the environment, and names where each came from', () => {
    assert.deepEqual(chooseProxy('https://k', { url: 'http://p:1', source: 'the proxy-url input' }, { HTTPS_PROXY: proxy }), { url: 'http://p:1', source: 'the proxy-url input' });
    assert.deepEqual(chooseProxy('https://k', { url: undefined, source: 'x' }, { https_proxy: proxy }), { url: proxy, source: 'https_proxy' });
  });

  it('uses HTTPS_PROXY for https servers, in either case, falling back to HTTP_PROXY', () => {
    assert.equal(proxyFromEnvironment('https://k8s.example.com', { HTTPS_PROXY: proxy }), proxy);
    assert.equal(proxyFromEnvironment('https://k8s.example.com', { https_proxy: proxy }), proxy);
    assert.equal(proxyFromEnvironment('https://k8s.example.com', { HTTP_PROXY: proxy }), proxy);
    assert.equal(proxyFromEnvironment('https://k8s.example.com', {}), undefined);
  });
  const bypassed: [string, string][] = [
    ['k8s.example.com', 'https://k8s.example.com'],
    ['.example.com', 'https://k8s.example.com'],
    ['example.com', 'https://k8s.example.com'],
    ['*.example.com', 'https://api.example.com:6443'],
    ['*', 'https://anything'],
    ['10.0.0.0/8', 'https://10.1.2.3:6443'],
    ['k8s.example.com:6443', 'https://k8s.example.com:6443'],
    ['a.com, 127.0.0.1', 'https://127.0.0.1:6443'],
  ];
  for (const [noProxy, server] of bypassed) {
    it(`NO_PROXY=${noProxy} bypasses ${server}`, () => assert.equal(proxyFromEnvironment(server, { HTTPS_PROXY: proxy, NO_PROXY: noProxy }), undefined));
  }
  const proxied: [string, string][] = [
    ['example.com', 'https://notexample.com'],
    ['10.0.0.0/8', 'https://11.0.0.1'],
    ['k8s.example.com:443', 'https://k8s.example.com:6443'],
  ];
  for (const [noProxy, server] of proxied) {
    it(`NO_PROXY=${noProxy} still proxies ${server}`, () => assert.equal(proxyFromEnvironment(server, { HTTPS_PROXY: proxy, no_proxy: noProxy }), proxy));
  }
});
