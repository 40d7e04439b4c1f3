'use strict';
// NocoDB for the talking_head_dagster integration tests, mounted on a bare express app.
// Started by tests/services/nocodb.py with PORT, HOST, NC_DB, NC_AUTH_JWT_SECRET and
// NC_DISABLE_TELE in the environment. Listens on loopback only.
const express = require('express');
const { Noco } = require('nocodb');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 18080);

async function main() {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = app.listen(port, host);
  httpServer.on('error', (err) => {
    console.error(`cannot listen on ${host}:${port}:`, err);
    process.exit(1);
  });
  app.use(await Noco.init({}, httpServer, app));
  console.log(`talking-head test NocoDB ready on http://${host}:${port}`);
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`received ${signal}, exiting`);
    process.exit(0);
  });
}

main().catch((err) => {
  console.error('NocoDB failed to start:', err);
  process.exit(1);
});
