// The client's types (client/types.ts, published as .d.ts) are written out so the package stands
// alone; here they are held to the server's schemas and event vocabulary. The compile-time checks
// run in `npm run typecheck` (tsc -p test/tsconfig.json): a field added, removed or retyped on
// either side fails it. The runtime test checks real answers against the schemas the server
// serializes with, through the client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import type * as Client from '../client/types.js';
import {
  CodesResponse,
  InboxesResponse,
  InfoResponse,
  ListResponse,
  MessageSchema,
  MessageSummarySchema,
  PartSchema,
  UploadResponse,
  WaitResponse,
  type CodeWire,
  type MessageSummaryWire,
  type MessageWire,
  type WaitResponseWire,
} from '../server/http/schemas.js';
import type { MailpenEvent as ServerEvent } from '../server/events/vocabulary.js';
import { ErrorBody } from '../server/http/errors.js';
import { RoutingSchema } from '../server/http/routes/routing.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { createClient } from '../client/index.js';

/** True when A and B accept the same values and name the same keys. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
type Check<T extends true> = T;

export type TypeChecks = [
  Check<Same<Client.MessageSummary, MessageSummaryWire>>,
  Check<Same<Client.Message, MessageWire>>,
  Check<Same<Client.MessagePart, Static<typeof PartSchema>>>,
  Check<Same<Client.Code, CodeWire>>,
  Check<Same<Client.WaitResult, WaitResponseWire>>,
  Check<Same<Client.RoutingSettings, Static<typeof RoutingSchema>>>,
  Check<Same<Client.MessageList, Omit<Static<typeof ListResponse>, 'messages'> & { messages: MessageSummaryWire[] }>>,
  Check<Same<Client.InboxCount[], Static<typeof InboxesResponse>['inboxes']>>,
  Check<Same<Client.UploadResult, Static<typeof UploadResponse>>>,
  Check<Same<Client.ErrorBody, Static<typeof ErrorBody>>>,
  Check<Same<Client.MailpenEvent, ServerEvent>>,
  // The server's info may grow fields the client does not name (integrations); the client's must be there.
  Check<Static<typeof InfoResponse> extends Client.ServerInfo ? true : false>,
];

// ListResponse refers to MessageSummary by $ref; checked with the summary schema in place.
const Type_List = Type.Object({ ...ListResponse.properties, messages: Type.Array(MessageSummarySchema) });
// fastify's ajv knows the formats; TypeBox's Value.Check is told what date-time is.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v));

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('client types against the server schemas', () => {
  it('real answers read through the client match the schemas the types are checked against', async () => {
    const client = createClient({ baseUrl: server.httpUrl });
    const mail = 'From: A <a@x.test>\r\nTo: b@x.test\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\nYour code is 482913\r\n';
    const uploaded = await client.upload(mail, { inbox: 'types' });
    assert.ok(Value.Check(UploadResponse, uploaded));
    const id = uploaded.ids[0]!;
    const list = await client.messages({ inbox: 'types' });
    assert.ok(Value.Check(Type_List, list), JSON.stringify([...Value.Errors(Type_List, list)].slice(0, 3)));
    assert.ok(Value.Check(MessageSchema, await client.message(id)));
    assert.ok(Value.Check(CodesResponse, { codes: await client.codes(id) }));
    const found = await client.waitFor({ inbox: 'types', after: 0, include: ['codes', 'links'] });
    assert.ok(Value.Check(WaitResponse, found));
    assert.ok(Value.Check(InboxesResponse, { inboxes: await client.inboxes() }));
    assert.ok(Value.Check(InfoResponse, await client.info()));
  });
});
