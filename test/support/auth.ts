// Every test run trusts a signing key of its own. Services started in this
// process or as children read the key (and a rate limit out of a load test's
// way) from the environment set here; calls carry an admin token unless a
// test says otherwise.
import { runAuth } from '../../scripts/local-auth.ts';

export const testAuth = runAuth('test');
for (const [name, value] of Object.entries(testAuth.env)) process.env[name] = value;
process.env.INVENTORY_API_TOKEN = await testAuth.tokenFor('product-service');
delete process.env.HTTP_AUTH;

export const adminToken = await testAuth.tokenFor('admin');
