// The local gateway (like Freenet's FProxy): an HTTP server on loopback by default. It serves
// the JSON status API now; content insert/fetch and metrics join it with the content issue. Every
// request is hostile until checked: unknown paths get 404, wrong methods 405, with a JSON body.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.ts';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void | Promise<void>;

export interface Route {
  method: string;
  path: string; // exact match, or a prefix when `prefix` is set
  prefix: boolean;
  handler: Handler;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 1) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

export class Gateway {
  private readonly server: http.Server;
  private readonly routes: Route[] = [];

  constructor(private readonly log: Logger) {
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 0; // content streams may be long; idle sockets still time out
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 64;
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.push({ method, path, prefix: false, handler });
  }

  /** A route for every path that starts with `prefix` (exact routes are matched first). */
  routePrefix(method: string, prefix: string, handler: Handler): void {
    this.routes.push({ method, path: prefix, prefix: true, handler });
  }

  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as AddressInfo;
    const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${h}:${a.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return sendJson(res, 400, { error: 'malformed request URL' });
    }
    let byPath = this.routes.filter((r) => !r.prefix && r.path === url.pathname);
    if (byPath.length === 0) byPath = this.routes.filter((r) => r.prefix && url.pathname.startsWith(r.path));
    if (byPath.length === 0) return sendJson(res, 404, { error: `no such endpoint: ${url.pathname}` });
    const route = byPath.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader('allow', byPath.map((r) => r.method).join(', '));
      return sendJson(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
    }
    try {
      await route.handler(req, res, url);
    } catch (e) {
      this.log.error('gateway handler failed', { path: url.pathname, error: e });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }
}
