// A real forward proxy for the proxy tests: Debian's tinyproxy on a free loopback
// port, in the foreground, with its own config and log in a temporary folder.
// test/support/install-deps.sh installs it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitStatus, freePorts, logTail, startService, terminate, type Service } from '../cluster/processes.ts';

const READY_WITHIN_MS = 10_000;
const START_ATTEMPTS = 3;

export interface Tinyproxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The targets (host:port) of the CONNECT requests it has logged so far, in order. */
  connects(): Promise<string[]>;
}

function config(port: number, connectPorts: readonly number[], dir: string): string {
  return [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Allow 127.0.0.1',
    'Timeout 30',
    'MaxClients 20',
    // Only these ports may be tunnelled to; a CONNECT to any other is refused (403).
    ...connectPorts.map((connectPort) => `ConnectPort ${connectPort}`),
    `LogFile "${join(dir, 'tinyproxy.log')}"`,
    'LogLevel Info', // Connect level logs the CONNECT lines; Info adds "Accepting connections"
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    '',
  ].join('\n');
}

/**
 * Starts tinyproxy allowing CONNECT to connectPorts only; an after() hook in the
 * calling scope stops it and deletes its folder.
 */
export async function startTinyproxy({ connectPorts }: { connectPorts: readonly number[] }): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'sa-kubeconfig-tinyproxy-'));
  let service: Service | undefined;
  after(async () => {
    if (service !== undefined) await terminate([service.pid]);
    await rm(dir, { recursive: true, force: true });
  });
  const logFile = join(dir, 'tinyproxy.log');
  for (let attempt = 1; ; attempt++) {
    const [port = 0] = await freePorts(1);
    const configFile = join(dir, 'tinyproxy.conf');
    await writeFile(configFile, config(port, connectPorts, dir));
    await rm(logFile, { force: true });
    try {
      service = startService('tinyproxy', 'tinyproxy', ['-d', '-c', configFile], join(dir, 'tinyproxy.out'), false);
    } catch (error) {
      throw new Error(`${(error as Error).message}: is it installed? test/support/install-deps.sh installs it`, { cause: error });
    }
    const problem = await whenAccepting(service, logFile);
    if (problem === undefined) {
      return {
        url: `http://127.0.0.1:${port}`,
        connects: async () => {
          const log = await readFile(logFile, 'utf8');
          return [...log.matchAll(/: CONNECT (\S+) HTTP\/1\.[01]$/gm)].map((match) => match[1] ?? '');
        },
      };
    }
    await terminate([service.pid]);
    service = undefined;
    // Another process may take the port between freePorts() and tinyproxy's bind.
    if (attempt === START_ATTEMPTS || !/Could not create listening sockets|Address already in use/i.test(problem)) {
      throw new Error(`tinyproxy did not start: ${problem}`);
    }
  }
}

/** undefined once tinyproxy accepts connections, else what went wrong (with its log). */
async function whenAccepting(service: Service, logFile: string): Promise<string | undefined> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    if (/Accepting connections/.test(log)) return undefined;
    const status = exitStatus(service);
    if (status !== undefined || Date.now() > deadline) {
      const output = `${await logTail(logFile)}\n${await logTail(service.logFile)}`.trim();
      return `${status ?? `not accepting connections within ${READY_WITHIN_MS / 1000}s`}:\n${output}`;
    }
    await sleep(50);
  }
}
