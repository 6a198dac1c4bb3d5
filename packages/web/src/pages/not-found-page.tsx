import { useTitle } from '../hooks.js';
import { Link } from '../router.js';

export function NotFoundPage({ path, reason }: { path: string; reason?: string }) {
  useTitle('Not found');
  return (
    <section className="page">
      <h1>Nothing here</h1>
      <p>{reason ?? `There is no page at ${path}.`}</p>
      <p>
        <Link to="/">Go to your lines</Link>
      </p>
    </section>
  );
}
