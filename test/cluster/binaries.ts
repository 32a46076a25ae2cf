// Runs build.sh, which builds kube-apiserver, etcd and kubectl once into a cache
// folder and afterwards only prints where they are.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));

/** build.sh's exit code for a missing or too old Go toolchain. */
const NO_GO_TOOLCHAIN = 3;

export type Progress = (line: string) => void;

export const toStderr: Progress = (line) => process.stderr.write(`${line}\n`);

/** Builds the binaries if they are not cached yet; resolves to the folder holding them. */
export function ensureBinaries(progress: Progress = toStderr): Promise<string> {
  return new Promise((resolve, reject) => {
    const build = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const stderrLines: string[] = [];
    build.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    createInterface({ input: build.stderr }).on('line', (line) => {
      stderrLines.push(line);
      progress(line);
    });
    build.on('error', reject);
    build.on('close', (code) => {
      const binDir = stdout.trim().split('\n').pop();
      if (code === 0 && binDir) return resolve(binDir);
      const said = stderrLines.slice(-20).join('\n');
      reject(new Error(code === NO_GO_TOOLCHAIN
        ? `cannot build the test cluster's binaries:\n${said}`
        : `${BUILD_SCRIPT} failed (exit ${code}):\n${said}`));
    });
  });
}
