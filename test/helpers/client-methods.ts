/**
 * Which client method made a request, for the generated table in
 * docs/compatibility.md. The compat tests wrap their real clients with
 * `traced(client, 'confluence.js')`; each method call then runs with its
 * name (`confluence.js users.getUser`) in an AsyncLocalStorage. When the
 * client's HTTP request starts, its socket's ports are noted with that
 * name; the live server, in the same process, looks the name up by the
 * ports of the connection a request arrived on (test/helpers/response-check.ts).
 *
 * Node's http client only: axios (confluence.js, jira.js) and request
 * (atlassian-oauth2) use it. A header cannot be added instead: Node
 * publishes the request after its headers are written.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

interface ClientMethodState {
  current: AsyncLocalStorage<string>;
  /** `clientPort>serverPort` → the method whose request the connection carries now. */
  byConnection: Map<string, string>;
}

// One per process, whichever URL this module was loaded under (the runner's --import and a test's import).
const STATE_KEY = Symbol.for('userplane.test.client-methods');
const state: ClientMethodState =
  ((globalThis as Record<symbol, unknown>)[STATE_KEY] as ClientMethodState | undefined) ?? install();

function install(): ClientMethodState {
  const created: ClientMethodState = { current: new AsyncLocalStorage(), byConnection: new Map() };
  (globalThis as Record<symbol, unknown>)[STATE_KEY] = created;
  diagnostics.subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const method = created.current.getStore();
    const socket = request.socket;
    if (!socket) return;
    // A kept-alive connection carries one request at a time: the latest start names it.
    const note = () => {
      const key = `${socket.localPort}>${socket.remotePort}`;
      if (method) created.byConnection.set(key, method);
      else created.byConnection.delete(key);
    };
    if (socket.localPort !== undefined && socket.remotePort !== undefined) note();
    else socket.once('connect', note);
  });
  return created;
}

/** The client method that sent the request arriving on this server-side socket, if a traced client did. */
export function clientMethodOf(socket: Socket | undefined): string | undefined {
  if (!socket || socket.remotePort === undefined) return undefined;
  return state.byConnection.get(`${socket.remotePort}>${socket.localPort}`);
}

/**
 * The client, unchanged, except that every method call (on the client or on
 * one of its namespaces: `users.getUser`, `userProperties.setUserProperty`)
 * is named `<label> <path>` while it runs.
 */
export function traced<T extends object>(client: T, label: string): T {
  return wrap(client, label, '');
}

function wrap<T extends object>(target: T, label: string, path: string): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof property !== 'string' || property.startsWith('_') || property === 'constructor' || property === 'then')
        return value;
      if (cache.has(property)) return cache.get(property);
      let wrapped: unknown = value;
      const name = path ? `${path}.${property}` : property;
      if (typeof value === 'function') {
        const fn = value as (...args: unknown[]) => unknown;
        wrapped = (...args: unknown[]) => state.current.run(`${label} ${name}`, () => fn.apply(object, args));
      } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) !== Object.prototype) {
        // Namespaces are class instances (`client.users`); plain objects (config) pass through.
        wrapped = wrap(value, label, name);
      }
      cache.set(property, wrapped);
      return wrapped;
    },
  });
}

/** The class, whose instances are `traced(instance, label)`. */
export function tracedClass<C extends new (...args: never[]) => object>(Class: C, label: string): C {
  return new Proxy(Class, {
    construct(target, args, newTarget) {
      return traced(Reflect.construct(target, args, newTarget === Class ? target : newTarget) as object, label);
    },
  });
}
