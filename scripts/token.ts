// npm run token -- <identity> [--ttl <seconds>] : prints a bearer token for one
// of the known identities, signed with the local key npm start made.
//   curl -H "Authorization: Bearer $(npm run -s token -- admin)" ...
import { runCli, UsageError } from './cli.ts';
import { tokenFor } from './local-auth.ts';
import { IDENTITIES } from '../services/access.ts';

const USAGE = `usage: npm run token -- <${Object.keys(IDENTITIES).join('|')}> [--ttl <seconds>]`;

runCli('token', async () => {
  const [identity, ...rest] = process.argv.slice(2);
  if (!identity || !IDENTITIES[identity]) throw new UsageError(identity ? `unknown identity '${identity}'; ${USAGE}` : USAGE);
  let ttlSeconds = 12 * 3600;
  if (rest.length) {
    const ttl = Number(rest[1]);
    if (rest[0] !== '--ttl' || rest.length !== 2 || !Number.isInteger(ttl) || ttl < 1 || ttl > 365 * 86400) throw new UsageError(USAGE);
    ttlSeconds = ttl;
  }
  console.log(await tokenFor(identity, { ttlSeconds }));
});
