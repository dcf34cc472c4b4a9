// The trivial local server of the emitter benchmark: a token endpoint and a data endpoint that answers every POST
// with 201 and a Location, every PUT and DELETE with 204, without looking at the body. It measures the client
// side only; run in its own process so the server's work does not share the client's event loop.
import { createServer } from 'node:http';

let next = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url?.endsWith('/oauth/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'bench-token', expires_in: 3600, token_type: 'bearer' }));
      return;
    }
    if (req.method === 'POST') {
      const id = (++next).toString(16).padStart(32, '0');
      res.writeHead(201, { location: `${req.url}/${id}`, 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
