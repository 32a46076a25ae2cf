// Runs the bundled action exactly as the GitHub runner does: Node 24, INPUT_*
// variables with action.yml's defaults, the GITHUB_ENV / GITHUB_OUTPUT /
// GITHUB_STATE / GITHUB_STEP_SUMMARY files, then the post step with STATE_*.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import * as yaml from 'js-yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(ROOT, 'dist/index.js');

/** What one step left behind, as the runner would read it. */
export interface StepResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly exported: Record<string, string>;
  readonly state: Record<string, string>;
  readonly summary: string;
  /** `::error::` messages, decoded. */
  readonly errors: string[];
  readonly warnings: string[];
  readonly notices: string[];
  /** `::add-mask::` values. */
  readonly masks: string[];
  /** What findLeaks found; Job throws when it is not empty, so every test is a leak test. */
  readonly leaks: string[];
}

function actionDefaults(): Record<string, string> {
  const action = yaml.load(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  return Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, input.default ?? '']));
}

/** Reads the `name<<DELIMITER ... DELIMITER` (and plain `name=value`) format of the runner's files. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) body.push(lines[i] ?? '');
      values[name] = body.join('\n');
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return values;
}

function decodeCommand(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function commands(stdout: string, name: string): string[] {
  const pattern = new RegExp(`^::${name}(?: [^:]*)?::(.*)$`, 'gm');
  return [...stdout.matchAll(pattern)].map((match) => decodeCommand(match[1] ?? ''));
}

/** A JWT anywhere in the output is a leaked token, whoever minted it. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

/** Credentials a bootstrap kubeconfig (YAML or base64 of it) carries. */
export function kubeconfigSecrets(kubeconfig: string): string[] {
  if (kubeconfig.trim() === '') return [];
  const text = /^[A-Za-z0-9+/=\s]+$/.test(kubeconfig) ? Buffer.from(kubeconfig, 'base64').toString('utf8') : kubeconfig;
  const secrets = kubeconfig === text ? [] : [kubeconfig.trim()];
  for (const match of text.matchAll(/(?:token|client-key-data|password):\s*"?([^"\s]+)"?/g)) secrets.push(match[1] ?? '');
  return secrets.filter((secret) => secret.length >= 8);
}

/**
 * Every step is scanned: no masked value, no bootstrap credential, no JWT and no
 * private key may appear in stdout (outside the ::add-mask:: commands that
 * register them), stderr, the job summary, outputs other than `token`, or
 * exported variables. Returns what leaked where; empty when clean.
 */
export function findLeaks(step: Omit<StepResult, 'leaks'>, knownSecrets: readonly string[]): string[] {
  const places: [string, string][] = [
    ['stdout', step.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')],
    ['stderr', step.stderr],
    ['summary', step.summary],
    ...Object.entries(step.outputs).filter(([name]) => name !== 'token').map(([name, value]): [string, string] => [`output ${name}`, value]),
    ...Object.entries(step.exported).map(([name, value]): [string, string] => [`exported ${name}`, value]),
  ];
  const secrets = [...new Set([...step.masks, ...knownSecrets])].filter((secret) => secret.length >= 8);
  const leaks: string[] = [];
  for (const [place, text] of places) {
    for (const secret of secrets) if (text.includes(secret)) leaks.push(`${place} contains a secret (${secret.slice(0, 4)}…)`);
    if (JWT.test(text)) leaks.push(`${place} contains a JWT`);
    if (/PRIVATE KEY-----/.test(text)) leaks.push(`${place} contains a private key`);
  }
  return leaks;
}

/**
 * One job on a fake runner: its RUNNER_TEMP, workspace and the environment that
 * earlier steps exported. Everything is deleted when the test file ends.
 */
export class Job {
  readonly root: string;
  readonly runnerTemp: string;
  readonly workspace: string;
  /** GITHUB_ENV exports accumulate here and reach later steps, as on the runner. */
  readonly env: Record<string, string> = {};
  /** Credentials the job holds besides its inputs' (e.g. the cluster admin's token): none may appear in any output. */
  readonly secrets: string[] = [];
  /** Set false only in the test that proves the leak scan can fail. */
  failOnLeak = true;
  #steps = 0;

  readonly #launcher: readonly string[];

  /**
   * `outsideTests`: for scripts (demo, benchmark), which call dispose() themselves
   * instead of a node:test after() hook. `launcher` prefixes the node command
   * (e.g. /usr/bin/time for the benchmark).
   */
  constructor(options: { secrets?: readonly string[]; outsideTests?: boolean; launcher?: readonly string[] } = {}) {
    this.secrets.push(...(options.secrets ?? []));
    this.#launcher = options.launcher ?? [];
    if (!process.version.startsWith('v24.')) {
      throw new Error(`The action runs on node24; tests must too, but this is Node ${process.version}. Run them through npm (node@24 is a devDependency).`);
    }
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-kubeconfig-job-'));
    this.runnerTemp = path.join(this.root, 'runner-temp');
    this.workspace = path.join(this.root, 'workspace');
    fs.mkdirSync(this.runnerTemp);
    fs.mkdirSync(this.workspace);
    if (!options.outsideTests) after(() => this.dispose());
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** The main step, with `inputs` as the workflow's `with:` and `env` as its `env:`. */
  main(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<StepResult> {
    const withDefaults = { ...actionDefaults(), ...inputs };
    return this.#run(withDefaults, env, {});
  }

  /** The post step of `main`: same inputs, its saved state as STATE_*. */
  post(main: StepResult, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<StepResult> {
    return this.#run({ ...actionDefaults(), ...inputs }, env, main.state);
  }

  async #run(inputs: Record<string, string>, env: Record<string, string>, state: Record<string, string>): Promise<StepResult> {
    const stepDir = path.join(this.root, `step-${++this.#steps}`);
    fs.mkdirSync(stepDir);
    const files = {
      GITHUB_ENV: path.join(stepDir, 'env'),
      GITHUB_OUTPUT: path.join(stepDir, 'output'),
      GITHUB_STATE: path.join(stepDir, 'state'),
      GITHUB_STEP_SUMMARY: path.join(stepDir, 'summary'),
    };
    for (const file of Object.values(files)) fs.writeFileSync(file, '');
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      RUNNER_TEMP: this.runnerTemp,
      GITHUB_WORKSPACE: this.workspace,
      GITHUB_ACTIONS: 'true',
      ...files,
      ...this.env,
      ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
      ...Object.fromEntries(Object.entries(state).map(([name, value]) => [`STATE_${name}`, value])),
      // Step debug on, as a user chasing a problem would have it: secrets must stay hidden even then.
      RUNNER_DEBUG: '1',
      ...env,
    };
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const [command = process.execPath, ...args] = [...this.#launcher, process.execPath, ENTRY];
      const child = spawn(command, args, { cwd: this.workspace, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    const exported = parseCommandFile(fs.readFileSync(files.GITHUB_ENV, 'utf8'));
    Object.assign(this.env, exported);
    const step = {
      code,
      stdout,
      stderr,
      outputs: parseCommandFile(fs.readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      exported,
      state: parseCommandFile(fs.readFileSync(files.GITHUB_STATE, 'utf8')),
      summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      errors: commands(stdout, 'error'),
      warnings: commands(stdout, 'warning'),
      notices: commands(stdout, 'notice'),
      masks: commands(stdout, 'add-mask'),
    };
    const leaks = findLeaks(step, [...this.secrets, ...kubeconfigSecrets(inputs.kubeconfig ?? '')]);
    if (leaks.length > 0 && this.failOnLeak) throw new Error(`Secrets leaked: ${leaks.join('; ')}`);
    return { ...step, leaks };
  }
}

/** Every file and folder under a root, for "nothing left behind" checks. */
export function listTree(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
}

export function uniqueId(): string {
  return randomUUID().slice(0, 8);
}
