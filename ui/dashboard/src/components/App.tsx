// Decides between the sign-in page and the dashboard, and owns the session.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { getSession, logout, type Session } from '../api';
import { clearJsonCache } from '../use-json';
import { Dashboard } from './Dashboard';
import { Login } from './Login';

type Auth =
  | { status: 'checking' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'signed-in'; session: Session }
  | { status: 'unavailable'; message: string };

export function App() {
  const [auth, setAuth] = useState<Auth>({ status: 'checking' });

  const checkSession = useCallback(async (notice?: string) => {
    try {
      const session = await getSession();
      setAuth(session ? { status: 'signed-in', session } : { status: 'signed-out', notice });
    } catch (error) {
      setAuth({ status: 'unavailable', message: error instanceof Error ? error.message : String(error) });
    }
  }, []);

  useEffect(() => {
    void checkSession();
  }, [checkSession]);

  const signOut = useCallback(async () => {
    // Leave the dashboard even when the request fails: the cookie may already be gone.
    await logout().catch(() => undefined);
    clearJsonCache();
    setAuth({ status: 'signed-out', notice: 'You have signed out.' });
  }, []);

  const expired = useCallback(() => {
    clearJsonCache();
    setAuth({ status: 'signed-out', notice: 'Your session has ended. Please sign in again.' });
  }, []);

  switch (auth.status) {
    case 'checking':
      return (
        <p class="splash" role="status">
          Loading…
        </p>
      );
    case 'unavailable':
      return (
        <main class="splash">
          <div class="state state-error" role="alert" data-testid="error-state">
            <p>The page-stats server did not answer: {auth.message}</p>
            <button type="button" class="button" onClick={() => void checkSession()}>
              Try again
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <Login notice={auth.notice} onSignedIn={() => checkSession()} />;
    case 'signed-in':
      return <Dashboard session={auth.session} onSignOut={signOut} onSessionExpired={expired} />;
  }
}
