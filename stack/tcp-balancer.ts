import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer in front of several Temporal frontends, as production
 * puts one in front of a cluster: the SDK connects to one address. Each client
 * connection goes to the next backend in turn; a backend that refuses is
 * skipped (and rested for a while), so when a node dies its clients reconnect
 * to the others. Development and test code (the chaos suite's cluster).
 */
export interface TcpBalancer {
  readonly address: string;
  /** Connections each backend took, by its address. */
  connections(): Record<string, number>;
  close(): Promise<void>;
}

const REST_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;

export async function startTcpBalancer(options: { backends: string[]; port: number; host?: string }): Promise<TcpBalancer> {
  const host = options.host ?? '127.0.0.1';
  const restingUntil = new Map<string, number>();
  const counts = new Map<string, number>(options.backends.map((b) => [b, 0]));
  const open = new Set<Socket>();
  let next = 0;

  function dial(client: Socket, tried: number): void {
    if (client.destroyed) return;
    if (tried >= options.backends.length) {
      client.destroy();
      return;
    }
    const now = Date.now();
    let backend = options.backends[next % options.backends.length] as string;
    next += 1;
    // A resting backend is passed over while another is available.
    for (let i = 0; i < options.backends.length && (restingUntil.get(backend) ?? 0) > now; i += 1) {
      backend = options.backends[next % options.backends.length] as string;
      next += 1;
    }
    const [backendHost, backendPort] = backend.split(':') as [string, string];
    const upstream = connect({ host: backendHost, port: Number(backendPort) });
    upstream.setTimeout(CONNECT_TIMEOUT_MS);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      counts.set(backend, (counts.get(backend) ?? 0) + 1);
      open.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      upstream.once('close', () => {
        open.delete(upstream);
        client.destroy();
      });
      client.once('close', () => upstream.destroy());
    });
    const failed = () => {
      upstream.destroy();
      if (connected) return;
      restingUntil.set(backend, Date.now() + REST_MS);
      dial(client, tried + 1);
    };
    upstream.once('timeout', failed);
    upstream.once('error', failed);
  }

  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    // Held until a backend answers: pipe() resumes it, so nothing the client sent first is lost.
    client.pause();
    dial(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  return {
    address: `${host}:${options.port}`,
    connections: () => Object.fromEntries(counts),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
