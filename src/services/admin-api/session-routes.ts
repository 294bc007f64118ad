import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, invalidInput } from '../../domain/errors.js';
import { issueSession, readSession, verifyPassword, type CredentialHashes } from './auth.js';
import { type AdminGuard, SESSION_COOKIE } from './guard.js';

export interface SessionDeps {
  hashes: CredentialHashes;
  /** the admin API's guard, for GET /api/session */
  requireAdmin: AdminGuard;
  sessionTtlMs: number;
  now: () => number;
  timezone: string;
  weekStart: number;
}

const LoginBody = z.object({ password: z.string().min(1).max(1_024) });

/** Dashboard sign-in: password → HttpOnly, SameSite=Strict session cookie. */
export async function sessionRoutes(app: FastifyInstance, deps: SessionDeps): Promise<void> {
  const requireAdmin = deps.requireAdmin;

  app.post('/api/login', { config: { rateLimit: { max: 10, timeWindow: 60_000 } } }, async (req, reply) => {
    const parsed = LoginBody.safeParse(req.body);
    if (!parsed.success) throw invalidInput('expected a JSON body { "password": "..." }');
    const hash = deps.hashes.passwordHash;
    if (hash === undefined || !(await verifyPassword(parsed.data.password, hash))) {
      throw new AppError('unauthorized', 'wrong password');
    }
    const now = deps.now();
    const session = issueSession(deps.hashes.sessionSecret, now, deps.sessionTtlMs);
    await deps.hashes.sessions.create(session.idHash, session.expiresAt, now);
    return await reply
      .setCookie(SESSION_COOKIE, session.cookie, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.protocol === 'https',
        path: '/',
        maxAge: Math.floor(deps.sessionTtlMs / 1000),
      })
      .code(204)
      .send();
  });

  // Revoked on the server: a copy of the cookie (another tab, a stolen one) stops working too.
  app.post('/api/logout', async (req, reply) => {
    const cookie = req.cookies[SESSION_COOKIE];
    const session = cookie === undefined ? undefined : readSession(deps.hashes.sessionSecret, cookie, deps.now());
    if (session !== undefined) await deps.hashes.sessions.revoke(session.idHash);
    return await reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send();
  });

  // 200 either way: the dashboard asks this on every load, and a 401 would be a console error.
  app.get('/api/session', async (req, reply) => {
    const authenticated = await requireAdmin(req, reply).then(
      () => true,
      () => false,
    );
    return authenticated ? { authenticated, timezone: deps.timezone, weekStart: deps.weekStart } : { authenticated };
  });
}
