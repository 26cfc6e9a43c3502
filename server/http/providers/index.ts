// The provider APIs, each on its own path prefix of the HTTP port, so an application's SDK needs
// one change, its base URL. Outside /api: these are mail coming in, like SMTP, and answer in each
// provider's own shapes, not Mailpen's.
import type { App, AppDeps } from '../app.js';
import { sendgridRoutes } from './sendgrid.js';
import { postmarkRoutes } from './postmark.js';
import { resendRoutes } from './resend.js';
import { mailgunRoutes } from './mailgun.js';
import { sesRoutes } from './ses.js';

/** Where each provider's API answers. */
export const PROVIDER_PREFIXES = ['/sendgrid', '/postmark', '/mailgun', '/ses', '/resend'] as const;

/**
 * Whether a matched route (request.routeOptions.url, the router's pattern) is a provider API's:
 * mail coming in like SMTP, authenticated by the provider's own key shapes (MAILPEN_PROVIDER_KEYS),
 * for the HTTP edge's auth check to tell apart from the UI and API.
 */
export function isProviderRoute(route: string | undefined): boolean {
  return route !== undefined && PROVIDER_PREFIXES.some((prefix) => route === prefix || route.startsWith(`${prefix}/`));
}

export async function providerRoutes(app: App, deps: AppDeps): Promise<void> {
  await app.register(sendgridRoutes, { ...deps, prefix: '/sendgrid' });
  await app.register(postmarkRoutes, { ...deps, prefix: '/postmark' });
  await app.register(resendRoutes, { ...deps, prefix: '/resend' });
  await app.register(mailgunRoutes, { ...deps, prefix: '/mailgun' });
  await app.register(sesRoutes, { ...deps, prefix: '/ses' });
}
