import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { verifySession, verifyToken, type CredentialHashes } from './auth.js';

export const SESSION_COOKIE = 'page_stats_session';

/** preHandler for every admin-only route: a bearer token (scripts) or a session cookie (dashboard). */
export function adminGuard(hashes: CredentialHashes, now: () => number) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match?.[1] !== undefined && hashes.tokenHash !== undefined && verifyToken(match[1], hashes.tokenHash)) return;
      throw new AppError('unauthorized', 'invalid bearer token');
    }
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie !== undefined && verifySession(hashes.sessionSecret, cookie, now())) return;
    throw new AppError('unauthorized', 'authentication required: sign in or send Authorization: Bearer <ADMIN_TOKEN>');
  };
}
