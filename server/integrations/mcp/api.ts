// How the MCP tools reach Mailpen: through its HTTP API, always. Over stdio (`mailpen mcp`) that
// is a real HTTP request to a running Mailpen, in Docker or not; at /mcp it is the same request
// injected into the app in process, so both see exactly what the API says, through the same
// Host, cross-site and auth checks, the same 400s for a bad query, the same wait limit.
import type { App } from '../../http/app.js';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export type ApiMethod = 'GET' | 'DELETE';

export interface MailpenApi {
  /** `path` is under /api; query values left undefined are not sent. */
  call(method: ApiMethod, path: string, query?: Record<string, string | number | undefined>): Promise<ApiAnswer>;
}

/** Raised when Mailpen cannot be reached at all (as opposed to answering an error). */
export class ApiUnreachable extends Error {}

function target(path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `/api${path}${qs ? `?${qs}` : ''}`;
}

async function parseBody(text: string): Promise<unknown> {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A running Mailpen at `base` (http://127.0.0.1:8025), with the API's credentials if it needs them. */
export function httpApi(base: string, authorization: string | null): MailpenApi {
  const root = base.replace(/\/+$/, '');
  return {
    async call(method, path, query) {
      let response: Response;
      try {
        response = await fetch(root + target(path, query), {
          method,
          headers: authorization ? { authorization } : {},
          redirect: 'error',
        });
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        throw new ApiUnreachable(`cannot reach Mailpen at ${root} (${cause ?? (err as Error).message}); is it running? Set --url or MAILPEN_MCP_URL`);
      }
      return { status: response.status, body: await parseBody(await response.text()) };
    },
  };
}

/** The app this process serves, asked in process with the MCP request's own credentials. */
export function injectApi(app: App, authorization: string | undefined): MailpenApi {
  return {
    async call(method, path, query) {
      const response = await app.inject({ method, url: target(path, query), headers: authorization ? { authorization } : {} });
      return { status: response.statusCode, body: await parseBody(response.body) };
    },
  };
}
