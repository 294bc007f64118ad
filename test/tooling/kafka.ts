import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface KafkaTopicSpec {
  name: string;
  partitions: number;
  /** Defaults to min(3, brokers). */
  replication?: number;
}

export interface KafkaClusterOptions {
  /** Broker ids run from 1 to `brokers`. Default 3. */
  brokers?: number;
  topics?: KafkaTopicSpec[];
}

/**
 * The mock has no CreateTopics API, so topics are created through the mock program. Create each
 * topic before any client names it: the mock auto-creates unknown topics (4 partitions) on the
 * first Metadata request for them, whatever kafkajs' allowAutoTopicCreation says, and
 * createTopic() then rejects with "Topic already exists".
 *
 * kafkajs consumers on the mock: give them a short `maxWaitTimeInMs` (e.g. 100). The mock holds
 * an empty Fetch for the whole wait even when messages arrive meanwhile, so the default 5 s is
 * added to end-to-end latency and to disconnect(); and with a 5 s fetch in flight when a broker
 * goes down, a later consumer.disconnect() can spin kafkajs' fetcher loop at 100% CPU for good,
 * which also stops vitest's timeouts from firing.
 */
export interface KafkaCluster {
  /** Bootstrap addresses, `127.0.0.1:<port>`, broker 1 first. */
  brokers: string[];
  createTopic(name: string, partitions: number, replication?: number): Promise<void>;
  /** Moves a partition's leader (-1: leaderless). Brokers going down never move leaders. */
  setPartitionLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** Closes the broker's connections and refuses new ones, keeping its partitions' leadership. */
  setBrokerDown(id: number): Promise<void>;
  setBrokerUp(id: number): Promise<void>;
  setAllDown(): Promise<void>;
  setAllUp(): Promise<void>;
  stop(): Promise<void>;
}

const buildScript = fileURLToPath(new URL('./build-kafka-mock.sh', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

let binaryPath: Promise<string> | undefined;

/** Compiles the mock (only when the source changed) and resolves to the binary's path. */
export function buildKafkaMock(): Promise<string> {
  binaryPath ??= new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`build-kafka-mock.sh exited with ${code}: ${err.trim()}`));
    });
  }).catch((error: unknown) => {
    binaryPath = undefined;
    throw error;
  });
  return binaryPath;
}

function checkWord(value: string, what: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(value)) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
}

function checkInt(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new Error(`invalid ${what}: ${value}`);
}

export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const brokerCount = opts.brokers ?? 3;
  checkInt(brokerCount, 'broker count');
  const defaultReplication = Math.min(3, brokerCount);

  const args = ['--brokers', String(brokerCount)];
  for (const topic of opts.topics ?? []) {
    checkWord(topic.name, 'topic name');
    args.push('--topic', `${topic.name}:${topic.partitions}:${topic.replication ?? defaultReplication}`);
  }

  const binary = await buildKafkaMock();
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  killOnExit(child);

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  // Writes after the child died would otherwise surface as unhandled EPIPE errors.
  child.stdin!.on('error', () => {});

  const lines = createInterface({ input: child.stdout! });
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let exited: Error | undefined;

  const nextLine = (): Promise<string> => (exited ? Promise.reject(exited) : new Promise<string>((resolve, reject) => waiting.push({ resolve, reject })));

  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', (code, signal) => {
    exited = new Error(`kafka-mock-cluster exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  child.once('error', (error) => {
    exited = error;
    for (const w of waiting.splice(0)) w.reject(error);
  });

  let timer: NodeJS.Timeout | undefined;
  const bootstrapLine = await Promise.race([
    nextLine(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('kafka-mock-cluster printed no BOOTSTRAP line')), STARTUP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  const match = /^BOOTSTRAP (\S+)$/.exec(bootstrapLine);
  if (!match) {
    child.kill('SIGKILL');
    throw new Error(`unexpected first line from kafka-mock-cluster: ${bootstrapLine}`);
  }
  const brokers = match[1]!.split(',');

  // One command at a time: each answer line belongs to the command written just before it.
  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    const run = queue.then(async () => {
      const answer = nextLine();
      child.stdin!.write(`${line}\n`);
      const reply = await answer;
      if (!reply.startsWith('OK')) throw new Error(`kafka-mock-cluster: ${line}: ${reply}`);
    });
    queue = run.catch(() => {});
    return run;
  };

  const brokerCommand = (verb: string, id: number): Promise<void> => {
    checkInt(id, 'broker id');
    return command(`${verb} ${id}`);
  };

  return {
    brokers,
    createTopic(name, partitions, replication = defaultReplication) {
      checkWord(name, 'topic name');
      checkInt(partitions, 'partition count');
      checkInt(replication, 'replication factor');
      return command(`create-topic ${name} ${partitions} ${replication}`);
    },
    setPartitionLeader(topic, partition, brokerId) {
      checkWord(topic, 'topic name');
      checkInt(partition, 'partition');
      checkInt(brokerId, 'broker id');
      return command(`set-leader ${topic} ${partition} ${brokerId}`);
    },
    setBrokerDown: (id) => brokerCommand('broker-down', id),
    setBrokerUp: (id) => brokerCommand('broker-up', id),
    setAllDown: () => command('all-down'),
    setAllUp: () => command('all-up'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      child.stdin!.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit.finally(() => clearTimeout(timer));
    },
  };
}
