// Mailpit's request and answer shapes (its OpenAPI document, v1.33, mirrored by mailpit-api 2.1.0)
// as TypeBox schemas: validated and serialized by fastify, listed under their own tags in
// Mailpen's OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';

export const TAGS = { mailpit: 'mailpit (compatibility)', mailhog: 'mailhog (compatibility)' } as const;

const Address = Type.Object({ Name: Type.String(), Address: Type.String() });
const Addresses = Type.Array(Address);

export const Summary = Type.Object({
  ID: Type.String(),
  MessageID: Type.String(),
  Read: Type.Boolean(),
  From: Type.Union([Address, Type.Null()]),
  To: Addresses,
  Cc: Addresses,
  Bcc: Addresses,
  ReplyTo: Addresses,
  Subject: Type.String(),
  Created: Type.String({ format: 'date-time' }),
  Username: Type.String(),
  Tags: Type.Array(Type.String()),
  Size: Type.Integer(),
  Attachments: Type.Integer(),
  Snippet: Type.String(),
});

export const MessagesSummary = Type.Object({
  total: Type.Integer({ description: 'every message' }),
  unread: Type.Integer({ description: 'every unread message' }),
  count: Type.Integer({ description: 'messages in this answer (deprecated by Mailpit, still sent)' }),
  messages_count: Type.Integer({ description: 'messages that match' }),
  messages_unread: Type.Integer({ description: 'unread messages that match' }),
  start: Type.Integer(),
  tags: Type.Array(Type.String()),
  messages: Type.Array(Summary),
});

const Attachment = Type.Object({
  PartID: Type.String(),
  FileName: Type.String(),
  ContentType: Type.String(),
  ContentID: Type.String(),
  Size: Type.Integer(),
  Checksums: Type.Object({ MD5: Type.String(), SHA1: Type.String(), SHA256: Type.String() }),
});

export const Message = Type.Object({
  ID: Type.String(),
  MessageID: Type.String(),
  From: Type.Union([Address, Type.Null()]),
  To: Addresses,
  Cc: Addresses,
  Bcc: Addresses,
  ReplyTo: Addresses,
  ReturnPath: Type.String(),
  Subject: Type.String(),
  ListUnsubscribe: Type.Object({ Header: Type.String(), Links: Type.Array(Type.String()), Errors: Type.String(), HeaderPost: Type.String() }),
  Date: Type.String({ format: 'date-time' }),
  Tags: Type.Array(Type.String()),
  Username: Type.String(),
  Text: Type.String(),
  HTML: Type.String(),
  Size: Type.Integer(),
  Inline: Type.Array(Attachment),
  Attachments: Type.Array(Attachment),
});

export const Info = Type.Object({
  Version: Type.String(),
  LatestVersion: Type.String(),
  Database: Type.String(),
  DatabaseSize: Type.Integer(),
  Messages: Type.Integer(),
  Unread: Type.Integer(),
  Tags: Type.Record(Type.String(), Type.Integer()),
  RuntimeStats: Type.Object({
    Uptime: Type.Integer(),
    Memory: Type.Integer(),
    MessagesDeleted: Type.Integer(),
    SMTPAccepted: Type.Integer(),
    SMTPAcceptedSize: Type.Integer(),
    SMTPRejected: Type.Integer(),
    SMTPIgnored: Type.Integer(),
  }),
});

export const WebUI = Type.Object({
  Label: Type.String(),
  MessageRelay: Type.Object({
    Enabled: Type.Boolean(),
    SMTPServer: Type.String(),
    ReturnPath: Type.String(),
    AllowedRecipients: Type.String(),
    BlockedRecipients: Type.String(),
    OverrideFrom: Type.String(),
    PreserveMessageIDs: Type.Boolean(),
    RecipientAllowlist: Type.String(),
  }),
  SpamAssassin: Type.Boolean(),
  ChaosEnabled: Type.Boolean(),
  DuplicatesIgnored: Type.Boolean(),
  HideDeleteAllButton: Type.Boolean(),
});

export const Ok = Type.String({ description: 'the plain text "ok"' });
export const PlainError = Type.String({ description: 'what went wrong, as plain text (as Mailpit answers)' });

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a message ID, or latest' }) });
export const PartParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), partID: Type.String({ minLength: 1, maxLength: 64 }) });
export const TagParam = Type.Object({ tag: Type.String({ minLength: 1, maxLength: 200 }) });

/** Mailpit reads start and limit leniently (anything not a number is the default); so does this. */
export const PageQuery = Type.Object({
  start: Type.Optional(Type.String({ maxLength: 20, description: 'skip this many (default 0)' })),
  limit: Type.Optional(Type.String({ maxLength: 20, description: 'at most this many (default 50)' })),
});
export const SearchQuery = Type.Object({
  query: Type.String({ maxLength: 2000, description: "Mailpit's search syntax" }),
  start: Type.Optional(Type.String({ maxLength: 20 })),
  limit: Type.Optional(Type.String({ maxLength: 20 })),
  tz: Type.Optional(Type.String({ maxLength: 64, description: 'time zone of dates in before: and after: (IANA name)' })),
});
export type SearchQuery = Static<typeof SearchQuery>;
export const TzQuery = Type.Object({ tz: Type.Optional(Type.String({ maxLength: 64 })) });

const Ids = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100_000 });
export const ReadBody = Type.Union([
  Type.Object({ IDs: Type.Optional(Type.Union([Ids, Type.Null()])), Read: Type.Optional(Type.Boolean()), Search: Type.Optional(Type.String({ maxLength: 2000 })) }),
  Type.Null(),
]);
export const DeleteBody = Type.Union([Type.Object({ IDs: Type.Optional(Type.Union([Ids, Type.Null()])) }), Type.Null()]);
export const SetTagsBody = Type.Object({ IDs: Ids, Tags: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 }), Type.Null()])) });
export const RenameTagBody = Type.Object({ Name: Type.String({ maxLength: 1000 }) });

const SendAddress = Type.Object({ Email: Type.String({ maxLength: 320 }), Name: Type.Optional(Type.String({ maxLength: 1000 })) });
export const SendBody = Type.Object({
  From: SendAddress,
  To: Type.Optional(Type.Array(SendAddress, { maxItems: 10_000 })),
  Cc: Type.Optional(Type.Array(SendAddress, { maxItems: 10_000 })),
  Bcc: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 10_000 })),
  ReplyTo: Type.Optional(Type.Array(SendAddress, { maxItems: 100 })),
  Subject: Type.Optional(Type.String()),
  Text: Type.Optional(Type.String()),
  HTML: Type.Optional(Type.String()),
  Headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  Tags: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })),
  Attachments: Type.Optional(
    Type.Array(
      Type.Object({ Content: Type.String(), Filename: Type.String(), ContentID: Type.Optional(Type.String()), ContentType: Type.Optional(Type.String()) }),
      { maxItems: 1000 },
    ),
  ),
});
export type SendBody = Static<typeof SendBody>;
export const SendAnswer = Type.Object({ ID: Type.String() });

/** The check answers come from server/checks/mailpit.ts, which owns their shape. */
export const AnyObject = Type.Unsafe<object>({ type: 'object', additionalProperties: true });

const ChaosTrigger = Type.Object({ ErrorCode: Type.Integer({ description: '400 to 599' }), Probability: Type.Integer({ description: '0 to 100, percent' }) });
export const ChaosTriggers = Type.Object({ Sender: ChaosTrigger, Recipient: ChaosTrigger, Authentication: ChaosTrigger });
const PartialTrigger = Type.Object({ ErrorCode: Type.Optional(Type.Integer()), Probability: Type.Optional(Type.Integer()) });
export const ChaosTriggersBody = Type.Object({
  Sender: Type.Optional(PartialTrigger),
  Recipient: Type.Optional(PartialTrigger),
  Authentication: Type.Optional(PartialTrigger),
});
