// Preloaded (--import) into a Mailpen process by tests: reports on stderr every connection and
// DNS lookup the process or one of its worker threads starts, one line each:
//   OUTBOUND thread <n>: tcp <host>:<port> | ipc <path> | dns.<fn> <name>
// Mailpen opens none; tsx, when it runs the TypeScript source, tries its own IPC pipe (ipc
// .../tsx-<uid>/<pid>.pipe), which is the loader's and not the server's.
import net from 'node:net';
import dns from 'node:dns';
import { threadId } from 'node:worker_threads';

const report = (what) => process.stderr.write(`OUTBOUND thread ${threadId}: ${String(what).slice(0, 200)}\n`);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect(port, host) arrives here as [options, callback].
  const target = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (target && typeof target === 'object' && target.path) report(`ipc ${target.path}`);
  else if (target && typeof target === 'object') report(`tcp ${target.host ?? 'localhost'}:${target.port}`);
  else report(`tcp ${String(target)}`);
  return connect.apply(this, args);
};
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']) {
  const original = dns[name];
  dns[name] = function (...args) {
    // listen(port, '127.0.0.1') looks its address up too; an IP literal involves no resolver.
    if (net.isIP(String(args[0])) === 0) report(`dns.${name} ${args[0]}`);
    return original.apply(this, args);
  };
}
