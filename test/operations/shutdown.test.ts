/**
 * Shutdown (docs/operations.md), against a real server process: on SIGTERM
 * the requests already admitted finish, new ones get a 503 in their
 * product's envelope with Retry-After, `/readyz` answers 503, and the
 * process exits 0; past --shutdown-timeout it exits anyway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { closeOnSignals, type RunningServer } from '../../src/server.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { type Banner, parseBanner } from '../helpers/process.ts';
import { openSocket, serveProcess, within } from '../helpers/serve.ts';

const REQUEST_TIMEOUT_MS = 5_000;
const PHASE_TIMEOUT_MS = 30_000;

async function until(what: string, condition: () => boolean, timeoutMs = PHASE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A property create whose body is held back: its headers ask for
 * `100 Continue`, which the server sends as it admits the request, so once
 * it arrives the request is in flight. `finish()` sends the body and
 * answers everything the server wrote.
 */
async function heldCreate(url: string, admin: Banner, key: string, value: unknown) {
  const socket = await openSocket(url);
  const body = JSON.stringify({ value });
  socket.write(
    [
      `POST /wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property/${key} HTTP/1.1`,
      'Host: 127.0.0.1',
      `Authorization: ${basicAuth(admin.email, admin.apiToken).authorization}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Expect: 100-continue',
      'Connection: close',
      '',
      '',
    ].join('\r\n'),
  );
  await until('100 Continue', () => socket.received.includes('100 Continue'), REQUEST_TIMEOUT_MS);
  return {
    socket,
    async finish(): Promise<string> {
      socket.write(body);
      assert.notEqual(await within(socket.gone, PHASE_TIMEOUT_MS), 'timeout', 'the answer is complete');
      return socket.received;
    },
  };
}

describe('shutdown of a real server', () => {
  test('SIGTERM under load: admitted requests finish, new ones get the envelope 503, the process exits 0', async () => {
    const database = `sqlite:${join(mkdtempSync(join(tmpdir(), 'userplane-shutdown-')), 'userplane.db')}`;
    const { child, url } = await serveProcess(['--database', database, '--shutdown-timeout', '60']);
    try {
      const admin = parseBanner(child.stdout)!;
      const auth = basicAuth(admin.email, admin.apiToken);
      const held = await heldCreate(url, admin, 'held', { held: true });

      interface Outcome {
        status: number | 'error';
        detail?: string;
        /** Whether the answer came after SIGTERM was sent: one sent before may be drained too. */
        afterSignal: boolean;
      }
      const outcomes: Outcome[] = [];
      let signalled = false;
      let stop = false;
      const targets = [
        { path: '/wiki/rest/api/user/current', envelope: 'confluence' },
        { path: `/rest/api/3/user/properties?accountId=${encodeURIComponent(admin.accountId)}`, envelope: 'jira' },
        { path: '/readyz', envelope: 'confluence' },
      ] as const;
      const worker = async (w: number) => {
        for (let i = 0; !stop && i < 20_000; i++) {
          const target = targets[(w + i) % targets.length]!;
          try {
            const response = await fetch(`${url}${target.path}`, {
              headers: auth,
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            const text = await response.text();
            if (response.status === 503) {
              const body = JSON.parse(text) as Record<string, unknown>;
              const enveloped =
                target.envelope === 'jira'
                  ? Array.isArray(body.errorMessages)
                  : body.statusCode === 503 && typeof body.message === 'string';
              const ok = enveloped && response.headers.get('retry-after') === '1';
              outcomes.push({ status: ok ? 503 : 'error', detail: `${target.path}: ${text}`, afterSignal: signalled });
            } else
              outcomes.push({ status: response.status, detail: `${target.path}: ${text}`, afterSignal: signalled });
          } catch (error) {
            outcomes.push({ status: 'error', detail: `${target.path}: ${String(error)}`, afterSignal: signalled });
          }
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(worker));
      let stopping: ReturnType<typeof child.stop> | undefined;
      try {
        await until('requests to succeed', () => outcomes.filter((o) => o.status === 200).length >= 20);
        signalled = true;
        stopping = child.stop('SIGTERM', 60_000);
        await until(
          '503s while draining',
          () => outcomes.filter((o) => o.afterSignal && o.status === 503).length >= 20,
        );
      } finally {
        stop = true;
        await load;
      }

      const wrong = outcomes.filter((o) => (o.afterSignal ? o.status !== 503 && o.status !== 200 : o.status !== 200));
      assert.deepEqual(
        wrong.slice(0, 5),
        [],
        `${wrong.length} answers were not 200 before the signal, 200 or 503 after`,
      );

      // The request admitted before the signal is answered in full, and the process then exits 0.
      assert.ok(child.running, 'the process waits for the admitted request');
      const answer = await held.finish();
      assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
      assert.match(answer, /"held":true/);
      const exited = await stopping;
      assert.equal(exited.code, 0, exited.stderr);

      // What it acknowledged is there after a restart.
      const again = await serveProcess(['--database', database]);
      try {
        const read = await fetch(
          `${again.url}/wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property/held`,
          { headers: auth },
        );
        assert.deepEqual(((await read.json()) as { value: unknown }).value, { held: true });
      } finally {
        await again.child.stop('SIGKILL');
      }
    } finally {
      await child.stop('SIGKILL');
    }
  });

  test('past --shutdown-timeout the process exits anyway, with 1', async () => {
    const { child, url } = await serveProcess(['--database', 'sqlite::memory:', '--shutdown-timeout', '1']);
    try {
      const held = await heldCreate(url, parseBanner(child.stdout)!, 'never-finished', 1);
      const exited = await child.stop('SIGTERM', PHASE_TIMEOUT_MS);
      assert.equal(exited.code, 1, exited.stderr);
      assert.match(exited.stderr, /shutdown did not finish within 1 s \(--shutdown-timeout\): exiting anyway/);
      held.socket.destroy();
    } finally {
      await child.stop('SIGKILL');
    }
  });

  test('a close that fails exits 1 with a message, not an unhandled rejection', async () => {
    const exits: number[] = [];
    let written = '';
    const server = {
      shutdownTimeout: 5,
      close: () => Promise.reject(new Error('the store would not close')),
    } as unknown as RunningServer;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const stopListening = closeOnSignals(server, {
      stderr: { write: (text: string) => (written += text) },
      exit: (code) => exits.push(code),
    });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await until('the exit', () => exits.length > 0, REQUEST_TIMEOUT_MS);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(exits, [1]);
      assert.match(written, /shutdown failed: the store would not close/);
      assert.deepEqual(unhandled, []);
    } finally {
      stopListening();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
