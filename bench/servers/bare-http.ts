import { createServer } from 'node:http';

/**
 * The baseline for every HTTP figure: a bare `node:http` server that reads the request body and
 * answers 204. Nothing an HTTP server on this machine does can be cheaper, so our figures are
 * reported as a fraction of it.
 */
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
