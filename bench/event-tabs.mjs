// @ts-check
// Open inbox tabs for the ingest scenario: N event-stream clients, connected as the UI connects
// (?format=mailpen&batch=1&rows=50), counting the events they get. They run in a worker thread, as a
// browser tab runs in a process of its own: the load generator's event loop does not read them.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

/** @type {{ url: string, tabs: number }} */
const { url, tabs } = workerData;
let events = 0;
/** @type {WebSocket[]} */
const sockets = [];
for (let i = 0; i < tabs; i++) {
  const ws = new WebSocket(url);
  ws.on('message', (data) => {
    // Parsed as a tab parses it: what the server sends has to be read.
    const frame = JSON.parse(String(data));
    // An `arrived` event (?rows=N) stands for several arrivals sent without their rows.
    for (const e of Array.isArray(frame) ? frame : [frame]) events += e.type === 'arrived' ? e.data.messages.length : 1;
  });
  await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
  sockets.push(ws);
}
parentPort?.postMessage({ connected: tabs });
parentPort?.on('message', () => {
  for (const ws of sockets) ws.terminate();
  parentPort?.postMessage({ events: events / tabs });
});
