// /api/rules: the fault rule set (server/rules/). Bodies are validated by the rules module itself
// rather than by fastify's schema, so an unknown field (a misspelt `time`) is refused with its
// name instead of silently stripped, and the API and the rules file refuse the same things.
// A refused change answers 400 with the reason and leaves the rule set as it was.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef } from '../schemas.js';
import { HttpError } from '../errors.js';
import { RuleError, RuleSchema, type FaultRules } from '../../rules/index.js';

const RulesResponse = Type.Object({ rules: Type.Array(RuleSchema) });
const RuleParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const EnabledBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });
const DeletedRules = Type.Object({ deleted: Type.Integer({ description: 'rules deleted' }) });

const RULE_SHAPE =
  'A rule: `{ "stage": "rcpt", "match": "to:full@example.test", "reply": { "code": 552, "enhanced": "5.2.2", "text": "mailbox full" }, "times": 1 }`. ' +
  'stage: connect, ehlo, auth, mail, rcpt, data. Actions: reply, delay (ms), disconnect (true), greylist ({ window }). ' +
  'Counters: times, after, every, probability. Scope: inbox. enabled: false keeps it without evaluating it.';

/** A rule change the rules module refused is the client's mistake: 400 with its reason. */
function refused<T>(change: () => T): T {
  try {
    return change();
  } catch (err) {
    if (err instanceof RuleError) throw new HttpError(400, err.message);
    throw err;
  }
}

export async function rulesRoutes(app: App, { rules }: AppDeps & { rules: FaultRules }): Promise<void> {
  const tags = ['rules'];

  app.get('/rules', { schema: { summary: 'Every fault rule, in evaluation order, with its hit count', tags, response: { 200: RulesResponse } } }, async () => ({
    rules: rules.list(),
  }));

  app.put(
    '/rules',
    {
      schema: {
        summary: 'Replace every fault rule (counters start at 0)',
        description: `Body: a JSON array of rules, or { "rules": [...] }. ${RULE_SHAPE}`,
        tags,
        response: { 200: RulesResponse, 400: ErrorRef },
      },
    },
    async (request) => {
      const body = request.body;
      const list = body !== null && typeof body === 'object' && !Array.isArray(body) && 'rules' in body ? (body as { rules: unknown }).rules : body;
      return { rules: refused(() => rules.replace(list)) };
    },
  );

  app.post(
    '/rules',
    { schema: { summary: 'Add one fault rule at the end', description: RULE_SHAPE, tags, response: { 201: RuleSchema, 400: ErrorRef } } },
    async (request, reply) => reply.code(201).send(refused(() => rules.append(request.body))),
  );

  app.delete('/rules', { schema: { summary: 'Delete every fault rule', tags, response: { 200: DeletedRules } } }, async () => ({ deleted: rules.clear() }));

  app.get(
    '/rules/:id',
    { schema: { summary: 'One fault rule with its hit count', tags, params: RuleParams, response: { 200: RuleSchema, 404: ErrorRef } } },
    async (request) => rules.get(request.params.id) ?? notFound(request.params.id),
  );

  app.patch(
    '/rules/:id',
    {
      schema: { summary: 'Switch a fault rule on or off (its counters stay)', tags, params: RuleParams, body: EnabledBody, response: { 200: RuleSchema, 400: ErrorRef, 404: ErrorRef } },
    },
    async (request) => rules.setEnabled(request.params.id, request.body.enabled) ?? notFound(request.params.id),
  );

  app.delete(
    '/rules/:id',
    { schema: { summary: 'Delete one fault rule', tags, params: RuleParams, response: { 200: DeletedRules, 404: ErrorRef } } },
    async (request) => (rules.remove(request.params.id) ? { deleted: 1 } : notFound(request.params.id)),
  );
}

function notFound(id: string): never {
  throw new HttpError(404, `no rule ${JSON.stringify(id)}`);
}
