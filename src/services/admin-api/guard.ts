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
      const token = match?.[1];
      if (token !== undefined) {
        if (hashes.tokenHash !== undefined && verifyToken(token, hashes.tokenHash)) return;
        if (hashes.localTokenHash !== undefined && verifyToken(token, hashes.localTokenHash)) return;
      }
      throw new AppError('unauthorized', 'invalid bearer token');
    }
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie !== undefined && verifySession(hashes.sessionSecret, cookie, now())) return;
    throw new AppError('unauthorized', 'authentication required: sign in or send Authorization: Bearer <ADMIN_TOKEN>');
  };
}
