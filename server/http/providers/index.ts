// The provider APIs, each on its own path prefix of the HTTP port, so an application's SDK needs
// one change, its base URL. Outside /api: these are mail coming in, like SMTP, and answer in each
// provider's own shapes, not Mailpen's.
import type { App, AppDeps } from '../app.js';
import { sendgridRoutes } from './sendgrid.js';
import { postmarkRoutes } from './postmark.js';
import { resendRoutes } from './resend.js';
import { mailgunRoutes } from './mailgun.js';
import { sesRoutes } from './ses.js';

export async function providerRoutes(app: App, deps: AppDeps): Promise<void> {
  await app.register(sendgridRoutes, { ...deps, prefix: '/sendgrid' });
  await app.register(postmarkRoutes, { ...deps, prefix: '/postmark' });
  await app.register(resendRoutes, { ...deps, prefix: '/resend' });
  await app.register(mailgunRoutes, { ...deps, prefix: '/mailgun' });
  await app.register(sesRoutes, { ...deps, prefix: '/ses' });
}
