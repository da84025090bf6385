/** A local webhook receiver for tests: records every request and can answer with scripted statuses. */
import { createServer, type Server } from 'node:http';

export interface ReceivedRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  /** Statuses for the next requests, in order; afterwards 200. */
  respondWith(statuses: number[]): void;
  /** Hold answers this long (to test timeouts). */
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  let script: number[] = [];
  let delayMs = 0;
  const pending = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Keep raw text.
      }
      received.push({ path: req.url ?? '/', method: req.method ?? 'GET', headers: req.headers, body });
      const status = script.shift() ?? 200;
      const timer = setTimeout(() => {
        pending.delete(timer);
        res.statusCode = status;
        res.end(status === 200 ? 'ok' : 'no');
      }, delayMs);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    respondWith: (s) => (script = [...s]),
    delay: (ms) => (delayMs = ms),
    close: () =>
      new Promise((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
