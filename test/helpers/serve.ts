/**
 * `userplane serve` as a child process on a free loopback port, and raw
 * sockets to talk to it the way a misbehaving client does. Every wait is
 * bounded; the caller stops the child (`child.stop()` in an `after` hook).
 */
import { connect, type Socket } from 'node:net';
import { type CliProcess, cleanEnv, startCli } from './process.ts';

export const LISTENING = /userplane listening on (http:\/\/[^"\s]+)/;

export interface ServedProcess {
  child: CliProcess;
  url: string;
}

export async function serveProcess(args: string[], env: Record<string, string> = {}): Promise<ServedProcess> {
  const child = startCli(['serve', '--port', '0', '--host', '127.0.0.1', ...args], cleanEnv(env));
  try {
    const url = (await child.waitForStdout(LISTENING))[1]!;
    return { child, url };
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

/** A socket to the server, connected; errors are kept rather than thrown. */
export async function openSocket(url: string): Promise<Socket & { received: string; gone: Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname) as Socket & { received: string; gone: Promise<void> };
  socket.received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (socket.received += chunk));
  socket.on('error', () => {});
  socket.gone = new Promise((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves with 'timeout' when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
