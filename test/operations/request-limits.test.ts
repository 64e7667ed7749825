/**
 * Abuse a real server process must withstand (docs/operations.md): a form
 * body built to make parsing slow, too many form fields, and clients that
 * send a request slowly (slowloris) or not at all. The server runs in a
 * child process, so a blocked event loop there shows here as a wait that
 * runs out, not as a hung test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_FORM_FIELDS } from '../../src/http/oauth.ts';
import { openSocket, type ServedProcess, serveProcess, within } from '../helpers/serve.ts';

/** Generous bounds on waits, for a loaded CI machine; the limits under test are far shorter. */
const PROMPT_MS = 10_000;
const CUT_OFF_MS = 15_000;

describe('a real server under abusive requests', () => {
  let served: ServedProcess;
  before(async () => {
    served = await serveProcess(['--database', 'sqlite::memory:', '--request-timeout', '1']);
  });
  after(() => served.child.stop('SIGKILL'));

  const token = (body: string) =>
    fetch(`${served.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(PROMPT_MS),
    });

  test('a 1 MiB form repeating one field is answered at once with a 400 naming the limit', async () => {
    const body = 'a=1&'.repeat(262_000);
    const response = await token(body);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid_request',
      error_description: `The request body has more than ${MAX_FORM_FIELDS} parameters`,
    });
    const health = await fetch(`${served.url}/healthz`, { signal: AbortSignal.timeout(PROMPT_MS) });
    assert.equal(health.status, 200);
  });

  test('the field cap: one over is refused, the cap itself is parsed as usual', async () => {
    const fields = (n: number) => [
      'grant_type=client_credentials',
      ...Array.from({ length: n - 1 }, (_, i) => `x${i}=1`),
    ];
    const over = await token(fields(MAX_FORM_FIELDS + 1).join('&'));
    assert.equal(over.status, 400);
    assert.match(((await over.json()) as { error_description: string }).error_description, /more than 64 parameters/);

    const at = await token(fields(MAX_FORM_FIELDS).join('&'));
    assert.equal(at.status, 400);
    assert.doesNotMatch(
      ((await at.json()) as { error_description: string }).error_description,
      /more than/,
      'parsed, and refused for what it lacks',
    );

    const repeated = await token(`grant_type=client_credentials&${'client_id=a&'.repeat(40)}client_id=b`);
    assert.equal(repeated.status, 400);
    assert.match(((await repeated.json()) as { error_description: string }).error_description, /client_id is repeated/);
  });

  /** Sends `text` a byte at a time every `everyMs` until the server closes the socket or the bound runs out. */
  async function dribble(text: string, everyMs: number) {
    const socket = await openSocket(served.url);
    let at = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(text[at++ % text.length]!);
    }, everyMs);
    try {
      return { outcome: await within(socket.gone, CUT_OFF_MS), received: socket.received };
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  }

  test('headers sent a byte at a time are cut off after --request-timeout', async () => {
    const { outcome, received } = await dribble(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}`, 100);
    assert.notEqual(outcome, 'timeout', 'the server closed the connection');
    assert.match(received, /^HTTP\/1\.1 408 /);
  });

  test('a body sent a byte at a time is cut off after --request-timeout', async () => {
    const { outcome } = await dribble(
      'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ngrant_type=client_credentials&',
      20,
    );
    assert.notEqual(outcome, 'timeout', 'the server closed the connection');
  });

  test('a connection that sends nothing is closed after --request-timeout', async () => {
    const socket = await openSocket(served.url);
    try {
      assert.notEqual(await within(socket.gone, CUT_OFF_MS), 'timeout', 'the server closed the connection');
    } finally {
      socket.destroy();
    }
  });

  test('a request that arrives in time is served as usual', async () => {
    const response = await fetch(`${served.url}/healthz`, { signal: AbortSignal.timeout(PROMPT_MS) });
    assert.equal(response.status, 200);
  });
});
