// The app's pages and their URLs. The station answers every non-API path with index.html, so
// each of these can be reloaded or bookmarked.

export type Route =
  | { name: 'dashboard' }
  | { name: 'line'; line: string }
  | { name: 'readouts'; line: string }
  | { name: 'observer' }
  | { name: 'admin' }
  | { name: 'login' }
  | { name: 'enroll' }
  | { name: 'not-found'; path: string };

const LINE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'dashboard' };
  if (path === '/login') return { name: 'login' };
  if (path === '/enroll') return { name: 'enroll' };
  if (path === '/admin') return { name: 'admin' };
  if (path === '/observer') return { name: 'observer' };
  const m = /^\/lines\/([^/]+)(\/readouts)?$/.exec(path);
  if (m) {
    let line: string;
    try {
      line = decodeURIComponent(m[1] as string);
    } catch {
      return { name: 'not-found', path };
    }
    if (LINE_NAME.test(line)) return m[2] ? { name: 'readouts', line } : { name: 'line', line };
  }
  return { name: 'not-found', path };
}

export function linePath(line: string): string {
  return `/lines/${encodeURIComponent(line)}`;
}

export function readoutsPath(line: string): string {
  return `${linePath(line)}/readouts`;
}
