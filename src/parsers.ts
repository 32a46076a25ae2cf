import { InputError } from './errors.ts';

// Kubernetes' own validation rules, so bad names fail here with a clear message
// instead of as a 404 or 422 from the API server.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseNamespace(value: string, inputName: string): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new InputError(
      `Invalid ${inputName} '${value}'. Expected a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit.`,
    );
  }
  return value;
}

export function parseObjectName(value: string, inputName: string): string {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new InputError(
      `Invalid ${inputName} '${value}'. Expected a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit.`,
    );
  }
  return value;
}

/** Strict, like @actions/core's getBooleanInput: anything but true/false is a mistake worth reporting. */
export function parseBoolean(value: string, inputName: string, defaultValue: boolean): boolean {
  if (value === '') return defaultValue;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(`Invalid ${inputName} '${value}'. Expected true or false.`);
}

/** A comma- or newline-separated list; blanks dropped, duplicates removed, order kept. */
export function parseList(value: string): string[] {
  const items = value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return [...new Set(items)];
}

/** Newline-separated lines; blanks and `#` comments dropped. */
export function parseLines(value: string): string[] {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function parseServerUrl(value: string, inputName: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`Invalid ${inputName} '${value}'. Expected a URL such as https://203.0.113.10:6443.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(`Invalid ${inputName} '${value}'. Expected an https:// URL.`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Certificate authority data as a kubeconfig holds it: base64 of PEM. A pasted
 * PEM is accepted too and encoded, since that is what users most often have.
 */
export function parseCertificateAuthorityData(value: string, inputName: string): string {
  const pem = value.includes('-----BEGIN') ? value : Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) {
    throw new InputError(
      `Invalid ${inputName}: it is neither a PEM certificate nor base64 of one. Use the value of certificate-authority-data from a kubeconfig, or the CA's PEM.`,
    );
  }
  return Buffer.from(pem.trim() + '\n', 'utf8').toString('base64');
}
