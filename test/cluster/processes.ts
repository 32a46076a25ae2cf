// The cluster's server processes: free ports, spawning with output to a log
// file, and stopping by pid (the pids may come from an earlier command's pid file).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs command to completion, feeding it input; rejects only if it cannot start (e.g. ENOENT). */
export function runCommand(command: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * n distinct loopback ports that were free a moment ago. All are held open
 * together so the kernel cannot hand out the same one twice; another process may
 * still take one before the server binds it, which the caller retries.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface Service {
  name: string;
  logFile: string;
  child: ChildProcess;
  pid: number;
}

/**
 * Starts command with stdout and stderr going to logFile (truncated). A detached
 * service gets its own process group and does not keep this Node process alive,
 * so it outlives it.
 */
export function startService(name: string, command: string, args: string[], logFile: string, detached: boolean): Service {
  // Appends: a restarted kube-apiserver (the fault tests) keeps the first run's log before its own.
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], detached });
    // A failed spawn (say ENOENT) is also reported as an 'error' event, which must be handled.
    child.on('error', () => {});
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    if (detached) child.unref();
    return { name, logFile, child, pid: child.pid };
  } finally {
    closeSync(fd);
  }
}

/** How the service ended, or undefined while it runs. */
export function exitStatus(service: Service): string | undefined {
  const { exitCode, signalCode } = service.child;
  if (exitCode !== null) return `exit code ${exitCode}`;
  if (signalCode !== null) return `signal ${signalCode}`;
  return undefined;
}

/** The last lines of a log file, for error messages. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The executable name of a live process, or undefined if there is none or it is
 * a zombie (a zombie still answers kill(pid, 0) until its parent reaps it).
 */
export async function processName(pid: number): Promise<string | undefined> {
  const { code, stdout } = await runCommand('ps', ['-o', 'stat=,comm=', '-p', String(pid)]);
  if (code !== 0) return undefined; // no such process
  const [stat = 'Z', ...command] = stdout.trim().split(/\s+/);
  return stat.startsWith('Z') ? undefined : command.join(' ').split('/').pop();
}

/**
 * Stops the processes one after another, in the order given: SIGTERM, then SIGKILL
 * if one still runs after graceMs. Order matters: etcd drains its clients' watches
 * before it exits, so stopping it while kube-apiserver runs makes both slow.
 */
export async function terminate(pids: number[], graceMs = 5000): Promise<void> {
  for (const pid of pids) {
    if (await signalAndWait(pid, 'SIGTERM', graceMs)) continue;
    if (!(await signalAndWait(pid, 'SIGKILL', graceMs))) throw new Error(`process ${pid} survived SIGKILL`);
  }
}

/** Whether the process is gone within ms of the signal. */
async function signalAndWait(pid: number, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true; // already gone
  }
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await processName(pid)) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}
