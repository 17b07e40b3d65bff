// Test fixture: an instance that reports the argv it was started with (launcher injection test).
import { createServer } from 'node:http';

const args = process.argv.slice(2);
const port = Number(process.env.PORT);
createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ args, env: { QUBOT_ARTIFACT: process.env.QUBOT_ARTIFACT } }));
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
