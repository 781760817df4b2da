// The baseline for query latency: a bare express route returning a constant,
// in its own process like the services it is compared with.
import express from 'express';

const app = express();
app.get('/constant', (_req, res) => {
  res.json({ ok: true });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
