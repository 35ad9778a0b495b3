// A forward proxy for tests, in Node: http requests in absolute form are
// relayed, CONNECT opens a tunnel. It records what it was asked, so a test can
// tell whether a request went through it and with which headers.
import http from 'node:http';
import net from 'node:net';

export interface ProxiedRequest {
  kind: 'absolute' | 'connect';
  /** The absolute URL, or host:port for CONNECT. */
  target: string;
  headers: http.IncomingHttpHeaders;
}

/** A proxy server (not yet listening) and the list it appends each request to. */
export function forwardProxy(): { server: http.Server; proxied: ProxiedRequest[] } {
  const proxied: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    proxied.push({ kind: 'absolute', target: req.url!, headers: req.headers });
    const up = http.request(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    proxied.push({ kind: 'connect', target: req.url!, headers: req.headers });
    const [host, port] = req.url!.split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
  });
  return { server, proxied };
}
