// GET/PUT /api/routing: how SMTP mail is put in inboxes (server/routing/), read and replaced
// while Mailpen runs. A routing that cannot work is refused with 400 and the reason, and the one
// in force stays as it was. The schemas live here, beside their only route.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef } from '../schemas.js';
import { HttpError } from '../errors.js';
import { MAX_RULES, ROUTING_MODES, RoutingError, type Router } from '../../routing/router.js';
import { MAX_QUERY_LENGTH } from '../../search/query.js';

const Mode = Type.Union(ROUTING_MODES.map((m) => Type.Literal(m)), { description: 'auth, subaddress, domain or rules' });

const RuleSchema = Type.Object(
  {
    inbox: Type.String({ maxLength: 256, description: 'the inbox of the mail the query matches' }),
    query: Type.String({ maxLength: MAX_QUERY_LENGTH, description: 'a query in the search syntax, e.g. to:@tenant-a.example' }),
  },
  { additionalProperties: false },
);

export const RoutingSchema = Type.Object({
  modes: Type.Array(Mode, { description: 'tried in order; the first that names an inbox decides, else the inbox is default' }),
  domain: Type.String({ description: 'the domain mode\'s suffix: anyone@NAME.<domain> lands in inbox NAME' }),
  rules: Type.Array(RuleSchema, { description: 'the rules mode: every rule whose query matches puts the message in its inbox' }),
});

export const RoutingBody = Type.Object(
  {
    modes: Type.Optional(Type.Array(Mode, { maxItems: ROUTING_MODES.length })),
    domain: Type.Optional(Type.String({ maxLength: 253 })),
    rules: Type.Optional(Type.Array(RuleSchema, { maxItems: MAX_RULES })),
  },
  { additionalProperties: false, description: 'what to change; what is left out stays as it is' },
);

export async function routingRoutes(app: App, { router }: AppDeps & { router: Router }): Promise<void> {
  app.get(
    '/routing',
    {
      schema: {
        summary: 'How SMTP mail is put in inboxes: the modes in order, the domain suffix and the rules',
        tags: ['routing'],
        response: { 200: RoutingSchema },
      },
    },
    async () => router.settings,
  );

  app.put(
    '/routing',
    {
      schema: {
        summary: 'Changes the routing for the mail that arrives from now on (400 and no change when it cannot work)',
        tags: ['routing'],
        body: RoutingBody,
        response: { 200: RoutingSchema, 400: ErrorRef },
      },
    },
    async (request) => {
      const now = router.settings;
      const { modes = now.modes, domain = now.domain, rules = now.rules } = request.body;
      try {
        return router.replace({ modes, domain, rules });
      } catch (e) {
        if (e instanceof RoutingError) throw new HttpError(400, e.message);
        throw e;
      }
    },
  );
}
