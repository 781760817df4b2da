// The HTTP server's own behaviour, without Kafka: how requests find their
// route, and that every miss or failure is a JSON answer naming the problem.
import { Type } from '@sinclair/typebox';
import { expect } from 'chai';
import { notFound } from '../../services/platform/http/errors.ts';
import { route } from '../../services/platform/http/route.ts';
import type { HttpServer } from '../../services/platform/http/server.ts';
import { unitServer } from '../support/unit-server.ts';

const Id = Type.String({ pattern: '^[a-z0-9-]{1,20}$' });

describe('HTTP server', () => {
  let server: HttpServer;
  let base: string;

  before(async () => {
    server = unitServer({
      routes: [
        route({
          method: 'get',
          path: '/api/v1/things/:id',
          scope: 'inventory:read',
          summary: 'a thing',
          params: Type.Object({ id: Id }),
          responses: { 200: 'the thing' },
          handle: ({ params }) => ({ status: 200, body: { by: 'id', id: params.id } }),
        }),
        route({
          method: 'get',
          path: '/api/v1/things/special',
          scope: 'inventory:read',
          summary: 'the special thing',
          responses: { 200: 'it' },
          handle: () => ({ status: 200, body: { by: 'name' } }),
        }),
        route({
          method: 'get',
          path: '/api/v1/things/:id/parts/:part',
          scope: 'inventory:read',
          summary: 'a part',
          params: Type.Object({ id: Id, part: Id }),
          responses: { 200: 'the part' },
          handle: ({ params }) => ({ status: 200, body: params }),
        }),
        route({
          method: 'post',
          path: '/api/v1/things',
          scope: 'inventory:admin',
          summary: 'make a thing',
          body: Type.Object({ name: Type.String() }),
          responses: { 201: 'made' },
          handle: async ({ body }) => ({ status: 201, body: { name: body.name }, headers: { location: '/api/v1/things/x' } }),
        }),
        route({
          method: 'get',
          path: '/api/v1/missing/:id',
          scope: 'inventory:read',
          summary: 'never there',
          params: Type.Object({ id: Id }),
          responses: { 404: 'no' },
          handle: async ({ params }) => {
            throw notFound(`thing ${params.id}`);
          },
        }),
        route({
          method: 'get',
          path: '/api/v1/broken',
          scope: 'inventory:read',
          summary: 'fails',
          responses: { 500: 'always' },
          handle: () => {
            throw new Error('boom');
          },
        }),
      ],
    });
    await server.start();
    base = `http://127.0.0.1:${server.port()}`;
  });
  after(() => server.stop());

  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  it('prefers a fixed path segment over a parameter, and decodes parameters', async () => {
    expect((await get('/api/v1/things/special')).body).to.deep.equal({ by: 'name' });
    expect((await get('/api/v1/things/abc')).body).to.deep.equal({ by: 'id', id: 'abc' });
    expect((await get('/api/v1/things/a%2Db/parts/p-1')).body).to.deep.equal({ id: 'a-b', part: 'p-1' });
  });

  it('matches with a trailing slash, and answers HEAD as GET without a body', async () => {
    expect((await get('/api/v1/things/abc/')).body).to.deep.equal({ by: 'id', id: 'abc' });
    const head = await get('/api/v1/things/abc', { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-type')).to.match(/^application\/json/);
    expect(head.body).to.equal(undefined);
  });

  it('answers JSON with its length and a correlation id', async () => {
    const res = await fetch(`${base}/api/v1/things/abc`, { headers: { 'x-correlation-id': 'given-1' } });
    const text = await res.text();
    expect(res.headers.get('content-length')).to.equal(String(Buffer.byteLength(text)));
    expect(res.headers.get('x-correlation-id')).to.equal('given-1');
  });

  it('parses bodies of writes and sets the headers a route gives', async () => {
    const res = await get('/api/v1/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'n' }) });
    expect(res.status).to.equal(201);
    expect(res.body).to.deep.equal({ name: 'n' });
    expect(res.headers.get('location')).to.equal('/api/v1/things/x');
    const malformed = await get('/api/v1/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed).to.deep.include({ status: 400, body: { error: 'MALFORMED_JSON', message: 'the request body is not valid JSON' } });
  });

  it('names what is wrong: invalid parameter 400, unknown path 404, wrong method 405, failure 500', async () => {
    const invalid = await get('/api/v1/things/NOT_OK');
    expect(invalid.status).to.equal(400);
    expect(invalid.body.error).to.equal('VALIDATION_FAILED');
    expect(invalid.body.message).to.contain('path.id');
    expect(await get('/api/v1/nowhere')).to.deep.include({ status: 404, body: { error: 'NOT_FOUND', message: 'no route for GET /api/v1/nowhere' } });
    expect((await get('/api/v1/missing/x')).body).to.deep.equal({ error: 'NOT_FOUND', message: 'thing x was not found' });
    const wrongMethod = await get('/api/v1/things/abc', { method: 'DELETE' });
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.headers.get('allow')).to.equal('GET');
    const broken = await get('/api/v1/broken');
    expect(broken.status).to.equal(500);
    expect(broken.body).to.include({ error: 'INTERNAL', message: 'internal error' });
    expect(broken.body.correlationId).to.be.a('string');
  });
});
