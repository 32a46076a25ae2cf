import os from 'node:os';
import * as core from '@actions/core';
import { removeRecordedPaths, type FilePlan } from '../files.ts';
import type { Logger } from '../logger.ts';
import { connectBootstrap } from '../mint.ts';
import { Redactor, failureMessage } from '../redact.ts';
import { deleteRevocationSecret } from '../revocation.ts';
import { readSettings, type Settings } from '../settings.ts';
import { actionsLogger } from './logger.ts';
import { loadFilePlan, loadRevocation, type RevocationState } from './state.ts';

/**
 * The post step: deletes exactly what the main step recorded. It never fails
 * the job; every problem is a warning. Running it twice is harmless.
 */
export async function runPost(): Promise<void> {
  const redactor = new Redactor();
  const logger = actionsLogger(redactor);
  const plan = loadFilePlan();
  const revocation = loadRevocation();
  if (plan === undefined && revocation === undefined) return; // the main step created nothing
  try {
    // The main step's inputs; they were valid then, so they are now.
    const settings = readSettings((input) => core.getInput(input), process.env.GITHUB_WORKSPACE ?? process.cwd());
    if (revocation !== undefined) await revoke(revocation, settings, logger);
    if (plan !== undefined) removeFiles(plan, settings.cleanup, logger);
  } catch (error) {
    logger.warning(`Clean-up did not finish: ${failureMessage(error)}`);
  }
}

function removeFiles(plan: FilePlan, cleanup: boolean, logger: Logger): void {
  if (!cleanup) {
    logger.info(`cleanup: false, so ${plan.file} stays.`);
    return;
  }
  for (const result of removeRecordedPaths(plan)) {
    const detail = result.detail ? ` (${result.detail})` : '';
    if (result.outcome === 'removed' || result.outcome === 'already gone') logger.info(`${result.path}: ${result.outcome}.`);
    else logger.warning(`Did not remove ${result.path}: ${result.outcome}${detail}.`);
  }
}

async function revoke(revocation: RevocationState, settings: Settings, logger: Logger): Promise<void> {
  const { namespace, name } = revocation.secret;
  try {
    // KUBECONFIG as it was before the main step exported its own.
    const environment = { env: { ...process.env, KUBECONFIG: revocation.ambientKubeconfig }, homeDirectory: os.homedir() };
    const { api } = await connectBootstrap(settings, environment, logger, AbortSignal.timeout(settings.timeoutSeconds * 1000));
    const existed = await deleteRevocationSecret(api, revocation.secret);
    logger.info(existed ? `Revoked the token: deleted Secret ${namespace}/${name}.` : `Secret ${namespace}/${name} was already gone; the token is revoked.`);
  } catch (error) {
    logger.warning(`Could not revoke the token (Secret ${namespace}/${name}): ${failureMessage(error)} It stays valid until it expires; delete the Secret by hand to end it now.`);
  }
}
