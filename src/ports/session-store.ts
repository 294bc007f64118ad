/**
 * Dashboard sessions the server knows about. A session cookie is signed, so forgeries are
 * refused without asking the store; the store is what lets the server take a session back
 * (logout) on every replica and across restarts. Ids are stored hashed.
 */
export interface SessionStore {
  create(idHash: string, expiresAt: number, now: number): Promise<void>;
  /** true while the session exists and `now` is before its expiry */
  isActive(idHash: string, now: number): Promise<boolean>;
  revoke(idHash: string): Promise<void>;
}

/** For processes without dashboard sign-in (only a bearer token guards /metrics there). */
export const noSessions: SessionStore = {
  create: async () => {
    throw new Error('this process does not keep dashboard sessions');
  },
  isActive: async () => false,
  revoke: async () => {},
};
