// Sign-in page: one password field, clear errors for a wrong password and for rate limiting.
import { useRef, useState } from 'preact/hooks';
import { ApiError, login } from '../api';

interface Props {
  notice?: string;
  onSignedIn: () => Promise<void>;
}

function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Wrong password. Please try again.';
    if (error.status === 429) {
      const wait = error.retryAfterSeconds;
      return wait
        ? `Too many sign-in attempts. Try again in ${wait < 120 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`}.`
        : 'Too many sign-in attempts. Please wait a minute and try again.';
    }
    return error.message;
  }
  return 'Sign-in failed. Please try again.';
}

export function Login({ notice, onSignedIn }: Props) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    if (!password) {
      setError('Enter the admin password.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(password);
      await onSignedIn();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
      input.current?.select();
      input.current?.focus();
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-busy={busy} noValidate>
        <p class="brand brand-large" aria-hidden="true">
          <span class="brand-mark" />
          page-stats
        </p>
        <h1>Sign in</h1>
        {notice && !error && <p class="login-notice">{notice}</p>}
        {/* Password managers look for a username next to the password. */}
        <input type="text" name="username" autocomplete="username" value="admin" hidden readOnly />
        <label for="login-password">Admin password</label>
        <input
          ref={input}
          id="login-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          // biome-ignore lint/a11y/noAutofocus: the sign-in page is a single field the user came to fill
          autoFocus
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'login-error' : undefined}
          data-testid="login-password"
        />
        <div aria-live="assertive">
          {error && (
            <p id="login-error" class="form-error" data-testid="login-error">
              {error}
            </p>
          )}
        </div>
        <button type="submit" class="button button-primary" disabled={busy} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
