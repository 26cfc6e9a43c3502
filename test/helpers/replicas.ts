// What the tests of several replicas on one Redis share (redis-replicas, redis-http-add): a small
// message, polling until replicas agree, JSON over HTTP, the ids a replica lists, and an
// event-stream client that keeps every frame.
import { WebSocket } from 'ws';
import type { ChangeEvent, MailpenEvent } from '../../server/events/vocabulary.js';

export function message(n: number | string, subject = `replica test ${n}`): Buffer {
  return Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${n}@example.test>\r\n\r\nbody ${n}\r\n`);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Every id the replica lists, in its order (newest first), paged through. */
export async function listedIds(server: { httpUrl: string }): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const { body } = await json(`${server.httpUrl}/api/messages?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    for (const m of body.messages as Array<{ id: string }>) out.push(m.id);
    cursor = body.next;
  } while (cursor !== null);
  return out;
}

/** Every id the replica lists, sorted. */
export async function ids(server: { httpUrl: string }): Promise<string[]> {
  return (await listedIds(server)).sort();
}

/** An event-stream client that keeps every frame. */
export class Frames {
  readonly frames: MailpenEvent[] = [];
  readonly ws: WebSocket;
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as MailpenEvent));
  }
  static async open(server: { http: { port: number } }, query = ''): Promise<Frames> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.http.port}/api/events${query}`);
    const client = new Frames(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }
  /** The changes to the store (counts and rule firings are each replica's own). */
  get changes(): ChangeEvent[] {
    return this.frames.filter((f): f is ChangeEvent => f.type !== 'hello' && f.type !== 'resync' && f.type !== 'counts' && f.type !== 'rule-fired');
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise((resolve) => {
      this.ws.once('close', resolve);
      this.ws.close();
    });
  }
}
