/**
 * `npm run bench -- --store postgres --instances N`: N userplane processes
 * on one PostgreSQL (docs/operations.md, "Several instances"), driven by one
 * autocannon whose connections alternate between them (autocannon hands its
 * connections to the URLs in turn). Property GET and PUT run first against
 * one instance, then against all N, in the same run, so the ratio says
 * what the second instance bought on this machine. While each runs, the
 * CPU of every instance, of PostgreSQL (its postmaster and every backend,
 * read from /proc) and of the load generator is measured: per request it is
 * the cost model of docs/operations.md, and in all it shows which one ran
 * out first. A report only, like the rest of the bench.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';

const WARM_UP_SECONDS = 1;
/** Clock ticks per second of /proc's CPU times: 100 on Linux everywhere. */
const CLOCK_TICKS = 100;

export interface Instance {
  url: string;
  pid: number;
}

export interface InstancesOptions {
  instances: Instance[];
  databaseUrl: string;
  /** The path of the property the scenarios read and write, after each instance's URL. */
  propertyPath: string;
  auth: Record<string, string>;
  putBody: string;
  connections: number;
  duration: number;
}

interface Measured {
  name: string;
  result: autocannon.Result;
  /** CPU seconds over the run: each instance, PostgreSQL, the load generator. */
  cpu: { instances: number[]; postgres: number | undefined; loadGenerator: number; machine: number };
  seconds: number;
}

export async function severalInstances(options: InstancesOptions): Promise<string[]> {
  const { instances, auth, putBody, propertyPath } = options;
  const postmaster = await postmasterPid(options.databaseUrl);
  const json = { ...auth, 'content-type': 'application/json' };
  const scenarios = [
    { route: 'property GET', request: { method: 'GET' as const, headers: auth } },
    { route: 'property PUT', request: { method: 'PUT' as const, headers: json, body: putBody } },
  ];
  const runs: Measured[] = [];
  for (const { route, request } of scenarios) {
    for (const group of [instances.slice(0, 1), instances]) {
      const name = `${route}, ${group.length === 1 ? '1 instance' : `${group.length} instances`}`;
      process.stderr.write(`bench: instances: ${name}…\n`);
      const load = {
        // One URL per instance: autocannon gives its connections to them in turn.
        url: group.map((instance) => `${instance.url}${propertyPath}`),
        ...request,
        connections: options.connections,
      } as unknown as autocannon.Options;
      await autocannon({ ...load, duration: WARM_UP_SECONDS });
      const before = cpuNow(instances, postmaster);
      const started = performance.now();
      const result = await autocannon({ ...load, duration: options.duration });
      const seconds = (performance.now() - started) / 1000;
      const after = cpuNow(instances, postmaster);
      runs.push({
        name,
        result,
        seconds,
        cpu: {
          instances: after.instances.map((value, i) => value - before.instances[i]!),
          postgres:
            after.postgres === undefined || before.postgres === undefined
              ? undefined
              : after.postgres - before.postgres,
          loadGenerator: after.loadGenerator - before.loadGenerator,
          machine: after.machine - before.machine,
        },
      });
    }
  }
  return report(runs, instances.length, options.connections);
}

function report(runs: Measured[], count: number, connections: number): string[] {
  const share = (seconds: number, run: Measured) => `${((100 * seconds) / run.seconds).toFixed(0)}%`;
  const perRequest = (seconds: number, run: Measured) =>
    `${((1e6 * seconds) / Math.max(1, run.result.requests.total)).toFixed(0)} µs`;
  const rows = [
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors/non-2xx',
      'CPU: instances',
      'PostgreSQL',
      'load generator',
      'machine, all processes',
    ],
    ...runs.map((run) => {
      const { result, cpu } = run;
      return [
        run.name,
        result.requests.average.toFixed(0),
        String(result.latency.p50),
        String(result.latency.p99),
        `${result.errors}/${result.non2xx}`,
        cpu.instances.map((seconds) => share(seconds, run)).join(' + '),
        cpu.postgres === undefined ? 'n/a' : share(cpu.postgres, run),
        share(cpu.loadGenerator, run),
        `${share(cpu.machine, run)} of ${cpus().length * 100}%`,
      ];
    }),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  const costs = runs.map((run) => {
    const instanceSeconds = run.cpu.instances.reduce((sum, seconds) => sum + seconds, 0);
    return (
      `  ${run.name}: per request, instances ${perRequest(instanceSeconds, run)}, ` +
      `PostgreSQL ${run.cpu.postgres === undefined ? 'n/a' : perRequest(run.cpu.postgres, run)}, ` +
      `load generator ${perRequest(run.cpu.loadGenerator, run)}`
    );
  });
  const scaling = ['property GET', 'property PUT'].map((route) => {
    const [one, all] = runs.filter((run) => run.name.startsWith(route));
    return `  ${route}: ${count} instances ${(all!.result.requests.average / one!.result.requests.average).toFixed(2)}× one instance`;
  });
  return [
    '',
    `instances: ${count} userplane processes on one PostgreSQL; machine ${cpus().length} cores (${cpus().length * 100}% CPU in all); ` +
      `${connections} connections alternating between the instances; CPU as a share of one core over the run ` +
      "(what the machine's other work took is the rest of its busy time)",
    '',
    ...rows.map(line),
    '',
    'CPU per request (the cost model, docs/operations.md "Several instances"):',
    ...costs,
    'throughput:',
    ...scaling,
    '',
  ];
}

/** CPU seconds used so far: each instance, PostgreSQL (undefined when it is not on this machine), and this process. */
function cpuNow(
  instances: Instance[],
  postmaster: number | undefined,
): { instances: number[]; postgres: number | undefined; loadGenerator: number; machine: number } {
  const usage = process.cpuUsage();
  return {
    instances: instances.map((instance) => processCpu(instance.pid)?.own ?? 0),
    postgres: postmaster === undefined ? undefined : postgresCpu(postmaster),
    loadGenerator: (usage.user + usage.system) / 1e6,
    machine: machineBusy(),
  };
}

/** CPU seconds every core spent on anything but idling and waiting for I/O since boot (/proc/stat). */
function machineBusy(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal …: all but idle (3) and iowait (4).
  const busy = ticks.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + Number(value)), 0);
  return busy / CLOCK_TICKS;
}

/**
 * PostgreSQL's CPU: the postmaster's own, that of its children that have
 * ended (its cutime and cstime), and that of those alive: every backend, the
 * pools' included, and the background processes.
 */
function postgresCpu(postmaster: number): number | undefined {
  const main = processCpu(postmaster);
  if (main === undefined) return undefined;
  let total = main.own + main.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = processCpu(Number(entry));
    if (child?.parent === postmaster) total += child.own;
  }
  return total;
}

/** From /proc/PID/stat, in seconds; undefined when the process is gone or not readable. */
function processCpu(pid: number): { own: number; children: number; parent: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command's closing parenthesis: state is 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field: number) => Number(fields[field - 3]);
  return { own: (at(14) + at(15)) / CLOCK_TICKS, children: (at(16) + at(17)) / CLOCK_TICKS, parent: at(4) };
}

/** The postmaster of the PostgreSQL behind `databaseUrl`, when it runs on this machine: a backend's parent. */
async function postmasterPid(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'userplane-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const backend = processCpu(rows[0]!.pid);
    return backend === undefined ? undefined : backend.parent;
  } finally {
    await client.end();
  }
}
