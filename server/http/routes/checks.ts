// GET /api/messages/:id/checks: HTML compatibility, the deliverability lint and SpamAssassin's
// score (server/checks/). Run on demand, cached per message; each part answers on its own, so a
// spamd that is down, or HTML too hostile to finish, is said in its part and never turns the
// whole answer into a 5xx.
import { Type, type Static } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef, IdParams } from '../schemas.js';
import { findMessage } from '../selection.js';
import { HttpError } from '../errors.js';
import { parseMessage } from '../../mail/parse.js';
import { MessageChecks, type CheckPartName } from '../../checks/index.js';

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

const Finding = Type.Object({
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

const ChecksQuery = Type.Object({
  parts: Type.Optional(Type.String({ maxLength: 64, description: 'comma-separated: html, lint, spam (default: all three)' })),
});

const PART_NAMES: readonly CheckPartName[] = ['html', 'lint', 'spam'];

function selectedParts(value: string | undefined): Set<CheckPartName> {
  if (value === undefined || value.trim() === '') return new Set(PART_NAMES);
  const parts = new Set<CheckPartName>();
  for (const name of value.split(',').map((p) => p.trim().toLowerCase())) {
    if (!PART_NAMES.includes(name as CheckPartName)) throw new HttpError(400, `unknown check part ${JSON.stringify(name)}: parts takes html, lint and spam`);
    parts.add(name as CheckPartName);
  }
  return parts;
}

export async function checkRoutes(app: App, { store, config }: AppDeps): Promise<void> {
  const checks = new MessageChecks({ spamd: config.spamdAddr });
  app.addHook('onClose', async () => checks.close());

  app.get(
    '/messages/:id/checks',
    {
      schema: {
        summary: 'HTML support across mail clients (caniemail), a deliverability lint, and a SpamAssassin score when a spamd is configured',
        tags: ['content'],
        params: IdParams,
        querystring: ChecksQuery,
        response: { 200: ChecksResponse, 400: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const parts = selectedParts(request.query.parts);
      const message = findMessage(store, request.params.id);
      const html = parts.has('html') || parts.has('lint') ? (await parseMessage(message.raw)).html : null;
      return { id: message.id, ...(await checks.check(message.raw, html, parts)) };
    },
  );
}
