// GET /api/messages/:id/checks: HTML compatibility, the deliverability lint and SpamAssassin's
// score (server/checks/). Run on demand, cached per message; each part answers on its own, so a
// spamd that is down, or HTML too hostile to finish, is said in its part and never turns the
// whole answer into a 5xx.
import type { App, AppDeps } from '../app.js';
import { ErrorRef, IdParams } from '../schemas.js';
import { findMessage } from '../selection.js';
import { HttpError } from '../errors.js';
import type { CheckPartName, MessageChecks } from '../../checks/index.js';
import { ChecksQuery, ChecksResponse } from '../../checks/schema.js';

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

export async function checkRoutes(app: App, { store, parser, checks }: AppDeps & { checks: MessageChecks }): Promise<void> {
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
      const html = parts.has('html') || parts.has('lint') ? (await parser.parse(message.raw)).html : null;
      return { id: message.id, ...(await checks.check(message.raw, html, parts)) };
    },
  );
}
