import { hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import * as z from '../schemas/zod.js';
import type { KeyRing } from './token.js';

/**
 * OpenID Connect sign-in on the review page (issue 10): the two sealed cookies, and the rules that
 * decide whether a signed-in person may vote on a link.
 *
 * - `__Host-modelgate-signin` holds one sign-in attempt while the browser is at the identity
 *   provider: the review link's token (so the callback can go back to it), and the `state`, `nonce`
 *   and PKCE `code_verifier` that the callback must match. It lives 10 minutes and is cleared by
 *   the callback, so a callback replayed later finds nothing to match.
 * - `__Host-modelgate-session` holds who signed in: the issuer, the subject, the identity claim's
 *   value (the reviewer's address) and `auth_time`. With the policy's default (`signInMaxAgeMinutes`
 *   0) it is bound to the one link it was made for and voting clears it: every decision needs its
 *   own sign-in.
 *
 * Both are sealed (JWE, `dir` + A256GCM: encrypted and authenticated) with a key derived by HKDF
 * from the session key ring (an SSM SecureString, like the link keys), under a label of its own
 * per cookie, so that one cookie can never be presented as the other. A key ring's `previous` key
 * still opens cookies sealed before a rotation. Cookies are `HttpOnly; Secure; SameSite=Lax;
 * Path=/` with the `__Host-` prefix (no Domain: only this origin ever gets them). Lax, because the
 * identity provider's redirect back is a top-level GET from another site.
 *
 * Pure but for node:crypto and jose; no clock (callers pass `nowSeconds`).
 */

export const SIGN_IN_COOKIE = '__Host-modelgate-signin';
export const SESSION_COOKIE = '__Host-modelgate-session';
/** How long a sign-in attempt may take at the identity provider. */
export const SIGN_IN_ATTEMPT_SECONDS = 10 * 60;
/**
 * With re-authentication for every decision (the default), how long after signing in the vote may
 * come: time to read the evidence and decide, not to come back tomorrow.
 */
export const DECISION_WINDOW_SECONDS = 15 * 60;

const SignInAttemptSchema = /* @__PURE__ */ z.schema(() => z.object({
  token: z.string().check(z.minLength(1), z.maxLength(2048)),
  state: z.string().check(z.minLength(16), z.maxLength(256)),
  nonce: z.string().check(z.minLength(16), z.maxLength(256)),
  codeVerifier: z.string().check(z.minLength(43), z.maxLength(128)),
  maxAgeSeconds: z.int().check(z.gte(0)),
}));
export type SignInAttempt = z.infer<typeof SignInAttemptSchema>;

const SessionSchema = /* @__PURE__ */ z.schema(() => z.object({
  issuer: z.string().check(z.minLength(1), z.maxLength(2048)),
  subject: z.string().check(z.minLength(1), z.maxLength(512)),
  /** The configured identity claim's value (verified), lower-cased; absent when the provider gave none. */
  identity: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  /** Epoch seconds. */
  authTime: z.int().check(z.gte(0)),
  /** The link the session was made for, when it serves one decision only. */
  linkId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
}));
export type Session = z.infer<typeof SessionSchema>;

type Purpose = 'sign-in' | 'session';

function sealingKey(secret: Uint8Array, purpose: Purpose): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), `modelgate review ${purpose} cookie v1`, 32));
}

async function seal(ring: KeyRing, purpose: Purpose, payload: Record<string, unknown>, nowSeconds: number, lifetimeSeconds: number): Promise<string> {
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: ring.current.kid })
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + lifetimeSeconds)
    .encrypt(sealingKey(ring.current.secret, purpose));
}

/** The payload of a sealed cookie, or undefined when it is absent, forged, expired or sealed under a key the ring no longer holds. */
async function unseal<T>(ring: KeyRing, purpose: Purpose, value: string | undefined, nowSeconds: number, schema: z.ZodMiniType<T>): Promise<T | undefined> {
  if (!value || value.length > 4096) return undefined;
  for (const key of [ring.current, ring.previous]) {
    if (!key) continue;
    try {
      const { payload } = await jwtDecrypt(value, sealingKey(key.secret, purpose), { currentDate: new Date(nowSeconds * 1000), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      const parsed = schema.safeParse(payload);
      return parsed.success ? parsed.data : undefined;
    } catch {
      // Another key may have sealed it; a forged or expired value fails under every key.
    }
  }
  return undefined;
}

export const sealSignInAttempt = (ring: KeyRing, attempt: SignInAttempt, nowSeconds: number) => seal(ring, 'sign-in', attempt, nowSeconds, SIGN_IN_ATTEMPT_SECONDS);
export const openSignInAttempt = (ring: KeyRing, value: string | undefined, nowSeconds: number) => unseal(ring, 'sign-in', value, nowSeconds, SignInAttemptSchema);

/** The session lives as long as it may serve a vote. */
export function sessionLifetimeSeconds(session: Session, maxAgeMinutes: number, nowSeconds: number): number {
  const window = maxAgeMinutes > 0 ? maxAgeMinutes * 60 : DECISION_WINDOW_SECONDS;
  return Math.max(1, session.authTime + window - nowSeconds);
}
export const sealSession = (ring: KeyRing, session: Session, nowSeconds: number, lifetimeSeconds: number) => seal(ring, 'session', session, nowSeconds, lifetimeSeconds);
export const openSession = (ring: KeyRing, value: string | undefined, nowSeconds: number) => unseal(ring, 'session', value, nowSeconds, SessionSchema);

/** A `Set-Cookie` value for one of the two cookies; `undefined` clears it. */
export function cookieHeader(name: typeof SIGN_IN_COOKIE | typeof SESSION_COOKIE, value: string | undefined, maxAgeSeconds = 0): string {
  const attributes = 'Path=/; HttpOnly; Secure; SameSite=Lax';
  return value === undefined ? `${name}=; Max-Age=0; ${attributes}` : `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${attributes}`;
}

/** One cookie's value from a request's cookies (API Gateway's `cookies` array, or a `Cookie` header split on `;`). */
export function cookieValue(cookies: readonly string[] | undefined, name: string): string | undefined {
  for (const c of cookies ?? []) {
    for (const part of c.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export type SessionVerdict =
  | { ok: true; session: Session }
  | { ok: false; reason: 'no-session' | 'too-old' | 'other-link' }
  | { ok: false; reason: 'wrong-identity'; session: Session };

/**
 * Whether a session may vote on a link: it must be the link's reviewer (by the identity claim,
 * case-insensitive), its authentication no older than the policy allows (by default, the
 * decision window after a sign-in made for this very link).
 */
export function sessionMayVote(session: Session | undefined, link: { id: string; reviewer: string }, maxAgeMinutes: number, nowSeconds: number): SessionVerdict {
  if (!session) return { ok: false, reason: 'no-session' };
  if (session.identity?.toLowerCase() !== link.reviewer.toLowerCase()) return { ok: false, reason: 'wrong-identity', session };
  if (maxAgeMinutes === 0 && session.linkId !== link.id) return { ok: false, reason: 'other-link' };
  const window = maxAgeMinutes > 0 ? maxAgeMinutes * 60 : DECISION_WINDOW_SECONDS;
  if (nowSeconds - session.authTime > window) return { ok: false, reason: 'too-old' };
  return { ok: true, session };
}

/**
 * The identity a provider's claims give, or undefined: the configured claim; for `email` only
 * when `email_verified` is true (an unverified address proves nothing about who signed in).
 */
export function identityFromClaims(claims: Record<string, unknown>, claim: string): string | undefined {
  const value = claims[claim];
  if (typeof value !== 'string' || value === '') return undefined;
  if (claim === 'email' && claims['email_verified'] !== true) return undefined;
  return value.toLowerCase();
}
