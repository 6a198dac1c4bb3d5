import type { ReactNode } from 'react';

/** An error the officer must see; announced by screen readers as it appears. */
export function ErrorAlert({ children, onRetry }: { children: ReactNode; onRetry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <span>{children}</span>
      {onRetry && (
        <button type="button" className="button-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="alert alert-notice" role="status">
      {children}
    </div>
  );
}
