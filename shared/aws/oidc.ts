import * as oidc from 'openid-client';
import { identityFromClaims } from '../domain/sign-in.js';
import type { SignedIn, SignInProvider, SignInStart } from '../ports.js';

/**
 * The OpenID Connect adapter: `openid-client` (certified, maintained) runs the authorization code
 * flow with PKCE (S256), `state` and `nonce`, and checks the ID token (issuer, audience,
 * signature, expiry, `nonce`, `auth_time` against `max_age`). Any standard provider works:
 * Amazon Cognito, Microsoft Entra ID, Okta, IAM Identity Center through an OIDC application.
 *
 * The provider's metadata is discovered once per cold start; a failed discovery is not kept. The
 * client secret is asked for only then. Plain http is allowed only when `allowHttp` is set (stage
 * `local`, whose provider is the local stand-in on 127.0.0.1).
 *
 * Errors are `SignInFailed` with openid-client's error code only: never the code, the state, a
 * token or a claim value, which the library's messages may quote.
 */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: () => Promise<string>;
  /** `<review base URL>/auth/callback`, registered with the provider. */
  redirectUri: string;
  /** The claim that names the reviewer; `email` (default) counts only with `email_verified`. */
  identityClaim: string;
  allowHttp?: boolean;
}

export class SignInFailed extends Error {
  constructor(readonly reason: string) {
    super(`sign-in failed: ${reason}`);
    this.name = 'SignInFailed';
  }
}

export function oidcSignIn(settings: OidcSettings): SignInProvider {
  let configuration: Promise<oidc.Configuration> | undefined;
  const config = () =>
    (configuration ??= (async () => {
      const secret = await settings.clientSecret();
      return oidc.discovery(new URL(settings.issuer), settings.clientId, secret, undefined, settings.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined);
    })().catch((e: unknown) => {
      configuration = undefined;
      throw new SignInFailed(`discovery of ${settings.issuer} failed (${codeOf(e)})`);
    }));

  return {
    async authorizationOrigin(): Promise<string> {
      const endpoint = (await config()).serverMetadata().authorization_endpoint;
      if (!endpoint) throw new SignInFailed(`${settings.issuer} names no authorization endpoint`);
      return new URL(endpoint).origin;
    },

    async start({ loginHint, maxAgeSeconds }): Promise<SignInStart> {
      const c = await config();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: settings.redirectUri,
        scope: settings.identityClaim === 'email' ? 'openid email' : 'openid email profile',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        max_age: String(maxAgeSeconds),
        // max_age=0 asks for a fresh authentication; prompt=login says so to providers that ignore max_age.
        ...(maxAgeSeconds === 0 ? { prompt: 'login' } : {}),
        login_hint: loginHint,
      });
      return { url: url.href, state, nonce, codeVerifier };
    },

    async complete(callbackUrl, checks): Promise<SignedIn> {
      const c = await config();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(c, new URL(callbackUrl), {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          maxAge: checks.maxAgeSeconds,
        });
      } catch (e) {
        throw new SignInFailed(codeOf(e));
      }
      const claims = tokens.claims();
      if (!claims || typeof claims.auth_time !== 'number') throw new SignInFailed('the ID token has no auth_time');
      const identity = identityFromClaims(claims as Record<string, unknown>, settings.identityClaim);
      return { issuer: claims.iss, subject: claims.sub, ...(identity ? { identity } : {}), authTime: claims.auth_time };
    },
  };
}

/** openid-client's error code (`OAUTH_…`), or the error's class: never its message. */
function codeOf(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const error = (e as { error?: unknown }).error;
    return [e.name, typeof code === 'string' ? code : undefined, typeof error === 'string' ? error : undefined].filter(Boolean).join(' ').slice(0, 120);
  }
  return 'unknown error';
}
