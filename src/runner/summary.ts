import * as core from '@actions/core';
import { formatDuration } from '../duration.ts';
import type { MintResult } from '../mint.ts';

/** The job summary rows: who, where, until when. Never the token or the kubeconfig. */
export function summaryRows(result: MintResult, kubeconfigPath: string, now: Date): [string, string][] {
  const lifetime = formatDuration((result.expirationTimestamp.getTime() - now.getTime()) / 1000);
  return [
    ['Identity', result.username ?? `system:serviceaccount:${result.namespace}:${result.serviceAccount} (not verified)`],
    ['Namespace', result.namespace],
    ['Context', result.contextName],
    ['API server', result.cluster.server],
    ['Audiences', result.audiences.length > 0 ? result.audiences.join(', ') : "the API server's default"],
    ['Expires', `${result.expirationTimestamp.toISOString()} (in ${lifetime})`],
    ['Revoked', result.revocationSecret ? `when the job ends (Secret ${result.revocationSecret.namespace}/${result.revocationSecret.name})` : 'at expiry'],
    ['Kubeconfig', kubeconfigPath],
  ];
}

export async function writeSummary(rows: [string, string][]): Promise<void> {
  await core.summary
    .addHeading('sa-kubeconfig', 3)
    // Named header cells: @actions/core renders an empty cell as an unclosed <th>.
    .addTable([[{ data: 'What', header: true }, { data: 'Value', header: true }], ...rows])
    .write();
}
