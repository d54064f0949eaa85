import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as z from '../schemas/zod.js';

/**
 * The signed review token: the last path segment of a reviewer's personal link
 * (`https://<host>/reviews/<token>`).
 *
 *   v1.<kid>.<payload>.<signature>
 *   payload   = base64url(JSON {l, r, p, v, u, x})   keys always in this order
 *   signature = base64url(HMAC-SHA256(secret, "v1.<kid>.<payload>"))   all 32 bytes, 43 characters
 *
 * Invariants:
 * - A token binds one link id (l), one review (r), one model package ARN (p) and version (v), one
 *   reviewer (u, a hash: the email is never in the link) and one expiry (x, epoch seconds).
 * - The MAC covers the exact characters of version, kid and payload, so no character of a token
 *   can change without the token being refused; the signature is compared as its canonical
 *   base64url text, so the unused low bits of its last character cannot be flipped either.
 * - `kid` names the key, for rotation: a ring holds the current key and, for as long as links
 *   signed with it may live, the previous one. A signature verifies only under the secret that made it.
 * - Single use is NOT enforced here: it is the conditional write that consumes the link item.
 * - Verification never throws and never repeats the token, its signature or a secret in what it returns.
 *
 * Keep this module pure: node:crypto and zod only, no AWS, no clock (the caller passes `nowSeconds`).
 */

export interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

export interface KeyRing {
  current: SigningKey;
  previous?: SigningKey;
}

export interface ReviewTokenClaims {
  linkId: string;
  reviewId: string;
  modelPackageArn: string;
  version: number;
  /** The reviewer's email. The token carries `reviewerHash(reviewer)`, never the address itself. */
  reviewer: string;
  /** Epoch SECONDS. The token is valid while `now < expiresAt`. */
  expiresAt: number;
}

export interface VerifiedClaims extends Omit<ReviewTokenClaims, 'reviewer'> {
  reviewerHash: string;
  /** The key that signed the token: `current` or, during a rotation, `previous`. */
  kid: string;
}

export type TokenRefusal = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired';

export type TokenVerification = { ok: true; claims: VerifiedClaims } | { ok: false; reason: TokenRefusal };

export const TOKEN_VERSION = 'v1';
/** A key id: short and URL-safe, because it travels in the link. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** HMAC-SHA256 keys shorter than the hash output weaken it; 32 bytes is the floor. */
export const MIN_SECRET_BYTES = 32;
/** Anything longer is refused before any work is done on it; real tokens are a few hundred characters. */
export const MAX_TOKEN_LENGTH = 2048;

// 32 bytes in base64url without padding.
const SIGNATURE_LENGTH = 43;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// The same form as the model package ARN accepted from SageMaker's events (shared/schemas/events.ts),
// so that every version the gate records can be signed for.
const MODEL_PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/.+$/;
// Epoch seconds stay below 1e11 until the year 5138; an epoch-millisecond value (13 digits) passed by
// mistake would otherwise make a link that never expires.
const MAX_EPOCH_SECONDS = 1e11;

const ClaimFields = {
  linkId: z.string().check(z.minLength(1), z.maxLength(128)),
  reviewId: z.string().check(z.minLength(1), z.maxLength(128)),
  modelPackageArn: z.string().check(z.maxLength(1024), z.regex(MODEL_PACKAGE_ARN, 'must be a SageMaker model package ARN')),
  version: z.int().check(z.gte(1), z.lte(Number.MAX_SAFE_INTEGER)),
  reviewerHash: z.string().check(z.regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters')),
  expiresAt: z.int().check(z.gte(1), z.lt(MAX_EPOCH_SECONDS, 'must be epoch seconds, not milliseconds')),
};

/** The payload as it travels: short keys, and nothing else (a strict object). */
const PayloadSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  l: ClaimFields.linkId,
  r: ClaimFields.reviewId,
  p: ClaimFields.modelPackageArn,
  v: ClaimFields.version,
  u: ClaimFields.reviewerHash,
  x: ClaimFields.expiresAt,
}));
type Payload = z.infer<typeof PayloadSchema>;

/** sha256 hex of the trimmed, lowercased email, first 32 hex characters (128 bits). */
export function reviewerHash(reviewer: string): string {
  return createHash('sha256').update(reviewer.trim().toLowerCase(), 'utf8').digest('hex').slice(0, 32);
}

/**
 * Signs `claims` with `key`. Throws on claims or a key that could never verify (a programming or
 * configuration error, not an outcome): the same schema checks both ends, so every token this
 * returns is one that `verifyReviewToken` accepts until it expires.
 */
export function signReviewToken(claims: ReviewTokenClaims, key: SigningKey): string {
  assertUsableKey(key);
  // Fixed key order: the payload of one set of claims is always the same text.
  const payload: Payload = {
    l: claims.linkId,
    r: claims.reviewId,
    p: claims.modelPackageArn,
    v: claims.version,
    u: reviewerHash(claims.reviewer),
    x: claims.expiresAt,
  };
  const checked = PayloadSchema.safeParse(payload);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((i) => String(i.path[0] ?? '(root)')))];
    throw new Error(`cannot sign review token: invalid claims (${fields.map(claimName).join(', ')})`);
  }
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const signed = `${TOKEN_VERSION}.${key.kid}.${encoded}`;
  const token = `${signed}.${mac(key.secret, signed)}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new Error(`cannot sign review token: it would be ${token.length} characters, over ${MAX_TOKEN_LENGTH}`);
  }
  return token;
}

/**
 * Checks, in this order: shape → `malformed`; key id in the ring → `unknown-key`; signature →
 * `bad-signature`; payload (only once the signature holds) → `malformed`; `nowSeconds < expiresAt`
 * → otherwise `expired`. Never throws.
 */
export function verifyReviewToken(token: string, ring: KeyRing, nowSeconds: number): TokenVerification {
  try {
    return verify(token, ring, nowSeconds);
  } catch {
    // Unreachable by design (every step above checks before it acts); a guard for "never throws".
    return refuse('malformed');
  }
}

function verify(token: unknown, ring: KeyRing, nowSeconds: number): TokenVerification {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return refuse('malformed');
  const parts = token.split('.');
  if (parts.length !== 4) return refuse('malformed');
  const [version, kid, payload, signature] = parts as [string, string, string, string];
  if (version !== TOKEN_VERSION || !KID_PATTERN.test(kid)) return refuse('malformed');
  // A base64 text of length 4n+1 encodes nothing: not a payload this module wrote.
  if (!BASE64URL.test(payload) || payload.length % 4 === 1) return refuse('malformed');
  if (signature.length !== SIGNATURE_LENGTH || !BASE64URL.test(signature)) return refuse('malformed');

  // A ring whose two keys share a kid is refused by the adapter; here, current wins.
  const key = ring.current.kid === kid ? ring.current : ring.previous?.kid === kid ? ring.previous : undefined;
  if (!key) return refuse('unknown-key');

  // Both sides are 43 ASCII characters: equal lengths, as timingSafeEqual requires. Comparing the
  // text (not the decoded bytes) makes a non-canonical last character a bad signature.
  const expected = Buffer.from(mac(key.secret, `${version}.${kid}.${payload}`), 'ascii');
  if (!timingSafeEqual(Buffer.from(signature, 'ascii'), expected)) return refuse('bad-signature');

  const claims = PayloadSchema.safeParse(parseJson(Buffer.from(payload, 'base64url').toString('utf8')));
  if (!claims.success) return refuse('malformed');
  const c = claims.data;
  if (!(nowSeconds < c.x)) return refuse('expired');
  return {
    ok: true,
    claims: { linkId: c.l, reviewId: c.r, modelPackageArn: c.p, version: c.v, reviewerHash: c.u, expiresAt: c.x, kid },
  };
}

function mac(secret: Uint8Array, signed: string): string {
  return createHmac('sha256', secret).update(signed, 'utf8').digest('base64url');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function refuse(reason: TokenRefusal): TokenVerification {
  return { ok: false, reason };
}

function assertUsableKey(key: SigningKey): void {
  if (!KID_PATTERN.test(key.kid)) throw new Error(`signing key id must match ${KID_PATTERN.source}`);
  if (!(key.secret instanceof Uint8Array) || key.secret.byteLength < MIN_SECRET_BYTES) {
    throw new Error(`signing key ${key.kid}: the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
}

// Error messages name the claim, never its value (the ARN is not secret, but the habit is cheap).
function claimName(short: string): string {
  const names: Record<string, string> = {
    l: 'linkId',
    r: 'reviewId',
    p: 'modelPackageArn',
    v: 'version',
    u: 'reviewer',
    x: 'expiresAt',
  };
  return names[short] ?? short;
}
