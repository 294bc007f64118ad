import { connect, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';

/**
 * TLS and SASL/PLAIN in front of one broker of the librdkafka mock cluster, which speaks neither:
 * what a client configured for a secured cluster (KAFKA_SSL, KAFKA_SASL_*) must get through.
 *
 * Clients connect with TLS. The proxy adds SaslHandshake (v0–1) and SaslAuthenticate (v0) to the
 * broker's ApiVersions answer, answers those two itself (mechanism PLAIN, the configured user and
 * password), refuses anything else before a successful login by closing the connection, as a
 * broker does, and forwards the rest to the broker. Metadata answers name the proxy instead of
 * the broker, so every connection the client opens comes back through it. Run the mock with one
 * broker: all of them would be mapped to the one proxy.
 *
 * Kafka framing (non-flexible versions, all kafkajs uses): request = int32 size, int16 api key,
 * int16 api version, int32 correlation id, string client id, body; response = int32 size, int32
 * correlation id, body.
 */

const API_VERSIONS = 18;
const METADATA = 3;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const UNSUPPORTED_SASL_MECHANISM = 33;
const SASL_AUTHENTICATION_FAILED = 58;

export interface KafkaSecurityProxy {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS */
  address: string;
  /** one entry per login attempt */
  logins: Array<{ mechanism: string; username: string; ok: boolean }>;
  /** requests a client sent before logging in (each closed its connection) */
  refused: number[];
  /** TLS connections accepted */
  connections: number;
  stop(): Promise<void>;
}

/** Splits a byte stream into Kafka frames (size prefix included). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

function frame(correlationId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + body.length, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, body]);
}

const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);

/** ApiVersions body: error code, [api key, min, max], then (v1+) the throttle time, kept as it is. */
function addSaslApis(body: Buffer): Buffer {
  const count = body.readInt32BE(2);
  const entries: Buffer[] = [];
  const keys = new Set<number>();
  for (let i = 0, at = 6; i < count; i++, at += 6) {
    keys.add(body.readInt16BE(at));
    entries.push(body.subarray(at, at + 6));
  }
  const rest = body.subarray(6 + count * 6);
  for (const [key, max] of [
    [SASL_HANDSHAKE, 1],
    [SASL_AUTHENTICATE, 0],
  ] as const) {
    if (!keys.has(key)) entries.push(Buffer.concat([int16(key), int16(0), int16(max)]));
  }
  return Buffer.concat([body.subarray(0, 2), int32(entries.length), ...entries, rest]);
}

/** Metadata body: (v3+ throttle time), then the brokers: node id, host, port, (v1+ rack). */
function brokersToProxy(body: Buffer, version: number, port: number): Buffer {
  let at = version >= 3 ? 4 : 0;
  const head = body.subarray(0, at);
  const count = body.readInt32BE(at);
  at += 4;
  const brokers: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const nodeId = body.readInt32BE(at);
    at += 4;
    at += 2 + body.readInt16BE(at); // host
    at += 4; // port
    let rack: Buffer = Buffer.alloc(0);
    if (version >= 1) {
      const len = body.readInt16BE(at);
      rack = body.subarray(at, at + 2 + Math.max(0, len));
      at += 2 + Math.max(0, len);
    }
    brokers.push(Buffer.concat([int32(nodeId), str('127.0.0.1'), int32(port), rack]));
  }
  return Buffer.concat([head, int32(count), ...brokers, body.subarray(at)]);
}

export async function startKafkaSecurityProxy(options: {
  upstream: string;
  username: string;
  password: string;
  cert: string;
  key: string;
}): Promise<KafkaSecurityProxy> {
  const [upstreamHost, upstreamPort] = options.upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let port = 0;
  const state: KafkaSecurityProxy = {
    address: '',
    logins: [],
    refused: [],
    connections: 0,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer({ cert: options.cert, key: options.key }, (client: TLSSocket) => {
    state.connections++;
    const broker = connect(Number(upstreamPort), upstreamHost);
    sockets.add(client).add(broker);
    const close = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', close).on('close', close);
    broker.on('error', close).on('close', close);
    const asked = new Map<number, { apiKey: number; version: number }>();
    let loggedIn = false;

    client.on(
      'data',
      framer((request) => {
        const apiKey = request.readInt16BE(4);
        const version = request.readInt16BE(6);
        const correlationId = request.readInt32BE(8);
        const body = request.subarray(14 + Math.max(0, request.readInt16BE(12)));
        if (apiKey === SASL_HANDSHAKE) {
          const mechanism = body.subarray(2, 2 + body.readInt16BE(0)).toString();
          const error = mechanism === 'PLAIN' ? 0 : UNSUPPORTED_SASL_MECHANISM;
          client.write(frame(correlationId, Buffer.concat([int16(error), int32(1), str('PLAIN')])));
          return;
        }
        if (apiKey === SASL_AUTHENTICATE) {
          const [, username = '', password = ''] = body
            .subarray(4, 4 + body.readInt32BE(0))
            .toString()
            .split('\u0000');
          loggedIn = username === options.username && password === options.password;
          state.logins.push({ mechanism: 'PLAIN', username, ok: loggedIn });
          const error = loggedIn ? int16(0) : int16(SASL_AUTHENTICATION_FAILED);
          const message = loggedIn ? int16(-1) : str('Authentication failed: invalid username or password');
          client.write(frame(correlationId, Buffer.concat([error, message, int32(0)])));
          return;
        }
        if (!loggedIn && apiKey !== API_VERSIONS) {
          state.refused.push(apiKey);
          close();
          return;
        }
        asked.set(correlationId, { apiKey, version });
        broker.write(request);
      }),
    );
    broker.on(
      'data',
      framer((response) => {
        const correlationId = response.readInt32BE(4);
        const request = asked.get(correlationId);
        asked.delete(correlationId);
        const body = response.subarray(8);
        if (request?.apiKey === API_VERSIONS) client.write(frame(correlationId, addSaslApis(body)));
        else if (request?.apiKey === METADATA) client.write(frame(correlationId, brokersToProxy(body, request.version, port)));
        else client.write(response);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  state.address = `127.0.0.1:${port}`;
  return state;
}
