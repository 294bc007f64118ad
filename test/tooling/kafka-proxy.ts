// A TCP proxy in front of each broker of a Kafka cluster that loses acknowledgements: it forwards
// produce requests to the broker, and for a chosen share of them drops the broker's response and
// closes both connections. The client never learns the produce succeeded, so it sends it again:
// the same records are stored twice, at new offsets. Metadata responses are rewritten so that the
// client's connections to every broker go through the proxy too.
import { createServer, Socket, type Server } from 'node:net';

const PRODUCE = 0;
const METADATA = 3;

export interface KafkaProxy {
  /** `host:port` of each proxied broker, for KAFKA_BROKERS */
  brokers: string[];
  /** produce responses dropped so far */
  readonly dropped: number;
  /** produce requests forwarded so far */
  readonly produced: number;
  /** drop the response of every produce request for which this returns true */
  setDrop(drop: (produceNumber: number) => boolean): void;
  stop(): Promise<void>;
}

interface Frame {
  apiKey: number;
  apiVersion: number;
}

/** Splits a stream into size-prefixed Kafka frames (int32 length, then the frame). */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const size = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + size) return;
      onFrame(this.buffer.subarray(0, 4 + size));
      this.buffer = this.buffer.subarray(4 + size);
    }
  }
}

/**
 * Metadata responses v0–v8 (not flexible; kafkajs asks for at most v6): correlation id,
 * throttle time (v3+), then the brokers: node id, host, port, rack (v1+). Ports are int32, so
 * they are rewritten in place.
 */
function rewriteMetadata(frame: Buffer, version: number, portMap: ReadonlyMap<number, number>): void {
  let at = 4 + 4 + (version >= 3 ? 4 : 0);
  const brokers = frame.readInt32BE(at);
  at += 4;
  for (let i = 0; i < brokers; i++) {
    at += 4; // node id
    const hostLength = frame.readInt16BE(at);
    at += 2 + hostLength;
    const port = frame.readInt32BE(at);
    const mapped = portMap.get(port);
    if (mapped !== undefined) frame.writeInt32BE(mapped, at);
    at += 4;
    if (version >= 1) {
      const rackLength = frame.readInt16BE(at);
      at += 2 + Math.max(0, rackLength);
    }
  }
}

export async function startKafkaProxy(brokers: readonly string[]): Promise<KafkaProxy> {
  const targets = brokers.map((b) => {
    const [host, port] = b.split(':');
    return { host: host!, port: Number(port) };
  });
  let drop: (n: number) => boolean = () => false;
  let produced = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const portMap = new Map<number, number>();

  for (const target of targets) {
    const server = createServer((client) => {
      const broker = new Socket();
      sockets.add(client);
      sockets.add(broker);
      const requests = new Map<number, Frame & { drop: boolean }>();
      const fromClient = new FrameReader();
      const fromBroker = new FrameReader();
      const close = () => {
        client.destroy();
        broker.destroy();
        sockets.delete(client);
        sockets.delete(broker);
      };
      client.on('data', (chunk) =>
        fromClient.push(chunk, (frame) => {
          const apiKey = frame.readInt16BE(4);
          const apiVersion = frame.readInt16BE(6);
          const correlationId = frame.readInt32BE(8);
          const isProduce = apiKey === PRODUCE;
          requests.set(correlationId, { apiKey, apiVersion, drop: isProduce && drop(++produced) });
          broker.write(frame);
        }),
      );
      broker.on('data', (chunk) =>
        fromBroker.push(chunk, (frame) => {
          const correlationId = frame.readInt32BE(4);
          const request = requests.get(correlationId);
          requests.delete(correlationId);
          if (request?.drop) {
            // The broker stored the records; the client hears nothing and its connection breaks.
            dropped++;
            close();
            return;
          }
          if (request?.apiKey === METADATA) rewriteMetadata(frame, request.apiVersion, portMap);
          client.write(frame);
        }),
      );
      client.on('error', close);
      broker.on('error', close);
      client.on('close', close);
      broker.on('close', close);
      broker.connect(target.port, target.host);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    portMap.set(target.port, address.port);
    servers.push(server);
  }

  return {
    brokers: servers.map((s) => {
      const a = s.address();
      return `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
    }),
    get dropped() {
      return dropped;
    },
    get produced() {
      return produced;
    },
    setDrop(next) {
      drop = next;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
