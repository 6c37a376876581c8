import { interactionPolicy } from 'oidc-provider';

// oidc-provider keeps one session per browser, and Writ's users belong to one org each. A user
// signed in for an agent of org B who then opens an authorization for an agent of org A has a
// session account that `findAccount` cannot see in org A; without this check oidc-provider skips
// the login prompt and its consent checks fail on the missing grant (a 500). Here that session
// simply asks for sign-in again, as a user of the agent's own org.

export function loginPolicy(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'account_of_another_org',
    'the signed-in user does not belong to this agent\'s organisation',
    (ctx) => (ctx.oidc.session?.accountId && !ctx.oidc.account ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  ));
  return policy;
}
