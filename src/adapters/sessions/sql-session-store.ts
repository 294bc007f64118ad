import type { SessionStore } from '../../ports/session-store.js';
import type { SqlDatabase } from '../postgres/database.js';

/**
 * Sessions in a table of the rollup database (PostgreSQL, or PGlite in embedded mode), so every
 * ingest replica sees a logout at once and a restart keeps it. One indexed lookup per
 * cookie-authenticated request: dashboard traffic, not page views.
 */
export class SqlSessionStore implements SessionStore {
  private constructor(private readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<SqlSessionStore> {
    try {
      await db.query(`CREATE TABLE IF NOT EXISTS admin_sessions (
        id_hash text PRIMARY KEY,
        expires_at bigint NOT NULL)`);
    } catch (err) {
      // Replicas starting together race on IF NOT EXISTS (PostgreSQL then reports a duplicate
      // pg_type row): the table is there all the same.
      const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('admin_sessions') IS NOT NULL AS present`);
      if (rows[0]?.present !== true) throw err;
    }
    return new SqlSessionStore(db);
  }

  async create(idHash: string, expiresAt: number, now: number): Promise<void> {
    // Expired sessions are swept on sign-in, which is rare enough to cost nothing.
    await this.db.query('DELETE FROM admin_sessions WHERE expires_at <= $1', [now]);
    await this.db.query('INSERT INTO admin_sessions (id_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [idHash, expiresAt]);
  }

  async isActive(idHash: string, now: number): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2', [idHash, now]);
    return rows.length > 0;
  }

  async revoke(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM admin_sessions WHERE id_hash = $1', [idHash]);
  }
}
