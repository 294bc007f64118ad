import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A network namespace of the test's own, whose loopback also carries public addresses, so a
 * process in it can connect "from" a visitor in another country. Nothing outside changes: the
 * namespace and its addresses disappear with the holder process. Needs root (unshare, nsenter).
 */
export interface NetworkNamespace {
  /** starts a program inside the namespace, optionally as another user */
  spawn(command: string, args: string[], options?: SpawnOptions & { user?: number }): ChildProcess;
  /**
   * Unix sockets (usable from outside: their names live in the file system) that forward each
   * connection to 127.0.0.1:`port` inside, from the given source address.
   */
  visitorSockets(dir: string, port: number, addresses: readonly string[]): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startNetworkNamespace(addresses: readonly string[]): Promise<NetworkNamespace> {
  if (process.getuid?.() !== 0) {
    throw new Error('the nginx test makes a network namespace for its visitors (unshare --net): run it as root');
  }
  const setup = ['ip link set lo up', ...addresses.map((a) => `ip addr add ${a}/32 dev lo`), 'echo ready', 'exec sleep infinity'].join(' && ');
  const holder = spawn('unshare', ['--net', '--', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  holder.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  holder.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (output.includes('ready')) resolve();
    };
    holder.stdout?.on('data', check);
    holder.once('exit', (code) => reject(new Error(`unshare --net failed (${code}): ${output}`)));
  });
  const pid = String(holder.pid);
  const children: ChildProcess[] = [];

  const inside = (command: string, args: string[], options: SpawnOptions & { user?: number } = {}): ChildProcess => {
    const { user, ...rest } = options;
    const as = user === undefined ? [] : ['-S', String(user), '-G', String(user)];
    // -F: exec the program itself (no fork), so its pid is the child's pid
    const child = spawn('nsenter', ['-t', pid, '-n', '-F', ...as, '--', command, ...args], rest);
    children.push(child);
    return child;
  };

  return {
    spawn: inside,
    async visitorSockets(dir, port, visitors) {
      const sockets = Object.fromEntries(visitors.map((a) => [a, join(dir, `visitor-${a.replace(/[^0-9a-f]/gi, '_')}.sock`)]));
      const relay = inside(process.execPath, ['-e', RELAY, JSON.stringify({ port, sockets })], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [line] = (await once(relay.stdout!, 'data')) as [Buffer];
      if (!line.toString().includes('listening') || !Object.values(sockets).every((s) => existsSync(s))) {
        throw new Error(`visitor relay did not start: ${line.toString()}`);
      }
      return sockets;
    },
    async stop() {
      for (const child of [...children, holder]) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await once(child, 'exit').catch(() => {});
        }
      }
    },
  };
}

/** Runs inside the namespace: one Unix socket per visitor address, piped to nginx from that address. */
const RELAY = `
const net = require('node:net');
const { port, sockets } = JSON.parse(process.argv[1]);
let pending = Object.keys(sockets).length;
for (const [localAddress, path] of Object.entries(sockets)) {
  net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port, localAddress });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  }).listen(path, () => { if (--pending === 0) process.stdout.write('listening\\n'); });
}
`;
