export interface EndpointState {
  url: string;
  up: boolean;
  lastOkAt: number | null;
  lastError: string | null;
}

/**
 * The peer's advertised URLs in preference order, with what we last saw of each. Requests go
 * to the first endpoint believed up; a failure marks it down and moves on; heartbeats probe
 * every endpoint, so a recovered one is marked up and preferred again.
 */
export class Endpoints {
  readonly states: EndpointState[];

  constructor(urls: string[]) {
    this.states = urls.map((url) => ({ url, up: true, lastOkAt: null, lastError: null }));
  }

  /** Endpoints to try, best first: those believed up, then the rest (one may have recovered). */
  order(): EndpointState[] {
    return [...this.states.filter((s) => s.up), ...this.states.filter((s) => !s.up)];
  }

  current(): string | null {
    return this.states.find((s) => s.up)?.url ?? null;
  }

  markUp(url: string, now = Date.now()): void {
    const s = this.states.find((e) => e.url === url);
    if (s) Object.assign(s, { up: true, lastOkAt: now, lastError: null });
  }

  markDown(url: string, reason: string): void {
    const s = this.states.find((e) => e.url === url);
    if (s) Object.assign(s, { up: false, lastError: reason });
  }

  anyDown(): boolean {
    return this.states.some((s) => !s.up);
  }
}
