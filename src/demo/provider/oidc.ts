// oidc-provider ships no type declarations. This file names the small part of its surface the
// demo provider uses, and loads the module through a non-literal specifier so the rest of the
// repository is free to declare its own, fuller typings without clashing with these.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';

export interface OidcContext extends Context {
  oidc?: {
    route?: string;
    params?: Record<string, unknown>;
  };
}

export interface OidcGrant {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

export interface OidcAccessToken {
  accountId: string;
  clientId: string;
  grantId: string;
  scope?: string;
  aud?: string | string[];
}

export interface OidcInteraction {
  uid: string;
  grantId?: string;
  params: Record<string, unknown>;
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  session?: { accountId?: string };
}

export interface InteractionResult {
  login?: { accountId: string };
  consent?: { grantId?: string };
  error?: string;
  error_description?: string;
}

export interface OidcProvider {
  readonly issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: OidcContext, next: Next) => Promise<void>): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: InteractionResult,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): void;
  Grant: {
    new (init: { accountId: string; clientId: string }): OidcGrant;
    find(id: string): Promise<OidcGrant | undefined>;
  };
  AccessToken: { find(value: string): Promise<OidcAccessToken | undefined> };
}

export interface OidcModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidTarget: new (description?: string) => Error };
}

const specifier: string = 'oidc-provider';

export async function loadOidcProvider(): Promise<OidcModule> {
  return (await import(specifier)) as OidcModule;
}
