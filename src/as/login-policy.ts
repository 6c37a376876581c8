import { interactionPolicy } from 'oidc-provider';

// oidc-provider keeps one session per browser, and Writ's users belong to one org each. A user
// signed in for an agent of org B who then opens an authorization for an agent of org A has a
// session account that `findAccount` cannot see in org A; without this check oidc-provider skips
// the login prompt and its consent checks fail on the missing grant (a 500). Here that session
// simply asks for sign-in again, as a user of the agent's own org.

/**
 * For an org on single sign-on, how long ago (seconds) its provider may have signed the person in
 * for an agent's authorization to go ahead without a new sign-in; undefined without single sign-on.
 */
export type SensitiveMaxAge = (org_id: string) => Promise<number | undefined>;

export function loginPolicy(sensitiveMaxAge?: SensitiveMaxAge, nowSeconds: () => number = () => Math.floor(Date.now() / 1000)): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  // Delegating to an agent is the sensitive step: an org on single sign-on asks its provider again
  // when the sign-in behind this browser's session is older than the org's max_age.
  if (sensitiveMaxAge) {
    policy.get('login')!.checks.add(new interactionPolicy.Check(
      'sso_sign_in_too_old',
      'the organisation asks for a recent sign-in to delegate to an agent',
      async (ctx) => {
        const session = ctx.oidc.session;
        const client = ctx.oidc.client as unknown as { org_id?: string } | undefined;
        // A sign-in this very authorization just finished is recent enough, whatever the max_age.
        if ((ctx.oidc as unknown as { result?: { login?: unknown } }).result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        if (!session?.accountId || !client?.org_id || !ctx.oidc.account) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const maxAge = await sensitiveMaxAge(client.org_id);
        if (maxAge === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const authTime = (session as unknown as { loginTs?: number }).loginTs;
        return typeof authTime !== 'number' || nowSeconds() - authTime >= maxAge ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ));
  }
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'account_of_another_org',
    'the signed-in user does not belong to this agent\'s organisation',
    (ctx) => (ctx.oidc.session?.accountId && !ctx.oidc.account ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  ));
  return policy;
}
