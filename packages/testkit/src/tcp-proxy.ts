import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type PauseMode = 'refuse' | 'blackhole';

/**
 * A TCP proxy on 127.0.0.1 for fault tests: forwards every connection to a target port and
 * can break the path the way networks break. `cut()` resets every open connection at once
 * (both halves see ECONNRESET, mid-request or not); `pause('refuse')` resets new connections
 * as soon as they arrive, `pause('blackhole')` accepts them and never answers (a dropped
 * route: the client waits for its own timeout); `resume()` forwards again.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private readonly held = new Set<Socket>();
  private paused: PauseMode | null = null;
  private target: number | null;
  /** Connections accepted since start, cuts made: for tests that want to see the proxy was used. */
  connections = 0;
  cuts = 0;
  /** Bytes forwarded from clients to the target. */
  bytesUp = 0;

  private constructor(
    readonly port: number,
    server: Server,
    target: number | null,
  ) {
    this.server = server;
    this.target = target;
  }

  /** Listen on a free port of 127.0.0.1. The target may be set later (see `setTarget`). */
  static async start(target: number | null = null): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer({ noDelay: true }, (client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    proxy = new TcpProxy(port, server, target);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setTarget(port: number): void {
    this.target = port;
  }

  private track(s: Socket): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
  }

  private accept(client: Socket): void {
    this.connections++;
    client.on('error', () => {});
    if (this.paused === 'refuse' || this.target === null) {
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    if (this.paused === 'blackhole') {
      client.pause(); // read nothing, answer nothing
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.target, noDelay: true });
    upstream.on('error', () => {});
    this.track(upstream);
    client.on('data', (chunk: Buffer) => {
      this.bytesUp += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side going away takes the other with it, abruptly (as a reset would).
    const kill = () => {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    client.once('close', kill);
    upstream.once('close', kill);
  }

  /** Reset every connection open through the proxy right now. New ones still go through unless paused. */
  cut(): void {
    this.cuts++;
    for (const s of [...this.open]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.open.clear();
  }

  pause(mode: PauseMode = 'refuse'): void {
    this.paused = mode;
  }

  resume(): void {
    this.paused = null;
    // Blackholed connections were never forwarded: drop them so their clients retry.
    for (const s of [...this.held]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.held.clear();
  }

  get isPaused(): boolean {
    return this.paused !== null;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
