import * as core from '@actions/core';
import type { FilePlan } from '../files.ts';
import type { RevocationSecret } from '../revocation.ts';

/** What the post step needs, saved by the main step before each thing is created. */
const KEYS = {
  isPost: 'isPost',
  kubeconfigFile: 'kubeconfigFile',
  revocation: 'revocation',
} as const;

/** The revocation Secret and how to reach the cluster again to delete it. */
export interface RevocationState {
  readonly secret: RevocationSecret;
  /** KUBECONFIG as it was before this step exported its own. */
  readonly ambientKubeconfig: string | undefined;
}

export function markMainStarted(): void {
  core.saveState(KEYS.isPost, 'true');
}

export function isPostStep(): boolean {
  return core.getState(KEYS.isPost) === 'true';
}

export function saveFilePlan(plan: FilePlan): void {
  core.saveState(KEYS.kubeconfigFile, JSON.stringify(plan));
}

export function clearFilePlan(): void {
  core.saveState(KEYS.kubeconfigFile, '');
}

export function saveRevocation(state: RevocationState): void {
  core.saveState(KEYS.revocation, JSON.stringify(state));
}

function readJson(key: string): unknown {
  const text = core.getState(key);
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function loadFilePlan(): FilePlan | undefined {
  const value = readJson(KEYS.kubeconfigFile) as Partial<FilePlan> | undefined;
  if (typeof value?.file !== 'string' || !Array.isArray(value.directories)) return undefined;
  return { file: value.file, directories: value.directories.filter((entry): entry is string => typeof entry === 'string') };
}

export function loadRevocation(): RevocationState | undefined {
  const value = readJson(KEYS.revocation) as Partial<RevocationState> | undefined;
  const secret = value?.secret;
  if (typeof secret?.namespace !== 'string' || typeof secret.name !== 'string') return undefined;
  return {
    secret: { namespace: secret.namespace, name: secret.name },
    ambientKubeconfig: typeof value?.ambientKubeconfig === 'string' ? value.ambientKubeconfig : undefined,
  };
}
