import os from 'node:os';
import * as core from '@actions/core';
import { exportsFor, withAmbientKubeconfig } from '../ambient.ts';
import { planKubeconfigFile, writeSecretFile } from '../files.ts';
import { mintKubeconfig } from '../mint.ts';
import { Redactor, failureMessage } from '../redact.ts';
import { readSettings } from '../settings.ts';
import { actionsLogger } from './logger.ts';
import { clearFilePlan, markMainStarted, saveFilePlan, saveRevocation } from './state.ts';
import { summaryRows, writeSummary } from './summary.ts';

/**
 * The main step: the only place, with post.ts, that applies runner effects
 * (masks, file, env, outputs, state, summary) to what the core returns.
 */
export async function runMain(): Promise<void> {
  const redactor = new Redactor();
  const logger = actionsLogger(redactor);
  markMainStarted();
  try {
    const settings = readSettings((name) => core.getInput(name), process.env.GITHUB_WORKSPACE ?? process.cwd());
    const result = await mintKubeconfig(
      settings,
      { env: withAmbientKubeconfig(process.env), homeDirectory: os.homedir() },
      { logger, recordRevocationSecret: (secret, ambientKubeconfig) => saveRevocation({ secret, ambientKubeconfig }) },
    );
    const plan = planKubeconfigFile(settings.kubeconfigPath, process.env.RUNNER_TEMP);
    saveFilePlan(plan);
    try {
      writeSecretFile(plan, result.kubeconfig);
    } catch (error) {
      // Nothing of ours is there (the write undoes itself); what is there may be the user's.
      clearFilePlan();
      throw error;
    }
    logger.info(`Wrote the kubeconfig for ${result.serviceAccount} in namespace ${result.namespace} to ${plan.file} (mode 0600).`);

    if (settings.exportKubeconfig) {
      for (const [name, value] of Object.entries(exportsFor(plan.file, process.env))) core.exportVariable(name, value);
    }
    core.setOutput('kubeconfig-path', plan.file);
    core.setOutput('context', result.contextName);
    core.setOutput('expiration-timestamp', result.expirationTimestamp.toISOString());
    core.setOutput('username', result.username ?? '');
    core.setOutput('token', result.token);
    try {
      await writeSummary(summaryRows(result, plan.file, new Date()));
    } catch {
      logger.debug('No job summary written (GITHUB_STEP_SUMMARY is not available).');
    }
  } catch (error) {
    core.setFailed(redactor.redact(failureMessage(error)));
  }
}
