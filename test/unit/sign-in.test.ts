import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  DECISION_WINDOW_SECONDS,
  SESSION_COOKIE,
  SIGN_IN_COOKIE,
  cookieHeader,
  cookieValue,
  identityFromClaims,
  openSession,
  openSignInAttempt,
  sealSession,
  sealSignInAttempt,
  sessionMayVote,
  type Session,
} from '../../shared/domain/sign-in.js';
import type { KeyRing } from '../../shared/domain/token.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { parsePolicyInput } from '../../shared/domain/policy.js';
import { htmlResponse } from '../../shared/web/pages.js';
import { config } from '../../shared/config.js';
import { reviewSignIn } from '../../shared/sign-in-wiring.js';

const ring = (kid: string, fill: number): KeyRing => ({ current: { kid, secret: new Uint8Array(32).fill(fill) } });
const RING = ring('2026-11', 7);
const NOW = 1_795_000_000;
const attempt = { token: 'v1.2026-11.payload.signature', state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), maxAgeSeconds: 0 };
const session: Session = { issuer: 'https://idp.acme-bank.example', subject: '00u1abcd', identity: 'risk-officer@acme-bank.example', authTime: NOW - 60, linkId: 'link-1' };
const LINK = { id: 'link-1', reviewer: 'risk-officer@acme-bank.example' };

describe('sealed cookies', () => {
  test('a sign-in attempt and a session open under the ring that sealed them, and under the next ring as `previous`', async () => {
    const sealedAttempt = await sealSignInAttempt(RING, attempt, NOW);
    const sealedSession = await sealSession(RING, session, NOW, 600);
    expect(await openSignInAttempt(RING, sealedAttempt, NOW + 1)).toEqual(attempt);
    expect(await openSession(RING, sealedSession, NOW + 1)).toEqual(session);
    const rotated: KeyRing = { current: { kid: '2027-02', secret: new Uint8Array(32).fill(9) }, previous: RING.current };
    expect(await openSession(rotated, sealedSession, NOW + 1)).toEqual(session);
    expect(await openSession(ring('2027-02', 9), sealedSession, NOW + 1)).toBeUndefined();
  });

  test('the session cookie is not a sign-in attempt and the other way round (a key per purpose)', async () => {
    expect(await openSignInAttempt(RING, await sealSession(RING, session, NOW, 600), NOW)).toBeUndefined();
    expect(await openSession(RING, await sealSignInAttempt(RING, attempt, NOW), NOW)).toBeUndefined();
  });

  test('an expired cookie is refused: a sign-in attempt after 10 minutes, a session after its lifetime', async () => {
    expect(await openSignInAttempt(RING, await sealSignInAttempt(RING, attempt, NOW), NOW + 601)).toBeUndefined();
    expect(await openSession(RING, await sealSession(RING, session, NOW, 30), NOW + 31)).toBeUndefined();
  });

  test('property: changing any one character of a sealed session refuses it', async () => {
    const sealed = await sealSession(RING, session, NOW, 600);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: sealed.length - 1 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), async (i, c) => {
        fc.pre(sealed[i] !== c);
        const tampered = sealed.slice(0, i) + c + sealed.slice(i + 1);
        const opened = await openSession(RING, tampered, NOW);
        // base64url's last character has unused low bits: a flip there may decode to the same bytes.
        expect(opened === undefined || JSON.stringify(opened) === JSON.stringify(session)).toBe(true);
        if (i < sealed.length - 1 && sealed[i + 1] !== '.' && sealed[i] !== '.') expect(opened).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  test('cookies carry the __Host- prefix rules: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain', () => {
    expect(cookieHeader(SESSION_COOKIE, 'abc', 900)).toBe('__Host-modelgate-session=abc; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Lax');
    expect(cookieHeader(SIGN_IN_COOKIE, undefined)).toBe('__Host-modelgate-signin=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
    expect(cookieValue(['a=1', '__Host-modelgate-session=xyz'], SESSION_COOKIE)).toBe('xyz');
    expect(cookieValue(['a=1; __Host-modelgate-signin=q.r'], SIGN_IN_COOKIE)).toBe('q.r');
    expect(cookieValue(undefined, SESSION_COOKIE)).toBeUndefined();
  });
});

describe('who may vote', () => {
  test('the link reviewer, with a sign-in made for this link, within the decision window (the default)', () => {
    expect(sessionMayVote(session, LINK, 0, NOW)).toEqual({ ok: true, session });
    expect(sessionMayVote({ ...session, identity: 'RISK-OFFICER@acme-bank.example' }, LINK, 0, NOW).ok).toBe(true);
    expect(sessionMayVote(undefined, LINK, 0, NOW)).toEqual({ ok: false, reason: 'no-session' });
    expect(sessionMayVote(session, { ...LINK, id: 'link-2' }, 0, NOW)).toEqual({ ok: false, reason: 'other-link' });
    expect(sessionMayVote(session, LINK, 0, session.authTime + DECISION_WINDOW_SECONDS + 1)).toEqual({ ok: false, reason: 'too-old' });
  });

  test('someone else, signed in: refused with their session, so that both identities can be audited', () => {
    const other = { ...session, identity: 'intruder@acme-bank.example' };
    expect(sessionMayVote(other, LINK, 0, NOW)).toEqual({ ok: false, reason: 'wrong-identity', session: other });
    const none: Session = { issuer: session.issuer, subject: session.subject, authTime: session.authTime };
    expect(sessionMayVote(none, LINK, 0, NOW)).toEqual({ ok: false, reason: 'wrong-identity', session: none });
  });

  test('a policy that lets a sign-in serve for 30 minutes: any link of the same reviewer, until then', () => {
    const general = { ...session, linkId: undefined };
    expect(sessionMayVote(general, { ...LINK, id: 'link-9' }, 30, session.authTime + 30 * 60).ok).toBe(true);
    expect(sessionMayVote(general, LINK, 30, session.authTime + 30 * 60 + 1)).toEqual({ ok: false, reason: 'too-old' });
  });

  test('the identity claim: email only when verified; another claim as given', () => {
    expect(identityFromClaims({ email: 'A@x.example', email_verified: true }, 'email')).toBe('a@x.example');
    expect(identityFromClaims({ email: 'a@x.example', email_verified: false }, 'email')).toBeUndefined();
    expect(identityFromClaims({ email: 'a@x.example' }, 'email')).toBeUndefined();
    expect(identityFromClaims({ email: 'a@x.example', email_verified: 'true' }, 'email')).toBeUndefined();
    expect(identityFromClaims({ upn: 'Alice@Corp.example' }, 'upn')).toBe('alice@corp.example');
    expect(identityFromClaims({ upn: 42 }, 'upn')).toBeUndefined();
  });
});

describe('the policy setting signInMaxAgeMinutes', () => {
  const sample = JSON.parse(readFileSync(join(process.cwd(), 'events', 'policy-fraud-detector.json'), 'utf8')) as Record<string, unknown>;

  test('absent, 0 and 1 to 720 minutes are accepted; absent stays absent', () => {
    expect(parsePolicyInput(sample).signInMaxAgeMinutes).toBeUndefined();
    expect(parsePolicyInput({ ...sample, signInMaxAgeMinutes: 0 }).signInMaxAgeMinutes).toBe(0);
    expect(parsePolicyInput({ ...sample, signInMaxAgeMinutes: 720 }).signInMaxAgeMinutes).toBe(720);
  });

  test.each([-1, 721, 1.5, '30', null])('%p is refused with a ValidationError that names the field', (value) => {
    const error = (() => {
      try {
        parsePolicyInput({ ...sample, signInMaxAgeMinutes: value });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/signInMaxAgeMinutes/);
  });
});

describe("the sign-in step's CSP", () => {
  test("form-action allows the provider's authorization origin, and nothing that is not a bare origin", () => {
    const csp = (formActions: string[]) => htmlResponse(200, '', { formActions }).headers['Content-Security-Policy'];
    expect(csp(['https://acme.auth.eu-west-1.amazoncognito.com'])).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'self' https://acme.auth.eu-west-1.amazoncognito.com; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(csp(['http://127.0.0.1:9104'])).toContain("form-action 'self' http://127.0.0.1:9104;");
    // A value that would add a directive or a source list is dropped, not inserted.
    for (const hostile of ["https://x.example; script-src 'unsafe-inline'", 'https://x.example *', '*', "'unsafe-inline'", 'https://x.example/path']) {
      expect(csp([hostile])).toContain("form-action 'self'; frame-ancestors");
    }
    expect(htmlResponse(200, '').headers['Content-Security-Policy']).toContain("form-action 'self'; frame-ancestors");
  });
});

describe('the review function wiring (reviewAuth)', () => {
  const base = { TABLE_NAME: 't', REVIEWERS_TOPIC_ARN: 'r', GOVERNANCE_TOPIC_ARN: 'g', REVIEW_BASE_URL: 'https://modelgate.acme-bank.example', STAGE: 'prod' };

  test('link: no sign-in is built', () => {
    expect(reviewSignIn(config({ ...base, REVIEW_AUTH: 'link' }))).toBeUndefined();
  });

  test('oidc without an issuer fails with the variable it needs, and does not fall back to links', () => {
    // As the template gives it: the SSM parameter names have defaults, the issuer does not.
    const env = { ...base, REVIEW_AUTH: 'oidc', OIDC_ISSUER: '', OIDC_CLIENT_ID: '', OIDC_CLIENT_SECRET_PARAMETER: '/modelgate/prod/oidc-client-secret', SESSION_KEY_PARAMETER: '/modelgate/prod/review-session-keys' };
    expect(() => reviewSignIn(config(env))).toThrow(/OIDC_ISSUER is required by this function \(stage prod\)/);
  });
});
