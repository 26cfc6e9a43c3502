// /mcp: the MCP tools over Streamable HTTP, for agents that connect to a URL instead of starting
// `mailpen mcp`. Stateless: each POST gets its own MCP server and transport (the SDK's pattern
// for a server without sessions), answering JSON. The tools call the API in process (inject),
// with this request's credentials; security.ts's hooks already checked Host, Origin and auth
// before this handler runs, as for every route.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef } from '../schemas.js';
import { errorBody } from '../errors.js';

export const MCP_PATH = '/mcp';

/** The SDK loads on the first call: a server nobody points an agent at never pays for it. */
const sdk = (): Promise<[typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'), typeof import('../../integrations/mcp/tools.js'), typeof import('../../integrations/mcp/api.js')]> =>
  Promise.all([import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('../../integrations/mcp/tools.js'), import('../../integrations/mcp/api.js')]);

export async function mcpRoutes(app: App, { root, runtime }: AppDeps & { root: App }): Promise<void> {
  app.post(
    MCP_PATH,
    {
      schema: {
        summary: 'MCP (Model Context Protocol) over Streamable HTTP: the tools of `mailpen mcp`',
        description: 'JSON-RPC requests from an MCP client (initialize, tools/list, tools/call). Stateless, JSON answers.',
        tags: ['integrations'],
        body: Type.Unknown(),
      },
    },
    async (request, reply) => {
      const [{ StreamableHTTPServerTransport }, { createMcpServer }, { injectApi }] = await sdk();
      const server = createMcpServer(injectApi(root, request.headers.authorization), runtime.version);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.hijack();
      reply.raw.setHeader('x-content-type-options', 'nosniff');
      reply.raw.setHeader('cache-control', 'no-store');
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err }, 'MCP request failed');
        if (!reply.raw.headersSent) {
          reply.raw.writeHead(500, { 'content-type': 'application/json' });
          reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error; see the server log' }, id: null }));
        }
      }
    },
  );

  // Without sessions there is no stream to open (GET) or session to end (DELETE).
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: MCP_PATH,
      schema: { hide: true, response: { 405: ErrorRef } },
      handler: async (_request, reply) =>
        reply.code(405).header('allow', 'POST').send(errorBody(405, 'this MCP endpoint is stateless: POST JSON-RPC requests to it')),
    });
  }
}
