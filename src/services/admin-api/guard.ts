import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { verifySession, verifyToken, type CredentialHashes } from './auth.js';

export const SESSION_COOKIE = 'page_stats_session';

export type AdminGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** preHandler for every admin-only route: a bearer token (scripts) or a session cookie (dashboard). */
export function adminGuard(hashes: CredentialHashes, now: () => number): AdminGuard {
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
    if (cookie !== undefined && (await verifySession(hashes, cookie, now()))) return;
    throw new AppError('unauthorized', 'authentication required: sign in or send Authorization: Bearer <ADMIN_TOKEN>');
  };
}

/** Routes that change state on behalf of a signed-in admin (or sign one in). */
const STATE_CHANGING = /^\/(?:admin\/|api\/(?:login|logout)(?:[/?]|$))/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF: a browser attaches the session cookie to a form another site (or another port of this
 * host: SameSite does not tell ports apart) submits. A state-changing admin request that carries
 * the cookie, and every sign-in, must come from the dashboard's own origin. Browsers say where a
 * request comes from in Sec-Fetch-Site, and older ones in Origin; neither can be set by a page.
 * Requests without a cookie (scripts with a bearer token) are not concerned: no browser sends a
 * cross-origin Authorization header without a CORS preflight, and admin routes allow none.
 */
export function csrfGuard() {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (SAFE_METHODS.has(req.method) || !STATE_CHANGING.test(req.url)) return;
    const signingIn = req.url.split('?')[0] === '/api/login';
    if (!signingIn && (req.headers.authorization !== undefined || req.cookies[SESSION_COOKIE] === undefined)) return;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none') return;
      throw new AppError('forbidden', `cross-origin request refused: admin actions must come from the dashboard's own origin (Sec-Fetch-Site: ${site})`);
    }
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (sameOrigin(origin, `${req.protocol}://${req.host}`)) return;
    throw new AppError('forbidden', `cross-origin request refused: admin actions must come from the dashboard's own origin, not ${origin}`);
  };
}

function sameOrigin(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const origin = new URL(a).origin;
  return origin !== 'null' && origin === new URL(b).origin;
}
