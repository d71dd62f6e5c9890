/** A webhook receiver on loopback for tests: answers the given codes in turn (then `ok`), keeping the bodies it accepted. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receiver<T> {
  url: string;
  /** Bodies of the POSTs answered with a 2xx, parsed. */
  got: T[];
  /** Every POST, answered or refused. */
  posts(): number;
  close(): Promise<void>;
}

export async function startReceiver<T>(codes: number[] = [], ok = 200): Promise<Receiver<T>> {
  const got: T[] = [];
  let posts = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts++;
      const code = codes.shift() ?? ok;
      if (code < 300) got.push(JSON.parse(body) as T);
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    posts: () => posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
