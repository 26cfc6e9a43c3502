// The wire shapes of GET /api/messages/:id/checks, as TypeBox schemas: the route validates and
// serializes with them, the OpenAPI document shows them, and the UI imports their types (this
// file imports nothing but TypeBox, so the UI's typecheck can follow it).
import { Type, type Static } from '@sinclair/typebox';

const Score = Type.Object({
  supported: Type.Number({ description: 'percent of clients' }),
  partial: Type.Number(),
  unsupported: Type.Number(),
});

const ClientSupport = Type.Object({
  client: Type.String({ description: 'family.platform, as caniemail names them: outlook.windows' }),
  name: Type.String({ description: 'Outlook Windows' }),
  version: Type.String({ description: 'the latest version caniemail tested' }),
  support: Type.Union([Type.Literal('yes'), Type.Literal('partial'), Type.Literal('no')]),
  notes: Type.Array(Type.String()),
});

const FeatureUse = Type.Object({
  slug: Type.String(),
  title: Type.String(),
  category: Type.String(),
  description: Type.String(),
  url: Type.String({ description: "caniemail.com's page on the feature" }),
  count: Type.Integer({ description: 'uses in the HTML' }),
  locations: Type.Array(Type.Object({ line: Type.Integer(), column: Type.Integer(), snippet: Type.String() }), { description: 'the first few, in the HTML body' }),
  score: Score,
  support: Type.Array(ClientSupport),
});

const GaveUpPart = Type.Object({ status: Type.Literal('gave-up'), reason: Type.String() });

const HtmlPart = Type.Union([
  Type.Object({
    status: Type.Literal('checked'),
    nodes: Type.Integer({ description: 'elements, as Mailpit counts them' }),
    score: Score,
    features: Type.Array(FeatureUse, { description: 'worst first' }),
    remoteStylesheets: Type.Object({ count: Type.Integer(), urls: Type.Array(Type.String()), read: Type.Literal(false) }, { description: 'never fetched: their CSS is not checked' }),
    data: Type.Object({ source: Type.Literal('caniemail'), updated: Type.String() }),
  }),
  Type.Object({ status: Type.Literal('none'), reason: Type.String() }),
  GaveUpPart,
]);

export const Finding = Type.Object({
  id: Type.String(),
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
  title: Type.String(),
  explanation: Type.String(),
  rule: Type.String({ description: 'the standard or published rule behind it' }),
  where: Type.Optional(
    Type.Object({
      tab: Type.Union([Type.Literal('headers'), Type.Literal('html'), Type.Literal('text'), Type.Literal('raw')]),
      header: Type.Optional(Type.String()),
      line: Type.Optional(Type.Integer()),
    }),
  ),
});

const LintPart = Type.Union([
  Type.Object({ status: Type.Literal('checked'), findings: Type.Array(Finding), errors: Type.Integer(), warnings: Type.Integer(), infos: Type.Integer() }),
  GaveUpPart,
]);

const SpamPart = Type.Union([
  Type.Object({
    status: Type.Literal('checked'),
    isSpam: Type.Boolean(),
    score: Type.Number(),
    threshold: Type.Number(),
    rules: Type.Array(Type.Object({ name: Type.String(), score: Type.Number(), description: Type.String() })),
  }),
  Type.Object({ status: Type.Literal('not-configured'), reason: Type.String() }),
  Type.Object({ status: Type.Literal('error'), error: Type.String() }),
]);

export const ChecksResponse = Type.Object({
  id: Type.String(),
  html: Type.Optional(HtmlPart),
  lint: Type.Optional(LintPart),
  spam: Type.Optional(SpamPart),
});
export type ChecksResponse = Static<typeof ChecksResponse>;

export const ChecksQuery = Type.Object({
  parts: Type.Optional(Type.String({ maxLength: 64, description: 'comma-separated: html, lint, spam (default: all three)' })),
});

export type CheckFinding = Static<typeof Finding>;
