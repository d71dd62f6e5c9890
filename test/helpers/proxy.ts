/**
 * A TCP proxy on loopback that can hold what clients send: while held, the
 * bytes are kept instead of forwarded, and a client that dies meanwhile still
 * has them delivered on release(). An INSERT held so arrives at the server
 * after its sender is gone, as one stuck in a network path or a load
 * balancer does.
 */
import net from 'node:net';

interface Pipe {
  upstream: net.Socket;
  held: Buffer[];
  clientClosed: boolean;
}

export class HoldingProxy {
  private readonly server: net.Server;
  private readonly pipes = new Set<Pipe>();
  private holding = false;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      const pipe: Pipe = { upstream: net.connect(this.targetPort, '127.0.0.1'), held: [], clientClosed: false };
      this.pipes.add(pipe);
      client.on('data', (d: Buffer) => (this.holding || pipe.held.length ? pipe.held.push(d) : pipe.upstream.write(d)));
      pipe.upstream.on('data', (d: Buffer) => {
        if (!pipe.clientClosed) client.write(d);
      });
      const closeClient = () => {
        pipe.clientClosed = true;
        if (pipe.held.length === 0) pipe.upstream.end();
      };
      client.on('close', closeClient);
      client.on('error', closeClient);
      pipe.upstream.on('error', () => client.destroy());
      pipe.upstream.on('close', () => {
        client.destroy();
        this.pipes.delete(pipe);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  /** From now on, what clients send is kept. */
  hold(): void {
    this.holding = true;
  }

  /** What is held so far, as text (requests: method, URL with the query, headers, body). */
  heldText(): string {
    return [...this.pipes].map((p) => Buffer.concat(p.held).toString('latin1')).join('\n');
  }

  /** Delivers everything held, in order; connections whose client died are ended after it. */
  release(): void {
    this.holding = false;
    for (const p of this.pipes) {
      for (const d of p.held.splice(0)) p.upstream.write(d);
      if (p.clientClosed) p.upstream.end();
    }
  }

  async close(): Promise<void> {
    for (const p of this.pipes) p.upstream.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
