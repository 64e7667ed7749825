/**
 * The yardstick for `npm run bench`: bare Fastify, no logger, one fixed JSON
 * route. userplane's figures are read as a fraction of this one, measured on
 * the same machine in the same run, so they compare across machines.
 *
 *   node --import tsx bench/yardstick.ts PORT
 */
import Fastify from 'fastify';

const app = Fastify();
app.get('/fixed', async () => ({ key: 'theme', value: { dark: true } }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
