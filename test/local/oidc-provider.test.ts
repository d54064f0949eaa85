/**
 * The local OpenID provider (local/oidc/provider.ts: oidc-provider with a login form for the
 * configured users), driven by openid-client as a relying party and by the fetch-based sign-in of
 * test/support/oidc-login.ts: discovery, the code flow with PKCE, the ID token's claims, and the
 * refusals a relying party relies on (wrong verifier, wrong state, replayed code, no PKCE, an
 * unknown user), and re-authentication (max_age, prompt=login) giving a newer auth_time.
 */
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { localSubject, startLocalOidcProvider, type LocalOidcProvider } from '../../local/oidc/provider.js';
import { OidcUserAgent, signIn, signInRefused, withPromptLogin } from '../support/oidc-login.js';

const CLIENT_ID = 'modelgate-review-test';
const CLIENT_SECRET = 'test-secret-not-used-anywhere-else';
// Never requested: the sign-in stops at the redirect to it.
const REDIRECT_URI = 'http://127.0.0.1:9/auth/callback';
const RISK_OFFICER = { email: 'risk-officer@acme-bank.example', name: 'Risk Officer' };
const ML_LEAD = { email: 'ml-lead@acme-bank.example', name: 'ML Lead' };

async function failure(p: Promise<unknown>): Promise<{ name: string; error?: string; code?: string; message: string; cause?: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { error?: string; code?: string };
    return { name: err.name, error: err.error, code: err.code, message: err.message, cause: (err.cause as Error | undefined)?.message };
  }
  throw new Error('expected a failure');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local OpenID provider (oidc-provider), through openid-client', () => {
  let idp: LocalOidcProvider;
  let config: client.Configuration;

  beforeAll(async () => {
    idp = await startLocalOidcProvider({
      port: 0,
      users: [RISK_OFFICER, ML_LEAD],
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    });
    config = await client.discovery(new URL(idp.issuer), CLIENT_ID, CLIENT_SECRET, undefined, { execute: [client.allowInsecureRequests] });
  });
  afterAll(async () => {
    await idp?.close();
  });

  /** A fresh authorization request: its URL and the secrets only the relying party keeps. */
  async function authorization(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url: url.href, verifier, state, nonce };
  }

  test('discovery: the issuer is http://127.0.0.1:<port>, code flow only, PKCE S256, the scopes and claims modelgate reads', () => {
    const meta = config.serverMetadata();
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(meta.issuer).toBe(idp.issuer);
    expect(meta.authorization_endpoint).toBe(`${idp.issuer}/auth`);
    expect(meta.token_endpoint).toBe(`${idp.issuer}/token`);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.scopes_supported).toEqual(['openid', 'email', 'profile']);
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'email_verified', 'name', 'auth_time']));
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  test('a full code flow with PKCE: the callback carries code, state and iss; the ID token names the user', async () => {
    const a = await authorization();
    const before = Math.floor(Date.now() / 1000);
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);

    const callback = new URL(callbackUrl);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(a.state);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    expect(callback.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: a.verifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: CLIENT_ID,
      sub: localSubject(RISK_OFFICER.email),
      email: RISK_OFFICER.email,
      email_verified: true,
      name: RISK_OFFICER.name,
      nonce: a.nonce,
    });
    // The subject is an opaque id, stable across starts, and not the address.
    expect(claims?.sub).toBe(`local-${createHash('sha256').update(RISK_OFFICER.email).digest('hex').slice(0, 24)}`);
    expect(claims?.sub).not.toContain('@');
    expect(claims?.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims?.auth_time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });

  test('the subject of each user is distinct and the same on every call', () => {
    expect(localSubject(RISK_OFFICER.email)).toBe(localSubject(' Risk-Officer@ACME-bank.example '));
    expect(localSubject(RISK_OFFICER.email)).not.toBe(localSubject(ML_LEAD.email));
    expect(localSubject(RISK_OFFICER.email)).toMatch(/^local-[0-9a-f]{24}$/);
  });

  test('a wrong PKCE verifier is refused by the provider (invalid_grant)', async () => {
    const a = await authorization();
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);
    const f = await failure(
      client.authorizationCodeGrant(config, new URL(callbackUrl), {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: a.state,
        expectedNonce: a.nonce,
      }),
    );
    expect(f.error).toBe('invalid_grant');
  });

  test('a wrong state is refused by openid-client before the code is sent', async () => {
    const a = await authorization();
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);
    const f = await failure(
      client.authorizationCodeGrant(config, new URL(callbackUrl), {
        pkceCodeVerifier: a.verifier,
        expectedState: client.randomState(),
        expectedNonce: a.nonce,
      }),
    );
    expect(f.code).toBe('OAUTH_INVALID_RESPONSE');
    expect(f.cause).toMatch(/"state"/);
    // The code was not spent: with the right state the same callback still works.
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
    expect(tokens.claims()?.email).toBe(RISK_OFFICER.email);
  });

  test('a forged iss in the callback is refused by openid-client', async () => {
    const a = await authorization();
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);
    const forged = new URL(callbackUrl);
    forged.searchParams.set('iss', 'http://127.0.0.1:1');
    const f = await failure(client.authorizationCodeGrant(config, forged, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce }));
    expect(f.code).toBe('OAUTH_INVALID_RESPONSE');
    expect(f.cause).toMatch(/"iss"/);
  });

  test('a replayed code is refused (invalid_grant), after it worked once', async () => {
    const a = await authorization();
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);
    const checks = { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce };
    const first = await client.authorizationCodeGrant(config, new URL(callbackUrl), checks);
    expect(first.claims()?.email).toBe(RISK_OFFICER.email);
    const f = await failure(client.authorizationCodeGrant(config, new URL(callbackUrl), checks));
    expect(f.error).toBe('invalid_grant');
  });

  test('an authorization request without PKCE, or with the plain method, is refused back to the client', async () => {
    const plain = new URL(
      client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', state: 's1', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }),
    );
    const none = new URL(client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', state: 's2' }));
    for (const [url, state] of [
      [none, 's2'],
      [plain, 's1'],
    ] as const) {
      const { callbackUrl } = await signIn(url.href, RISK_OFFICER.email);
      const callback = new URL(callbackUrl);
      expect(callback.searchParams.get('error')).toBe('invalid_request');
      expect(callback.searchParams.get('state')).toBe(state);
      expect(callback.searchParams.get('code')).toBeNull();
    }
  });

  test('a user the provider does not know cannot sign in, and gets no code', async () => {
    const a = await authorization();
    const refusal = await signInRefused(a.url, 'intruder@acme-bank.example');
    expect(refusal.status).toBe(403);
    expect(refusal.message).toBe(
      'the local OpenID provider refused the sign-in as intruder@acme-bank.example (403): intruder@acme-bank.example is not a user of this identity provider.',
    );
  });

  test('a client with the wrong secret gets no tokens (invalid_client)', async () => {
    const a = await authorization();
    const { callbackUrl } = await signIn(a.url, RISK_OFFICER.email);
    const impostor = await client.discovery(new URL(idp.issuer), CLIENT_ID, 'not-the-secret', undefined, { execute: [client.allowInsecureRequests] });
    const f = await failure(client.authorizationCodeGrant(impostor, new URL(callbackUrl), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce }));
    expect(f.error).toBe('invalid_client');
  });

  test('a signed-in user is not asked again, with the first auth_time; max_age=0 and prompt=login ask again and give a newer auth_time', async () => {
    const agent = new OidcUserAgent();
    const grant = async (a: Awaited<ReturnType<typeof authorization>>, callbackUrl: string, maxAge?: number) =>
      (await client.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, maxAge })).claims();

    const a1 = await authorization();
    const s1 = await agent.signIn(a1.url, ML_LEAD.email);
    expect(s1.promptedForLogin).toBe(true);
    const first = (await grant(a1, s1.callbackUrl))?.auth_time ?? 0;

    // auth_time has one-second resolution.
    await sleep(1100);
    const a2 = await authorization();
    const s2 = await agent.signIn(a2.url, ML_LEAD.email);
    expect(s2.promptedForLogin).toBe(false);
    expect((await grant(a2, s2.callbackUrl))?.auth_time).toBe(first);

    const a3 = await authorization({ max_age: '0' });
    const s3 = await agent.signIn(a3.url, ML_LEAD.email);
    expect(s3.promptedForLogin).toBe(true);
    const third = (await grant(a3, s3.callbackUrl, 0))?.auth_time ?? 0;
    expect(third).toBeGreaterThan(first);

    await sleep(1100);
    const a4 = await authorization();
    const s4 = await agent.signIn(withPromptLogin(a4.url), ML_LEAD.email);
    expect(s4.promptedForLogin).toBe(true);
    expect((await grant(a4, s4.callbackUrl))?.auth_time).toBeGreaterThan(third);
  });
});
