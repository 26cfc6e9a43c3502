// Reading back what a provider SDK sent, through Mailpen's own API, for test/providers-*.test.ts.
import assert from 'node:assert/strict';
import type { TestServer } from './server.js';

export interface StoredPart {
  partId: string;
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  disposition: 'inline' | 'attachment';
}

export interface StoredMessage {
  id: string;
  inbox: string;
  subject: string;
  from: { name: string; address: string } | null;
  to: Array<{ name: string; address: string }>;
  cc: Array<{ name: string; address: string }>;
  replyTo: Array<{ name: string; address: string }>;
  envelope: { from: string; to: string[]; helo: string; remoteAddress: string; authUser: string | null; tls: boolean; via?: string };
  headers: Array<{ name: string; value: string }>;
  text: string | null;
  html: string | null;
  parts: StoredPart[];
  problems: string[];
}

export async function readMessage(server: TestServer, id: string): Promise<StoredMessage> {
  const res = await fetch(`${server.httpUrl}/api/messages/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200, `GET /api/messages/${id}: ${res.status}`);
  return (await res.json()) as StoredMessage;
}

export async function readRaw(server: TestServer, id: string): Promise<Buffer> {
  const res = await fetch(`${server.httpUrl}/api/messages/${encodeURIComponent(id)}/raw`);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

export async function readPart(server: TestServer, id: string, partId: string): Promise<Buffer> {
  const res = await fetch(`${server.httpUrl}/api/messages/${encodeURIComponent(id)}/parts/${encodeURIComponent(partId)}`);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

/** Ids in an inbox, newest first. */
export async function inboxIds(server: TestServer, inbox: string, q?: string): Promise<string[]> {
  const params = new URLSearchParams({ inbox, ...(q === undefined ? {} : { q }) });
  const res = await fetch(`${server.httpUrl}/api/messages?${params}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { messages: Array<{ id: string }> }).messages.map((m) => m.id);
}

/** Every value of a header, in order. */
export function headerValues(message: StoredMessage, name: string): string[] {
  return message.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value);
}

export function part(message: StoredMessage, filename: string): StoredPart {
  const found = message.parts.find((p) => p.filename === filename);
  assert.ok(found, `no part named ${filename}: ${JSON.stringify(message.parts)}`);
  return found;
}

/** A 1x1 PNG, for inline images. */
export const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** A message id for a provider API test: unique per run so parallel files never mix. */
export function uniqueKey(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
