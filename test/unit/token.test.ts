/**
 * The signed review token (shared/domain/token.ts): round trips, tampering, keys, rotation,
 * expiry and malformed input, mostly as fast-check properties.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  MAX_TOKEN_LENGTH,
  reviewerHash,
  signReviewToken,
  verifyReviewToken,
  type KeyRing,
  type ReviewTokenClaims,
  type SigningKey,
  type TokenRefusal,
} from '../../shared/domain/token.js';

const secretOf = (fill: string): Uint8Array => new Uint8Array(Buffer.from(fill.repeat(32).slice(0, 32), 'latin1'));
const CURRENT: SigningKey = { kid: '2026-11', secret: secretOf('current-key ') };
const PREVIOUS: SigningKey = { kid: '2026-08', secret: secretOf('previous-key ') };
const RING: KeyRing = { current: CURRENT, previous: PREVIOUS };

const CLAIMS: ReviewTokenClaims = {
  linkId: 'Qm9uam91ciBsZXMgYW1pcw',
  reviewId: 'c2lnbmVkLXJldmlldy1pZA',
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/12',
  version: 12,
  reviewer: 'Jane.Doe@example.com',
  expiresAt: Date.parse('2026-11-30T09:44:02Z') / 1000,
};
const NOW = CLAIMS.expiresAt - 3600;

const BASE64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// ---- arbitraries -------------------------------------------------------------------------------

const secretArb = fc.uint8Array({ minLength: 32, maxLength: 64 });
const kidArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
const idArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), // shared/wiring.ts newId()
  fc.uuid(),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }), // anything, JSON escapes it
);
const groupArb = fc.stringMatching(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
const regionArb = fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1');
const partitionArb = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov');
const accountArb = fc.stringMatching(/^\d{12}$/);
const versionArb = fc.integer({ min: 1, max: 1_000_000 });
const expiresAtArb = fc.integer({ min: 1, max: 1e11 - 1 });

const claimsArb: fc.Arbitrary<ReviewTokenClaims> = fc
  .record({
    linkId: idArb,
    reviewId: idArb,
    partition: partitionArb,
    region: regionArb,
    account: accountArb,
    group: groupArb,
    version: versionArb,
    reviewer: fc.emailAddress(),
    expiresAt: expiresAtArb,
  })
  .map(({ partition, region, account, group, ...c }) => ({
    ...c,
    modelPackageArn: `arn:${partition}:sagemaker:${region}:${account}:model-package/${group}/${c.version}`,
  }));

/** Claims with a `now` strictly before their expiry. */
const liveArb = claimsArb.chain((claims) =>
  fc.record({ claims: fc.constant(claims), now: fc.integer({ min: 0, max: claims.expiresAt - 1 }) }),
);

// ---- helpers -----------------------------------------------------------------------------------

function parts(token: string): [string, string, string, string] {
  const p = token.split('.');
  expect(p).toHaveLength(4);
  return p as [string, string, string, string];
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(parts(token)[2], 'base64url').toString('utf8')) as Record<string, unknown>;
}

const encode = (payload: unknown): string => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');

/** A token with any payload text, signed like the module signs (to reach the checks after the MAC). */
function forge(key: SigningKey, payloadText: string): string {
  const signed = `v1.${key.kid}.${Buffer.from(payloadText, 'utf8').toString('base64url')}`;
  return `${signed}.${createHmac('sha256', key.secret).update(signed).digest('base64url')}`;
}

const refusal = (token: string, ring: KeyRing = RING, now = NOW): TokenRefusal | 'ok' => {
  const r = verifyReviewToken(token, ring, now);
  return r.ok ? 'ok' : r.reason;
};

function replaceAt(s: string, i: number, c: string): string {
  return s.slice(0, i) + c + s.slice(i + 1);
}

// ---- tests -------------------------------------------------------------------------------------

describe('reviewerHash', () => {
  it('is the first 32 hex characters of sha256 of the trimmed, lowercased email', () => {
    // printf 'jane.doe@example.com' | sha256sum
    expect(reviewerHash('jane.doe@example.com')).toBe('86e0b9e56c17cc4d12387e1949b85053');
    expect(reviewerHash('  Jane.Doe@Example.COM ')).toBe('86e0b9e56c17cc4d12387e1949b85053');
    expect(reviewerHash('jane.doe@example.com')).toMatch(/^[0-9a-f]{32}$/);
    expect(reviewerHash('jane.doe@example.com')).not.toBe(reviewerHash('john.doe@example.com'));
  });
});

describe('signReviewToken', () => {
  it('writes v1.<kid>.<payload>.<43-character signature>, URL-safe, without padding', () => {
    const token = signReviewToken(CLAIMS, CURRENT);
    const [version, kid, payload, signature] = parts(token);
    expect(version).toBe('v1');
    expect(kid).toBe('2026-11');
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('carries the claims under short keys in a fixed order, and the reviewer only as a hash', () => {
    const token = signReviewToken(CLAIMS, CURRENT);
    const payload = decodePayload(token);
    expect(Object.keys(payload)).toEqual(['l', 'r', 'p', 'v', 'u', 'x']);
    expect(payload).toEqual({
      l: CLAIMS.linkId,
      r: CLAIMS.reviewId,
      p: CLAIMS.modelPackageArn,
      v: 12,
      u: reviewerHash('jane.doe@example.com'),
      x: CLAIMS.expiresAt,
    });
    const decoded = Buffer.from(parts(token)[2], 'base64url').toString('utf8').toLowerCase();
    expect(decoded).not.toContain('jane');
    expect(decoded).not.toContain('example.com');
  });

  it('stays well under 600 characters for a realistic claim', () => {
    const token = signReviewToken(
      {
        linkId: 'k3J9x2QvT1mB8sLw0aZyPg',
        reviewId: 'Hq7vN2cR5tYb1LmK9pXs4w',
        modelPackageArn: 'arn:aws:sagemaker:eu-central-1:123456789012:model-package/credit-risk-scoring-xgboost-prod/1234',
        version: 1234,
        reviewer: 'firstname.lastname@department.example-corporation.com',
        expiresAt: 4_102_444_800,
      },
      CURRENT,
    );
    expect(token.length).toBeLessThan(600);
    expect(token.length).toBeLessThan(400);
  });

  it('is deterministic: the same claims and key give the same token', () => {
    expect(signReviewToken(CLAIMS, CURRENT)).toBe(signReviewToken({ ...CLAIMS }, CURRENT));
  });

  it('refuses claims that could never verify, naming the claim but not its value', () => {
    const bad: Array<[Partial<ReviewTokenClaims>, string]> = [
      [{ expiresAt: CLAIMS.expiresAt * 1000 }, 'expiresAt'], // milliseconds by mistake
      [{ expiresAt: 1.5 }, 'expiresAt'],
      [{ version: 0 }, 'version'],
      [{ version: 2.5 }, 'version'],
      [{ modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/secret-job' }, 'modelPackageArn'],
      [{ linkId: '' }, 'linkId'],
    ];
    for (const [patch, field] of bad) {
      const attempt = (): string => signReviewToken({ ...CLAIMS, ...patch }, CURRENT);
      expect(attempt).toThrow(field);
      try {
        attempt();
      } catch (e) {
        const message = (e as Error).message;
        expect(message).not.toContain('secret-job');
        expect(message).not.toContain(String(CLAIMS.expiresAt * 1000));
        expect(message).not.toContain('Jane');
      }
    }
  });

  it('refuses a key with a short secret or a kid that does not fit in a link', () => {
    expect(() => signReviewToken(CLAIMS, { kid: 'k', secret: new Uint8Array(31) })).toThrow('at least 32 bytes');
    expect(() => signReviewToken(CLAIMS, { kid: 'a.b', secret: CURRENT.secret })).toThrow('key id');
    expect(() => signReviewToken(CLAIMS, { kid: 'x'.repeat(33), secret: CURRENT.secret })).toThrow('key id');
  });

  it(`refuses to mint a token longer than ${MAX_TOKEN_LENGTH} characters`, () => {
    // Every claim within its own limit, the whole too long: 128 three-byte characters per id.
    const arn = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${'g'.repeat(900)}/1`;
    const long = { ...CLAIMS, modelPackageArn: arn, linkId: '\u20ac'.repeat(128), reviewId: '\u20ac'.repeat(128) };
    expect(() => signReviewToken(long, CURRENT)).toThrow(`over ${MAX_TOKEN_LENGTH}`);
  });
});

describe('verifyReviewToken', () => {
  it('round trip: any claims verify, identical, with the reviewer replaced by its hash and the kid added', () => {
    fc.assert(
      fc.property(liveArb, secretArb, kidArb, ({ claims, now }, secret, kid) => {
        const key = { kid, secret };
        const result = verifyReviewToken(signReviewToken(claims, key), { current: key }, now);
        const { reviewer, ...rest } = claims;
        expect(result).toEqual({ ok: true, claims: { ...rest, reviewerHash: reviewerHash(reviewer), kid } });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every token in which any single character of the kid, payload or signature was replaced', () => {
    const replacement = fc.constantFrom(...BASE64URL_CHARS, '.', '=', '+', '/', ' ', '%', 'é', '\u0000');
    fc.assert(
      fc.property(liveArb, fc.constantFrom(1 as const, 2 as const, 3 as const), fc.nat(), replacement, ({ claims, now }, part, pos, c) => {
        const token = signReviewToken(claims, CURRENT);
        const p = parts(token);
        const i = pos % p[part].length;
        fc.pre(p[part][i] !== c);
        p[part] = replaceAt(p[part], i, c);
        const r = verifyReviewToken(p.join('.'), RING, now);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(['malformed', 'bad-signature', 'unknown-key']).toContain(r.reason);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every token with one character deleted or inserted anywhere', () => {
    fc.assert(
      fc.property(liveArb, fc.nat(), fc.boolean(), fc.constantFrom(...BASE64URL_CHARS, '.'), ({ claims, now }, pos, insert, c) => {
        const token = signReviewToken(claims, CURRENT);
        const i = pos % token.length;
        const changed = insert ? token.slice(0, i) + c + token.slice(i) : token.slice(0, i) + token.slice(i + 1);
        expect(verifyReviewToken(changed, RING, now).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a signature whose last character differs only in the bits base64 leaves unused', () => {
    const token = signReviewToken(CLAIMS, CURRENT);
    const p = parts(token);
    const last = BASE64URL_CHARS.indexOf(p[3].slice(-1));
    // 43 characters carry 258 bits for 256: the low 2 bits of the last one are padding.
    const sibling = BASE64URL_CHARS[last ^ 1] ?? 'A';
    p[3] = p[3].slice(0, -1) + sibling;
    expect(Buffer.from(p[3], 'base64url')).toEqual(Buffer.from(parts(token)[3], 'base64url'));
    expect(refusal(p.join('.'))).toBe('bad-signature');
  });

  it('refuses a re-encoded payload with other claims under the original signature as bad-signature', () => {
    const tamperings: Array<(p: Record<string, unknown>) => Record<string, unknown>> = [
      (p) => ({ ...p, v: (p.v as number) + 1 }),
      (p) => ({ ...p, p: 'arn:aws:sagemaker:us-east-1:999999999999:model-package/other-group/1' }),
      (p) => ({ ...p, u: reviewerHash('mallory@example.com') }),
      (p) => ({ ...p, x: (p.x as number) + 86_400 }),
      (p) => ({ ...p, l: 'another-link-id' }),
      (p) => ({ ...p, r: 'another-review-id' }),
      (p) => ({ x: p.x, v: p.v, u: p.u, p: p.p, r: p.r, l: p.l }), // same claims, other key order
    ];
    fc.assert(
      fc.property(liveArb, fc.constantFrom(...tamperings), ({ claims, now }, tamper) => {
        const p = parts(signReviewToken(claims, CURRENT));
        p[2] = encode(tamper(decodePayload(p.join('.'))));
        expect(refusal(p.join('.'), RING, now)).toBe('bad-signature');
      }),
      { numRuns: 300 },
    );
  });

  it('never verifies a token under another secret, even with the same kid', () => {
    fc.assert(
      fc.property(liveArb, kidArb, secretArb, secretArb, ({ claims, now }, kid, a, b) => {
        fc.pre(!Buffer.from(a).equals(Buffer.from(b)));
        const token = signReviewToken(claims, { kid, secret: a });
        expect(refusal(token, { current: { kid, secret: b } }, now)).toBe('bad-signature');
        expect(refusal(token, { current: { kid: 'other', secret: b }, previous: { kid, secret: b } }, now)).toBe('bad-signature');
      }),
      { numRuns: 200 },
    );
  });

  it('signs the kid: a token relabelled to another kid of the ring is refused, even when both kids share a secret', () => {
    fc.assert(
      fc.property(liveArb, ({ claims, now }) => {
        const shared: KeyRing = { current: { kid: 'new', secret: CURRENT.secret }, previous: { kid: 'old', secret: CURRENT.secret } };
        const p = parts(signReviewToken(claims, shared.current));
        expect(refusal(p.join('.'), shared, now)).toBe('ok');
        p[1] = 'old';
        expect(refusal(p.join('.'), shared, now)).toBe('bad-signature');
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a kid that is in neither slot of the ring as unknown-key', () => {
    fc.assert(
      fc.property(liveArb, kidArb, ({ claims, now }, kid) => {
        fc.pre(kid !== CURRENT.kid && kid !== PREVIOUS.kid);
        // Signed with the right secret, under a kid the ring does not hold: the kid decides.
        const token = signReviewToken(claims, { kid, secret: CURRENT.secret });
        expect(refusal(token, RING, now)).toBe('unknown-key');
      }),
    );
  });

  it('rotation: a token signed with the previous key verifies until previous is dropped', () => {
    const token = signReviewToken(CLAIMS, PREVIOUS);
    const before = verifyReviewToken(token, { current: CURRENT, previous: PREVIOUS }, NOW);
    expect(before.ok && before.claims.kid).toBe('2026-08');
    const rotatedAgain: KeyRing = { current: { kid: '2027-02', secret: secretOf('next-key ') }, previous: CURRENT };
    expect(refusal(token, rotatedAgain)).toBe('unknown-key');
    expect(refusal(token, { current: CURRENT })).toBe('unknown-key');
    // The key that is current now keeps working after the next rotation, as `previous`.
    expect(refusal(signReviewToken(CLAIMS, CURRENT), rotatedAgain)).toBe('ok');
  });

  describe('expiry (epoch seconds, valid while now < expiresAt)', () => {
    const token = signReviewToken(CLAIMS, CURRENT);
    it('accepts one second before expiresAt', () => expect(refusal(token, RING, CLAIMS.expiresAt - 1)).toBe('ok'));
    it('refuses at expiresAt', () => expect(refusal(token, RING, CLAIMS.expiresAt)).toBe('expired'));
    it('refuses one second after expiresAt', () => expect(refusal(token, RING, CLAIMS.expiresAt + 1)).toBe('expired'));
    it('refuses a second-fraction past expiresAt', () => expect(refusal(token, RING, CLAIMS.expiresAt + 0.001)).toBe('expired'));

    it('ok exactly when now < expiresAt, expired otherwise, for any expiry and now', () => {
      // Half the time `now` lands within two seconds of the expiry, where an off-by-one would show.
      const around = (x: number): fc.Arbitrary<number> =>
        fc.oneof(fc.integer({ min: 0, max: 1e11 + 10 }), fc.integer({ min: -2, max: 2 }).map((d) => Math.max(0, x + d)));
      fc.assert(
        fc.property(expiresAtArb.chain((x) => fc.tuple(fc.constant(x), around(x))), ([expiresAt, now]) => {
          const t = signReviewToken({ ...CLAIMS, expiresAt }, CURRENT);
          expect(refusal(t, RING, now)).toBe(now < expiresAt ? 'ok' : 'expired');
        }),
        { numRuns: 500 },
      );
    });

    it('checks the signature before the expiry: a tampered, expired token is a bad signature', () => {
      const p = parts(token);
      p[2] = encode({ ...decodePayload(token), x: CLAIMS.expiresAt + 86_400 });
      expect(refusal(p.join('.'), RING, CLAIMS.expiresAt + 10)).toBe('bad-signature');
    });
  });

  describe('malformed input', () => {
    const valid = signReviewToken(CLAIMS, CURRENT);
    const [, , payload, signature] = parts(valid);
    const cases: Array<[string, string]> = [
      ['empty', ''],
      ['huge', 'v1.2026-11.' + 'A'.repeat(MAX_TOKEN_LENGTH) + '.' + signature],
      ['a megabyte', 'x'.repeat(1_000_000)],
      ['wrong version prefix', valid.replace(/^v1\./, 'v2.')],
      ['no version prefix', valid.slice(3)],
      ['3 parts', `v1.2026-11.${payload}`],
      ['5 parts', `${valid}.extra`],
      ['an empty part', `v1..${payload}.${signature}`],
      ['padding in the payload', `v1.2026-11.${payload}=.${signature}`],
      ['standard base64 characters', `v1.2026-11.${payload.replace(/[-_]/g, '+')}+/.${signature}`],
      ['spaces', `v1.2026-11.${payload} .${signature}`],
      ['a short signature', `v1.2026-11.${payload}.${signature.slice(0, 42)}`],
      ['a long signature', `v1.2026-11.${payload}.${signature}A`],
      ['a kid that cannot be one', `v1.${'k'.repeat(33)}.${payload}.${signature}`],
      ['percent-encoding', encodeURIComponent(`${valid}/`)],
      ['a payload of 4n+1 base64 characters', `v1.2026-11.${payload.length % 4 === 1 ? payload : 'A'.repeat(4 * 10 + 1)}.${signature}`],
    ];
    it.each(cases)('refuses %s as malformed', (_name, token) => {
      expect(refusal(token)).toBe('malformed');
    });

    it('refuses values that are not strings as malformed, without throwing', () => {
      for (const value of [undefined, null, 42, {}, ['v1', 'a', 'b', 'c'], Symbol('t')]) {
        expect(refusal(value as unknown as string)).toBe('malformed');
      }
    });

    it('never throws and never accepts an arbitrary string', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (s) => {
          const r = verifyReviewToken(s, RING, NOW);
          expect(r.ok).toBe(false);
          if (!s.startsWith('v1.') || s.split('.').length !== 4) expect(r).toEqual({ ok: false, reason: 'malformed' });
        }),
        { numRuns: 1000 },
      );
    });

    it('never accepts a well-shaped token it did not sign', () => {
      const sig = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
      const body = fc.stringMatching(/^[A-Za-z0-9_-]{2,400}$/);
      fc.assert(
        fc.property(fc.constantFrom(CURRENT.kid, PREVIOUS.kid), body, sig, (kid, p, s) => {
          expect(refusal(`v1.${kid}.${p}.${s}`)).toBe(p.length % 4 === 1 ? 'malformed' : 'bad-signature');
        }),
      );
    });

    it('reads the payload only after the signature holds: a signed payload that fails the schema is malformed', () => {
      const good = decodePayload(valid);
      const signedButWrong: Array<[string, string]> = [
        ['not JSON', 'l=a&r=b'],
        ['a JSON array', JSON.stringify(Object.values(good))],
        ['version 0', JSON.stringify({ ...good, v: 0 })],
        ['a fractional version', JSON.stringify({ ...good, v: 1.5 })],
        ['a string version', JSON.stringify({ ...good, v: '12' })],
        ['an ARN of another resource', JSON.stringify({ ...good, p: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/x' })],
        ['a reviewer in clear', JSON.stringify({ ...good, u: 'jane.doe@example.com' })],
        ['an uppercase hash', JSON.stringify({ ...good, u: String(good.u).toUpperCase() })],
        ['a millisecond expiry', JSON.stringify({ ...good, x: CLAIMS.expiresAt * 1000 })],
        ['a fractional expiry', JSON.stringify({ ...good, x: CLAIMS.expiresAt + 0.5 })],
        ['a missing claim', JSON.stringify({ ...good, l: undefined })],
        ['an extra claim', JSON.stringify({ ...good, admin: true })],
      ];
      for (const [name, text] of signedButWrong) {
        expect([name, refusal(forge(CURRENT, text))]).toEqual([name, 'malformed']);
        // The same payload, signed with a secret the ring does not hold: the signature decides first.
        expect([name, refusal(forge({ kid: CURRENT.kid, secret: PREVIOUS.secret }, text))]).toEqual([name, 'bad-signature']);
        // And under a kid it does not know, the kid decides before both.
        expect([name, refusal(forge({ kid: 'nope', secret: CURRENT.secret }, text))]).toEqual([name, 'unknown-key']);
      }
      // The forge helper signs as the module does: with the original payload it verifies.
      expect(refusal(forge(CURRENT, JSON.stringify(good)))).toBe('ok');
    });
  });

  it('never repeats the token, its payload or its signature in what it returns', () => {
    fc.assert(
      fc.property(liveArb, fc.integer({ min: -5, max: 5 }), fc.nat(), ({ claims }, skew, pos) => {
        const token = signReviewToken(claims, CURRENT);
        const [, , payload, signature] = parts(token);
        const variants = [token, replaceAt(token, pos % token.length, '~'), `${token}.x`];
        for (const t of variants) {
          const r = verifyReviewToken(t, RING, claims.expiresAt + skew);
          if (r.ok) continue;
          const text = JSON.stringify(r);
          expect(text).not.toContain(signature);
          expect(text).not.toContain(payload);
          expect(Object.keys(r)).toEqual(['ok', 'reason']);
        }
      }),
    );
  });
});
