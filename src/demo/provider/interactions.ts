// The provider's own user interface: sign-in and consent, as plain HTML forms served under
// /interaction/:uid. oidc-provider redirects here whenever a prompt (login, consent) is pending
// and resumes the authorization request once `interactionFinished` records the result.
import type { Next } from 'koa';
import { z } from 'zod';
import { safeEqual } from '../../core/secrets.ts';
import { BodyTooLarge, readBody } from './body.ts';
import { consentPage, errorPage, signInPage } from './html.ts';
import type { OidcContext, OidcInteraction, OidcProvider } from './oidc.ts';

export const DEMO_PASSWORD = 'demo';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;
const FORM_LIMIT = 8 * 1024;

const SignInForm = z.strictObject({
  username: z.string().trim().min(1).max(64),
  password: z.string().max(256),
});

export function interactionRoutes(provider: OidcProvider, users: readonly string[]) {
  return async function interactions(ctx: OidcContext, next: Next): Promise<void> {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const action = match[2];
    const expected = action === undefined ? 'GET' : 'POST';
    if (ctx.method !== expected) {
      ctx.status = 405;
      ctx.set('Allow', expected);
      return;
    }

    let interaction: OidcInteraction;
    try {
      // Checks that the interaction cookie set by the authorization endpoint matches `uid`,
      // so a form cannot be replayed from another browser.
      interaction = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      render(ctx, 400, errorPage('invalid_request', 'This sign-in link has expired or belongs to another browser. Start again from the application.'));
      return;
    }
    const clientId = String(interaction.params.client_id ?? '');

    if (action === undefined) {
      if (interaction.prompt.name === 'login') {
        render(ctx, 200, signInPage({ uid: interaction.uid, clientId }));
      } else {
        const accountId = interaction.session?.accountId ?? '';
        render(ctx, 200, consentPage({ uid: interaction.uid, clientId, accountId, scopes: requestedScopes(interaction) }));
      }
      return;
    }

    if (action === 'abort') {
      return finish(ctx, provider, { error: 'access_denied', error_description: 'the user denied the request' });
    }

    if (action === 'login') {
      if (interaction.prompt.name !== 'login') return redirectBack(ctx, interaction);
      let form: z.infer<typeof SignInForm>;
      try {
        form = SignInForm.parse(Object.fromEntries(new URLSearchParams(await readBody(ctx.req, FORM_LIMIT))));
      } catch (err) {
        render(ctx, err instanceof BodyTooLarge ? 413 : 400, signInPage({ uid: interaction.uid, clientId, error: 'Enter a username and a password.' }));
        return;
      }
      // Both checks always run, so a wrong username and a wrong password take the same path.
      const knownUser = users.includes(form.username);
      const passwordOk = safeEqual(form.password, DEMO_PASSWORD);
      if (!knownUser || !passwordOk) {
        render(ctx, 401, signInPage({ uid: interaction.uid, clientId, username: form.username, error: 'Wrong username or password.' }));
        return;
      }
      return finish(ctx, provider, { login: { accountId: form.username } }, false);
    }

    // action === 'confirm'
    if (interaction.prompt.name !== 'consent') return redirectBack(ctx, interaction);
    const accountId = interaction.session?.accountId;
    if (!accountId) return redirectBack(ctx, interaction);
    const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined)
      ?? new provider.Grant({ accountId, clientId });
    const { missingOIDCScope, missingResourceScopes } = interaction.prompt.details;
    if (missingOIDCScope?.length) grant.addOIDCScope(missingOIDCScope.join(' '));
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    return finish(ctx, provider, { consent: { grantId } });
  };
}

function requestedScopes(interaction: OidcInteraction): string[] {
  const { missingOIDCScope = [], missingResourceScopes = {} } = interaction.prompt.details;
  return [...new Set([...missingOIDCScope, ...Object.values(missingResourceScopes).flat()])];
}

function render(ctx: OidcContext, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

// A form posted for a prompt that is no longer pending: show the current step instead.
function redirectBack(ctx: OidcContext, interaction: OidcInteraction): void {
  ctx.status = 303;
  ctx.redirect(`/interaction/${interaction.uid}`);
}

async function finish(
  ctx: OidcContext,
  provider: OidcProvider,
  result: Parameters<OidcProvider['interactionFinished']>[2],
  mergeWithLastSubmission = true,
): Promise<void> {
  // interactionFinished writes the 303 itself, so Koa must leave the response alone.
  ctx.respond = false;
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission });
}
