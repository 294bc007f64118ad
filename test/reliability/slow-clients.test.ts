import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

// REQUEST_TIMEOUT is 30 s by default; 1 s here keeps the test quick. Node checks the timeouts
// every quarter of it, so a slow socket is closed between 1 and about 1.25 s.
const TIMEOUT_MS = 1_000;

interface Trickle {
  /** everything the server sent back */
  answer(): string;
  /** resolves when the server closed the socket */
  closed: Promise<void>;
  stop(): void;
}

/** Sends `head` then `drip` one byte at a time, every `everyMs`, until the server closes the socket. */
function trickle(port: number, head: string, drip: string, everyMs: number): Trickle {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(drip[i++ % drip.length]!);
  }, everyMs);
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => {});
  socket.write(head);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve();
    }),
  );
  return {
    answer: () => received,
    closed,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** true when the server closed the socket within `ms` */
const closedWithin = (t: Trickle, ms: number): Promise<boolean> =>
  Promise.race([t.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('slow clients', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startEmbeddedApp({ REQUEST_TIMEOUT: `${TIMEOUT_MS}ms` });
    port = Number(new URL(t.url).port);
  });
  afterAll(async () => await t?.close());

  it('a body trickled a byte at a time is cut off at REQUEST_TIMEOUT with 408', async () => {
    const body = JSON.stringify({ pageName: '/slow' }).padEnd(1_000, ' ');
    const head = `POST /page-view HTTP/1.1\r\nHost: x\r\nUser-Agent: ${BROWSER_UA}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = trickle(port, head, body, 100);
    try {
      // 1,000 bytes at 10 a second would take 100 s
      expect(await closedWithin(slow, 10 * TIMEOUT_MS)).toBe(true);
      expect(slow.answer()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      slow.stop();
    }
  });

  it('headers trickled a byte at a time (slowloris) are cut off too', async () => {
    const slow = trickle(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', 100);
    try {
      expect(await closedWithin(slow, 10 * TIMEOUT_MS)).toBe(true);
    } finally {
      slow.stop();
    }
  });

  it('a hundred slow sockets are all closed, and the server keeps answering meanwhile', async () => {
    const head = `POST /page-view HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n`;
    const sockets = Array.from({ length: 100 }, () => trickle(port, head, ' ', 200));
    try {
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 10 * TIMEOUT_MS)));
      expect(closed.filter((c) => !c)).toHaveLength(0);
    } finally {
      for (const s of sockets) s.stop();
    }
  });

  it('a request that arrives in time is answered as usual', async () => {
    const res = await fetch(`${t.url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ pageName: '/fast' }),
    });
    expect(res.status).toBe(202);
  });
});
