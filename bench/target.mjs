// @ts-check
// One server under test, alone in its own process so that its RSS is its own and its garbage
// collector does not run on the load generator's garbage. Started by bench/targets.ts with
// `node --expose-gc bench/target.mjs <kind> <options as JSON>`; it reports its ports over IPC
// and answers the parent's requests (memory figures, peak reset, stop). Plain JavaScript
// running the built server (dist/, which `npm run bench` builds first): a TypeScript loader
// in this process would add its own tens of megabytes to the RSS being measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { pathToFileURL } from 'node:url';

/** @type {'mailpen' | 'sink' | 'maildev'} */
const kind = /** @type {any} */ (process.argv[2]);
/** @type {{ maxMessages?: number, maxBytes?: number, maildevDir?: string }} */
const options = JSON.parse(process.argv[3] ?? '{}');

/** VmHWM and VmRSS from /proc: the peak is what a transient copy shows up in. */
function procMemory() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (/** @type {string} */ name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function memory() {
  const m = process.memoryUsage();
  const p = procMemory();
  return { rss: p.rss, peakRss: p.peak, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** @returns {Promise<number>} */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = /** @type {import('node:net').AddressInfo} */ (s.address()).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {object} Running
 * @property {{ smtp: number, http: number | null }} ready
 * @property {() => number} stored
 * @property {() => Promise<number>} settled resolves once background work on stored mail is done
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<Running>} */
async function startSink() {
  // The baseline: smtp-server and nothing else; raw bytes pushed into an array.
  /** @type {Buffer[]} */
  const kept = [];
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    size: 100 * 1024 * 1024,
    onData(stream, _session, callback) {
      /** @type {Buffer[]} */
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        kept.push(Buffer.concat(chunks));
        callback(null, 'kept');
      });
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  return {
    ready: { smtp: /** @type {import('node:net').AddressInfo} */ (server.server.address()).port, http: null },
    stored: () => kept.length,
    settled: async () => 0,
    stop: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/** @returns {Promise<Running>} */
async function startMailpen() {
  const { loadConfig } = await import('../dist/server/config.js');
  const { createLogger } = await import('../dist/server/log.js');
  const { start } = await import('../dist/server/main.js');
  const config = loadConfig([], process.env, {
    smtp: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    maxMessages: options.maxMessages ?? 0,
    maxBytes: options.maxBytes ?? 0,
    maxMessageSize: 64 * 1024 * 1024,
  });
  // Logs go where a user's would (a line per message at the default level), here to /dev/null.
  const mailpen = await start(config, createLogger({ logLevel: config.logLevel, logFormat: 'json' }));
  /** @type {{ settled?: () => Promise<void> }} */
  const store = /** @type {any} */ (mailpen.store);
  return {
    ready: { smtp: mailpen.smtp.port, http: mailpen.http.port },
    stored: () => mailpen.store.counts().messages,
    settled: async () => {
      const t0 = performance.now();
      await store.settled?.();
      return performance.now() - t0;
    },
    stop: () => mailpen.close(),
  };
}

/** @returns {Promise<Running>} */
async function startMailDev() {
  const dir = options.maildevDir;
  if (!dir) throw new Error('maildevDir not set');
  const { MailDev } = await import(pathToFileURL(`${dir}/node_modules/maildev/dist/index.js`).href);
  const smtp = await freePort();
  const web = await freePort();
  const maildev = new MailDev({ smtp, web, ip: '127.0.0.1', webIp: '127.0.0.1', silent: true, maxMessageSize: 64 * 1024 * 1024 });
  await maildev.start();
  return { ready: { smtp, http: web }, stored: () => -1, settled: async () => 0, stop: () => maildev.stop() };
}

const starters = { sink: startSink, mailpen: startMailpen, maildev: startMailDev };

const running = await starters[kind]();
const send = (/** @type {object} */ m) => {
  process.send?.(m);
};
send({ type: 'ready', ...running.ready });

process.on('message', (/** @type {any} */ req) => {
  void (async () => {
    switch (req.cmd) {
      case 'memory':
        if (req.gc) {
          // Two passes: the first frees, the second lets finalizers' garbage go too.
          globalThis.gc?.();
          globalThis.gc?.();
        }
        return send({ id: req.id, memory: memory(), stored: running.stored() });
      case 'reset-peak':
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
        try {
          writeFileSync('/proc/self/clear_refs', '5');
          return send({ id: req.id, ok: true });
        } catch {
          return send({ id: req.id, ok: false });
        }
      case 'settled':
        return send({ id: req.id, ms: await running.settled() });
      case 'cpu': {
        // What the process has spent so far: user and kernel CPU time, and page faults (a first
        // touch of memory the kernel must find and zero is kernel time, not the server's code).
        const u = process.resourceUsage();
        return send({ id: req.id, cpu: { userSeconds: u.userCPUTime / 1e6, systemSeconds: u.systemCPUTime / 1e6, minorFaults: u.minorPageFault } });
      }
      case 'stop':
        await running.stop();
        send({ id: req.id, ok: true });
        process.exit(0);
    }
  })();
});
