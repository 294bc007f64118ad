import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError, invalidInput } from '../../domain/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON bodies for `application/json` and `text/plain` (what navigator.sendBeacon sends with a
 * string, so a tracker needs no CORS preflight). Invalid UTF-8 is refused rather than replaced
 * with U+FFFD, and `__proto__` / `constructor.prototype` keys are refused outright.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch (cause) {
      done(new AppError('invalid_input', 'request body is not valid UTF-8', { cause }), undefined);
      return;
    }
    if (text.trim() === '') {
      done(invalidInput('request body is empty: expected a JSON object or array'), undefined);
      return;
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (cause) {
      const reason = cause instanceof SyntaxError ? cause.message : 'forbidden key (__proto__ or constructor.prototype)';
      done(invalidInput('request body is not valid JSON', [reason]), undefined);
    }
  });
}
