/**
 * Which client method made a request, for the generated table in
 * docs/compatibility.md. The compat tests wrap their real clients with
 * `traced(client, 'confluence.js')`; each method call then runs with its
 * name (`confluence.js users.getUser`) in an AsyncLocalStorage. When the
 * client's HTTP request starts, its socket's ports are noted with that
 * name; the live server, in the same process, looks the name up by the
 * ports of the connection a request arrived on (test/helpers/response-check.ts).
 *
 * Two HTTP clients are seen: Node's http client, which axios (confluence.js,
 * jira.js) and request (atlassian-oauth2) use, through its
 * 'http.client.request.start' channel; and Node's global fetch (undici),
 * which the Forge runtime (src/forge.ts) uses, through undici's own
 * channels: 'undici:request:create' is published synchronously inside the
 * caller's fetch, so the method's name is taken there, and
 * 'undici:client:sendHeaders' names the socket the request goes out on
 * (a request queued for a kept-alive connection is sent later, outside the
 * caller's context). A header cannot be added instead: Node publishes the
 * request after its headers are written. `forgeTraced` names `@forge/api`'s
 * calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

interface ClientMethodState {
  current: AsyncLocalStorage<string>;
  /** `clientPort>serverPort` → the method whose request the connection carries now. */
  byConnection: Map<string, string>;
  /** undici's request → the method that created it. */
  byUndiciRequest: WeakMap<object, string>;
}

// One per process, whichever URL this module was loaded under (the runner's --import and a test's import).
const STATE_KEY = Symbol.for('userplane.test.client-methods');
const state: ClientMethodState =
  ((globalThis as Record<symbol, unknown>)[STATE_KEY] as ClientMethodState | undefined) ?? install();

function install(): ClientMethodState {
  const created: ClientMethodState = {
    current: new AsyncLocalStorage(),
    byConnection: new Map(),
    byUndiciRequest: new WeakMap(),
  };
  (globalThis as Record<symbol, unknown>)[STATE_KEY] = created;
  // A kept-alive connection carries one request at a time: the latest start names it.
  const note = (socket: Socket, method: string | undefined) => {
    const set = () => {
      const key = `${socket.localPort}>${socket.remotePort}`;
      if (method) created.byConnection.set(key, method);
      else created.byConnection.delete(key);
    };
    if (socket.localPort !== undefined && socket.remotePort !== undefined) set();
    else socket.once('connect', set);
  };
  diagnostics.subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    if (request.socket) note(request.socket, created.current.getStore());
  });
  diagnostics.subscribe('undici:request:create', (message) => {
    const { request } = message as { request: object };
    const method = created.current.getStore();
    if (method) created.byUndiciRequest.set(request, method);
  });
  diagnostics.subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: object; socket: Socket };
    note(socket, created.byUndiciRequest.get(request));
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

/** `@forge/api`'s default export, as far as `forgeTraced` reads it: functions and what they return. */
type ForgeApiLike = object;

/**
 * `@forge/api`'s `api`, unchanged, except that its product calls are named
 * by how they were made, while they run: `api.asApp().requestConfluence(…)`
 * is `<label> asApp requestConfluence`, `api.asUser(…).requestJira(…)`
 * `<label> asUser requestJira`, the bare `api.requestConfluence(…)`
 * `<label> requestConfluence`. A call's arguments are not in its name (the
 * route is the table's row), so names stay few and stable. What a call
 * returns that is not a promise (the requesters of asApp(), asUser(),
 * withContext()) is wrapped the same way, its calls named after it.
 */
export function forgeTraced<T extends ForgeApiLike>(api: T, label: string): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(api, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof property !== 'string' || typeof value !== 'function' || property === 'constructor') return value;
      if (cache.has(property)) return cache.get(property);
      const fn = value as (...args: unknown[]) => unknown;
      const name = `${label} ${property}`;
      const wrapped = (...args: unknown[]) => {
        const result = state.current.run(name, () => fn.apply(object, args));
        const thenable = typeof (result as { then?: unknown } | null)?.then === 'function';
        return result !== null && typeof result === 'object' && !thenable ? forgeTraced(result, name) : result;
      };
      cache.set(property, wrapped);
      return wrapped;
    },
  });
}
