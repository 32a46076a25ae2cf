// client-node honours only a cluster's proxy-url, never HTTPS_PROXY/NO_PROXY, so
// the action maps the environment itself, reading NO_PROXY as curl does (unlike
// Go's clients, loopback is proxied unless NO_PROXY lists it).

/** A proxy and where it was asked for, so messages can name both. */
export interface Proxy {
  readonly url: string;
  readonly source: string;
}

/**
 * The proxy for calls to `server`: a proxy-url the kubeconfig already has wins,
 * then the proxy-url input, then the environment.
 */
export function chooseProxy(server: string, configured: { readonly url: string | undefined; readonly source: string } | undefined, env: Readonly<Record<string, string | undefined>>): Proxy | undefined {
  if (configured?.url) return { url: configured.url, source: configured.source };
  const url = new URL(server);
  const names = url.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] : ['HTTP_PROXY', 'http_proxy'];
  const name = names.find((candidate) => env[candidate]);
  if (name === undefined || bypassesProxy(url, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  return { url: env[name] ?? '', source: name };
}

function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[,\s]+/)
    .filter((entry) => entry !== '')
    .some((entry) => {
      if (entry === '*') return true;
      const [pattern = '', entryPort] = entry.toLowerCase().split(/:(?=\d+$)/);
      if (entryPort !== undefined && entryPort !== port) return false;
      const domain = pattern.replace(/^\*?\./, '');
      return host === domain || host.endsWith(`.${domain}`) || (pattern.includes('/') && inCidr(host, pattern));
    });
}

function inCidr(host: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const toNumber = (address: string): number | undefined => {
    const parts = address.split('.').map(Number);
    if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
    return parts.reduce((sum, part) => sum * 256 + part, 0);
  };
  const hostNumber = toNumber(host);
  const baseNumber = toNumber(base);
  const bits = Number(bitsText);
  if (hostNumber === undefined || baseNumber === undefined || !(bits >= 0 && bits <= 32)) return false;
  const block = 2 ** (32 - bits);
  return Math.floor(hostNumber / block) === Math.floor(baseNumber / block);
}
