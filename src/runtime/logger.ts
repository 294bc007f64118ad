import pino, { type Logger } from 'pino';

/** The one logger factory. Secrets are redacted wherever they might appear in a logged object. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'page-stats', ...bindings },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.ADMIN_PASSWORD',
        '*.ADMIN_TOKEN',
        '*.INFLUX_TOKEN',
      ],
      censor: '[redacted]',
    },
  });
}
