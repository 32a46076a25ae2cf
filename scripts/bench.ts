// npm run bench: what the action costs a job, measured on the real bundle and a
// real local API server. Prints figures; asserts nothing (see README).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster } from '../test/cluster/cluster.ts';
import { TEST_ROLES, createNamespaceWithAccounts, createTestClusterRoles, grantTokenRequest, userKubeconfig } from '../test/support/fixtures.ts';
import { Job } from '../test/support/runner.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const TIME = '/usr/bin/time';

interface Sample {
  seconds: number;
  maxRssKb: number;
}

function stats(samples: Sample[]): string {
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const at = (values: number[], q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;
  const ms = sorted(samples.map((sample) => sample.seconds * 1000));
  const rss = sorted(samples.map((sample) => sample.maxRssKb / 1024));
  return `median ${at(ms, 0.5).toFixed(0)} ms, p90 ${at(ms, 0.9).toFixed(0)} ms, min ${ms[0]?.toFixed(0)} ms; max RSS median ${at(rss, 0.5).toFixed(1)} MiB (n=${samples.length})`;
}

/** Runs a step under /usr/bin/time, which reports wall seconds and peak RSS of the node process. */
async function measure(run: (job: Job) => Promise<unknown>): Promise<Sample> {
  const report = path.join(os.tmpdir(), `bench-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const job = new Job({ outsideTests: true, launcher: [TIME, '-f', '%e %M', '-o', report] });
  try {
    await run(job);
    const [seconds = 'NaN', rss = 'NaN'] = fs.readFileSync(report, 'utf8').trim().split('\n').pop()?.split(' ') ?? [];
    return { seconds: Number(seconds), maxRssKb: Number(rss) };
  } finally {
    job.dispose();
    fs.rmSync(report, { force: true });
  }
}

function baseline(): Sample {
  const { stderr } = spawnSync(TIME, ['-f', '%e %M', process.execPath, '-e', '0'], { encoding: 'utf8' });
  const [seconds = 'NaN', rss = 'NaN'] = stderr.trim().split(' ');
  return { seconds: Number(seconds), maxRssKb: Number(rss) };
}

if (!fs.existsSync(TIME)) throw new Error(`${TIME} is needed (Debian package "time").`);
console.log(`sa-kubeconfig benchmark, Node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs each`);
console.log(`bundle: dist/index.js ${(fs.statSync('dist/index.js').size / 1e6).toFixed(2)} MB`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-kubeconfig-bench-'));
const cluster = await startCluster({ dir, progress: () => {} });
try {
  await createTestClusterRoles(cluster);
  await createNamespaceWithAccounts(cluster, 'bench', { deployer: TEST_ROLES.deployer });
  await grantTokenRequest(cluster, 'token-minter', 'bench', ['deployer']);
  const inputs = { kubeconfig: userKubeconfig(cluster, 'token-minter'), namespace: 'bench', 'service-account': 'deployer' };

  const rows: [string, Sample[]][] = [
    ['node -e 0 (the floor)', []],
    ['main step, bad input (load + validate, no network)', []],
    ['main step: mint + verify + write (verify: true)', []],
    ['main step: mint + write (verify: false)', []],
    ['post step: remove the file', []],
  ];
  for (let run = 0; run < RUNS; run++) {
    rows[0]?.[1].push(baseline());
    rows[1]?.[1].push(await measure((job) => job.main({ ...inputs, namespace: 'Bad' })));
    rows[2]?.[1].push(await measure((job) => job.main(inputs)));
    rows[3]?.[1].push(await measure((job) => job.main({ ...inputs, verify: 'false' })));
    const post = new Job({ outsideTests: true });
    const main = await post.main(inputs);
    rows[4]?.[1].push(await measure((job) => job.post(main, inputs)));
    post.dispose();
  }
  for (const [name, samples] of rows) console.log(`${name.padEnd(52)} ${stats(samples)}`);
} finally {
  await cluster.stop({ keepLogs: false });
  fs.rmSync(dir, { recursive: true, force: true });
}
