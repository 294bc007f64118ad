// Empty and error states shared by the dashboard panels.
import { useState } from 'preact/hooks';
import { ApiError } from '../api';

export function EmptyState({ filtered }: { filtered: boolean }) {
  const [copied, setCopied] = useState(false);
  const snippet = `<script defer src="${location.origin}/tracker.js"></script>`;
  const copy = () => {
    navigator.clipboard?.writeText(snippet).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="state" data-testid="empty-state">
      <p class="state-title">No page views in this range yet</p>
      {filtered ? (
        <p class="muted">Try a longer date range or clear the region and page filters.</p>
      ) : (
        <>
          <p class="muted">
            Pick a longer date range, or add the tracker to your site. Views appear here once the daily roll-up has run; the last 30 minutes show up right away.
          </p>
          <div class="snippet">
            <code>{snippet}</code>
            <button type="button" class="button button-small" onClick={copy}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        </>
      )}
    </div>
  );
}

function describe(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (detail && typeof detail === 'object' && 'message' in detail && typeof detail.message === 'string') {
    const path = 'path' in detail && Array.isArray(detail.path) ? detail.path.join('.') : '';
    return path ? `${path}: ${detail.message}` : detail.message;
  }
  return '';
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  const details = error instanceof ApiError && error.status !== 0 ? error.details.map(describe).filter(Boolean) : [];
  return (
    <div class="state state-error" role="alert" data-testid="error-state">
      <p class="state-title">Could not load page views</p>
      <p>{message}</p>
      {details.length > 0 && (
        <ul class="details">
          {details.slice(0, 5).map((detail, i) => (
            <li key={i}>{detail}</li>
          ))}
        </ul>
      )}
      <button type="button" class="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
