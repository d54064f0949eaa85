import { REVIEW_LINKS_SCOPE, groupScope } from '../domain/audit.js';
import {
  SESSION_COOKIE,
  SIGN_IN_ATTEMPT_SECONDS,
  SIGN_IN_COOKIE,
  cookieHeader,
  cookieValue,
  openSession,
  openSignInAttempt,
  sealSession,
  sealSignInAttempt,
  sessionLifetimeSeconds,
  sessionMayVote,
  type Session,
} from '../domain/sign-in.js';
import type { Deps, SignInDeps } from '../ports.js';
import { renderRefusal } from '../web/pages.js';
import { renderSignIn } from '../web/sign-in-page.js';
import { logger } from '../logger.js';
import { reviewUrl } from './effects.js';
import { auditRefusal, authorize, groupOf, type Authorized, type HtmlResult, type SignInGate } from './review.js';

/**
 * `reviewAuth: oidc`: the link names the review and the reviewer, and the reviewer proves who
 * they are by signing in with the organisation's identity provider (shared/aws/oidc.ts). The
 * flow, with no JavaScript on any page:
 *
 * 1. GET /reviews/{token}: the link checks as before; without a session that may vote, the sign-in
 *    step (nothing is written, nothing of the evidence is shown).
 * 2. POST /reviews/{token} `intent=sign-in`: a sign-in attempt (state, nonce, PKCE verifier, the
 *    token) sealed in a cookie, and a redirect to the provider (login_hint: the reviewer, max_age
 *    from the group's policy).
 * 3. GET /auth/callback: the attempt cookie is opened and cleared, openid-client checks the code
 *    against it, the identity must be the link's reviewer (else 403, audited with both
 *    identities), and the session cookie is set; back to the review page.
 * 4. POST /reviews/{token} with a decision: the session must still be allowed to vote
 *    (sessionMayVote); the vote records issuer, subject and auth_time. Without one, 401 and the
 *    refusal's audit entry, nothing else.
 */

const seconds = (ms: number) => Math.floor(ms / 1000);
const maxAgeOf = (auth: Authorized) => auth.ctx.policy?.signInMaxAgeMinutes ?? 0;

/** The gate that showReview and submitVote run after the link checks (see SignInGate). */
export function sessionGate(deps: Deps, signIn: SignInDeps, cookies: readonly string[] | undefined, method: 'GET' | 'POST'): SignInGate {
  return async (auth) => {
    const now = seconds(deps.clock.now());
    const ring = await signIn.sessionKeys.keyRing();
    const session = await openSession(ring, cookieValue(cookies, SESSION_COOKIE), now);
    const maxAge = maxAgeOf(auth);
    const { link, review } = auth.ctx;
    const verdict = sessionMayVote(session, link, maxAge, now);
    if (verdict.ok) {
      const s = verdict.session;
      // A session made for one decision is spent by it.
      const spent = method === 'POST' && maxAge === 0 ? [cookieHeader(SESSION_COOKIE, undefined)] : [];
      return { signedIn: { issuer: s.issuer, subject: s.subject, identity: s.identity ?? '', authTime: new Date(s.authTime * 1000).toISOString() }, cookies: spent };
    }
    if (verdict.reason === 'wrong-identity') {
      await auditWrongIdentity(deps, review.modelPackageArn, link.id, link.reviewer, verdict.session, method);
      return { refuse: renderRefusal({ kind: 'wrong-identity', by: link.reviewer }, deps.organisation) };
    }
    if (method === 'POST') {
      await auditRefusal(deps, groupScope(review.group), { kind: 'sign-in-required', method, linkId: link.id, reason: verdict.reason }, review.modelPackageArn, 'unknown');
      return { refuse: renderRefusal({ kind: 'sign-in-required' }, deps.organisation) };
    }
    const again = verdict.reason === 'too-old' || verdict.reason === 'other-link' ? { again: verdict.reason } : {};
    // The form's POST is answered with a redirect to the provider, which the page's CSP must allow.
    const formActions = [await signIn.provider.authorizationOrigin()];
    return { refuse: { status: 200, body: renderSignIn({ group: review.group, version: review.version, reviewer: link.reviewer, ...again }, deps.organisation), formActions } };
  };
}

/** POST `intent=sign-in`: the attempt, sealed in its cookie, and the redirect to the provider. */
export async function startSignIn(deps: Deps, signIn: SignInDeps, token: string): Promise<HtmlResult> {
  const auth = await authorize(deps, token, 'POST');
  if ('status' in auth) return auth;
  const maxAgeSeconds = maxAgeOf(auth) * 60;
  const start = await signIn.provider.start({ loginHint: auth.ctx.link.reviewer, maxAgeSeconds });
  const now = seconds(deps.clock.now());
  const sealed = await sealSignInAttempt(await signIn.sessionKeys.keyRing(), { token, state: start.state, nonce: start.nonce, codeVerifier: start.codeVerifier, maxAgeSeconds }, now);
  logger.info('review sign-in started', { reviewId: auth.ctx.review.id, modelPackageArn: auth.ctx.review.modelPackageArn });
  return { status: 303, body: '', location: start.url, cookies: [cookieHeader(SIGN_IN_COOKIE, sealed, SIGN_IN_ATTEMPT_SECONDS)] };
}

/**
 * GET /auth/callback. The attempt cookie is cleared whatever happens, so a callback replayed in
 * the same browser finds nothing to match, and one replayed elsewhere never had it.
 */
export async function completeSignIn(deps: Deps, signIn: SignInDeps, callbackUrl: string, cookies: readonly string[] | undefined): Promise<HtmlResult> {
  const clear = cookieHeader(SIGN_IN_COOKIE, undefined);
  const now = seconds(deps.clock.now());
  const ring = await signIn.sessionKeys.keyRing();
  const attempt = await openSignInAttempt(ring, cookieValue(cookies, SIGN_IN_COOKIE), now);
  if (!attempt) {
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { kind: 'sign-in-failed', method: 'GET', reason: 'no sign-in attempt in this browser' }, 'review-links', 'unknown');
    return { ...renderRefusal({ kind: 'sign-in-failed' }, deps.organisation), cookies: [clear] };
  }
  let signedIn;
  try {
    signedIn = await signIn.provider.complete(callbackUrl, attempt);
  } catch (e) {
    const reason = e instanceof Error && 'reason' in e && typeof e.reason === 'string' ? e.reason : 'the provider answer did not check out';
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { kind: 'sign-in-failed', method: 'GET', reason }, 'review-links', 'unknown');
    return { ...renderRefusal({ kind: 'sign-in-failed' }, deps.organisation), cookies: [clear] };
  }
  const auth = await authorize(deps, attempt.token, 'GET');
  if ('status' in auth) return { ...auth, cookies: [clear] };
  const { link, review } = auth.ctx;
  const maxAge = maxAgeOf(auth);
  const session: Session = { ...signedIn, ...(maxAge === 0 ? { linkId: link.id } : {}) };
  if (signedIn.identity !== link.reviewer.toLowerCase()) {
    await auditWrongIdentity(deps, review.modelPackageArn, link.id, link.reviewer, session, 'GET');
    return { ...renderRefusal({ kind: 'wrong-identity', by: link.reviewer }, deps.organisation), cookies: [clear] };
  }
  const lifetime = sessionLifetimeSeconds(session, maxAge, now);
  const sealed = await sealSession(ring, session, now, lifetime);
  logger.info('reviewer signed in', { reviewId: review.id, modelPackageArn: review.modelPackageArn });
  return {
    status: 303,
    body: '',
    location: reviewUrl(deps.reviewBaseUrl, attempt.token),
    cookies: [clear, cookieHeader(SESSION_COOKIE, sealed, lifetime)],
  };
}

/** A sign-in as someone other than the link's reviewer: both identities, never a token. */
function auditWrongIdentity(deps: Deps, modelPackageArn: string, linkId: string, reviewer: string, session: Session, method: 'GET' | 'POST'): Promise<void> {
  const signedIn = { issuer: session.issuer, subject: session.subject, identity: session.identity ?? null, authTime: new Date(session.authTime * 1000).toISOString() };
  return auditRefusal(deps, groupScope(groupOf(modelPackageArn)), { kind: 'wrong-identity', method, linkId, reviewer, signedIn }, modelPackageArn, session.identity ?? 'unknown');
}

/** The redirect URI registered with the provider: `<review base URL>/auth/callback`. */
export const callbackUri = (reviewBaseUrl: string): string => `${reviewBaseUrl.replace(/\/+$/, '')}/auth/callback`;
