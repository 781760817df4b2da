// AWS MSK IAM without AWS: the configuration that selects it, the signer called
// with the configured region (a stand-in signer, passed in), the token cache
// that keeps many connections from each calling the signer, and the IAM
// policies in docs/msk-iam.md, which must grant what topology/access.yaml does.
import fs from 'node:fs';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../services/platform/config.ts';
import { cachedTokenSource, defaultTokenSource, mskIamTokenSource, oauthBearerProvider, type BearerToken, type MskSigner } from '../../services/platform/kafka/msk-iam.ts';
import { readAccessFile } from '../../services/platform/topology/access.ts';
import { readTopologyFile } from '../../services/platform/topology/declaration.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const MSK_BROKERS = 'b-1.shop.abc123.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.shop.abc123.c2.kafka.eu-west-1.amazonaws.com:9098';
const iam = { KAFKA_PROFILE: 'msk', KAFKA_BROKERS: MSK_BROKERS, KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'aws-msk-iam' };

/** A signer that records its calls and answers tokens valid for lifeMs from the clock. */
function recordingSigner(clock: { now: number }, lifeMs = 900_000) {
  const calls: { region: string }[] = [];
  const sign: MskSigner = async (options) => {
    calls.push(options);
    return { token: `signed-${calls.length}-${options.region}`, expiryTime: clock.now + lifeMs };
  };
  return { calls, sign };
}

describe('AWS MSK IAM', () => {
  describe('configuration', () => {
    it('accepts aws-msk-iam over TLS with the msk profile, taking the region from the MSK broker names', () => {
      expect(loadConfig(iam).kafka.security).to.deep.equal({ ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' } });
    });

    it('prefers KAFKA_AWS_REGION, then the broker names, then AWS_REGION', () => {
      const region = (env: Record<string, string>) => {
        const sasl = loadConfig(env).kafka.security.sasl;
        return sasl?.mechanism === 'aws-msk-iam' ? sasl.region : undefined;
      };
      const local = { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'AWS-MSK-IAM', KAFKA_BROKERS: '10.0.0.5:9098' };
      expect(region({ ...local, AWS_REGION: 'us-east-2' })).to.equal('us-east-2');
      expect(region({ ...local, AWS_REGION: 'us-east-2', KAFKA_AWS_REGION: 'ap-southeast-4' })).to.equal('ap-southeast-4');
      expect(region({ ...iam, AWS_REGION: 'us-east-2' })).to.equal('eu-west-1');
      expect(region({ ...iam, KAFKA_AWS_REGION: 'eu-west-1' })).to.equal('eu-west-1');
      expect(region({ ...iam, KAFKA_BROKERS: 'boot-abcd1234.c2.kafka-serverless.us-west-2.amazonaws.com:9098' })).to.equal('us-west-2');
    });

    it('names each bad variable on a line of its own', () => {
      const local = { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'aws-msk-iam', KAFKA_BROKERS: '10.0.0.5:9098' };
      expect(problemsOf(local)).to.deep.equal([
        "KAFKA_AWS_REGION: required with KAFKA_SASL_MECHANISM=aws-msk-iam (the MSK cluster's region, e.g. eu-west-1), unless AWS_REGION or the MSK broker host names give it",
      ]);
      expect(problemsOf({ ...local, KAFKA_AWS_REGION: 'Ireland' })).to.deep.equal(["KAFKA_AWS_REGION: 'Ireland' is not an AWS region (e.g. eu-west-1)"]);
      expect(problemsOf({ ...iam, KAFKA_AWS_REGION: 'us-east-1' })).to.deep.equal([
        "KAFKA_AWS_REGION: 'us-east-1' is not the region of the MSK brokers in KAFKA_BROKERS (eu-west-1); tokens are signed for one region",
      ]);
      expect(problemsOf({ ...iam, KAFKA_SASL_USERNAME: 'order', KAFKA_SASL_PASSWORD: 's3cret-value' })).to.deep.equal([
        'KAFKA_SASL_USERNAME: not used with KAFKA_SASL_MECHANISM=aws-msk-iam (the AWS credentials name the principal); unset it',
        'KAFKA_SASL_PASSWORD: not used with KAFKA_SASL_MECHANISM=aws-msk-iam (the AWS credentials name the principal); unset it',
      ]);
    });

    it('refuses aws-msk-iam without TLS, once', () => {
      expect(problemsOf({ KAFKA_SASL_MECHANISM: 'aws-msk-iam', KAFKA_AWS_REGION: 'eu-west-1' })).to.deep.equal([
        "KAFKA_SASL_MECHANISM=aws-msk-iam without KAFKA_SSL=true: MSK's IAM listeners take TLS only, and the signed token would cross the network in the clear",
      ]);
      const { KAFKA_SSL: _, ...plaintext } = iam;
      const problems = problemsOf(plaintext);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^KAFKA_PROFILE=msk: plaintext is refused; .* or KAFKA_SASL_MECHANISM=aws-msk-iam$/);
    });

    it('lists aws-msk-iam among the mechanisms', () => {
      expect(problemsOf({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).to.deep.equal([
        "KAFKA_SASL_MECHANISM: 'gssapi' is not one of scram-sha-512, scram-sha-256, plain, aws-msk-iam",
      ]);
    });
  });

  describe('the signer', () => {
    it('is called with the configured region, and its token is what kafkajs sends', async () => {
      const clock = { now: Date.now() };
      const { calls, sign } = recordingSigner(clock);
      const sasl = loadConfig({ ...iam, KAFKA_BROKERS: '10.0.0.5:9098', KAFKA_AWS_REGION: 'eu-central-2' }).kafka.security.sasl;
      if (sasl?.mechanism !== 'aws-msk-iam') throw new Error(`expected aws-msk-iam, got ${sasl?.mechanism}`);
      const provide = oauthBearerProvider(mskIamTokenSource(sasl.region, sign));
      expect(await provide()).to.deep.equal({ value: 'signed-1-eu-central-2' });
      expect(calls).to.deep.equal([{ region: 'eu-central-2' }]);
    });

    it('reports a signing failure with the region, keeping the cause', async () => {
      const cause = new Error('Could not load credentials from any providers');
      const source = mskIamTokenSource('eu-west-1', async () => {
        throw cause;
      });
      const error = await source().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.equal('MSK IAM: could not sign a token for eu-west-1: Could not load credentials from any providers');
      expect(error?.cause).to.equal(cause);
    });

    it("is AWS's by default, loaded only when first needed, one cached source per region", async () => {
      const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
      expect(generateAuthToken).to.be.a('function');
      expect(defaultTokenSource('eu-west-1')).to.equal(defaultTokenSource('eu-west-1'));
      expect(defaultTokenSource('eu-west-1')).to.not.equal(defaultTokenSource('us-east-1'));
    });
  });

  describe('the token cache', () => {
    it('serves one token until a minute before it expires, then signs again', async () => {
      const clock = { now: 1_000_000 };
      const { calls, sign } = recordingSigner(clock);
      const source = cachedTokenSource(mskIamTokenSource('eu-west-1', sign), { now: () => clock.now });
      const first = await source();
      clock.now += 839_000; // 61 s left
      expect(await source()).to.equal(first);
      expect(calls).to.have.length(1);
      clock.now += 2_000; // 59 s left
      const second = await source();
      expect(second.token).to.equal('signed-2-eu-west-1');
      expect(second.expiresAt).to.equal(clock.now + 900_000);
      expect(calls).to.have.length(2);
    });

    it('signs once for many connections authenticating at once', async () => {
      const clock = { now: 1_000_000 };
      const { calls, sign } = recordingSigner(clock);
      const provide = oauthBearerProvider(cachedTokenSource(mskIamTokenSource('eu-west-1', sign), { now: () => clock.now }));
      const tokens = await Promise.all(Array.from({ length: 50 }, () => provide()));
      expect(new Set(tokens.map((t) => t.value))).to.deep.equal(new Set(['signed-1-eu-west-1']));
      expect(calls).to.have.length(1);
    });

    it('refreshes a short-lived token at half its life, not on every call', async () => {
      const clock = { now: 1_000_000 };
      const { calls, sign } = recordingSigner(clock, 40_000); // credentials about to expire cut the token's life
      const source = cachedTokenSource(mskIamTokenSource('eu-west-1', sign), { now: () => clock.now });
      await source();
      clock.now += 19_000;
      await source();
      expect(calls).to.have.length(1);
      clock.now += 1_000;
      await source();
      expect(calls).to.have.length(2);
    });

    it('does not cache a failure, and serves the current token while a refresh fails', async () => {
      const clock = { now: 1_000_000 };
      let fail = false;
      let made = 0;
      const source = cachedTokenSource(
        async (): Promise<BearerToken> => {
          if (fail) throw new Error('STS is unreachable');
          made += 1;
          return { token: `t${made}`, expiresAt: clock.now + 900_000 };
        },
        { now: () => clock.now },
      );
      await source();
      clock.now += 870_000; // in the refresh window, 30 s left
      fail = true;
      expect((await source()).token).to.equal('t1');
      clock.now += 31_000; // expired: nothing left to serve
      const error = await source().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.equal('STS is unreachable');
      fail = false;
      expect((await source()).token).to.equal('t2');
    });

    it('refuses a token that has expired already', async () => {
      const source = cachedTokenSource(async () => ({ token: 'old', expiresAt: 999 }), { now: () => 1_000 });
      const error = await source().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.equal('the token source returned an empty or expired token');
    });
  });

  describe('docs/msk-iam.md', () => {
    interface Statement {
      Sid: string;
      Action: string[];
      Resource: string | string[];
    }
    const doc = fs.readFileSync(new URL('../../docs/msk-iam.md', import.meta.url), 'utf8');
    const policyOf = (service: string): Statement[] => {
      const json = new RegExp(`### ${service}\\n\\n\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];
      if (!json) throw new Error(`no policy for ${service} in docs/msk-iam.md`);
      const policy: { Statement: Statement[] } = JSON.parse(json);
      return policy.Statement;
    };
    const names = (statements: Statement[], sid: string) =>
      [statements.find((st) => st.Sid === sid)?.Resource ?? []]
        .flat()
        .map((arn) => arn.split('/').slice(3).join('/'))
        .sort();

    // The policies stay what topology/access.yaml grants as ACLs: its topics, their dead letters, the service's groups and transactional ids.
    for (const [service, { reads, writes }] of Object.entries(readAccessFile().services)) {
      it(`grants ${service} what topology/access.yaml grants it`, () => {
        const topics = readTopologyFile().topics;
        const deadLetters = reads.filter((t) => topics[t]?.deadLetters).map((t) => `${t}.dlq`);
        const statements = policyOf(service);
        expect(names(statements, 'Reads')).to.deep.equal([...reads].sort());
        expect(names(statements, 'Writes')).to.deep.equal([...new Set([...writes, ...deadLetters])].sort());
        expect(names(statements, 'Groups')).to.deep.equal([`${service}-*`]);
        expect(names(statements, 'TransactionalIds')).to.deep.equal([`${service}-*`]);
      });
    }
  });
});
