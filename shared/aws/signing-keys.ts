import { createHash } from 'node:crypto';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import * as z from '../schemas/zod.js';
import { ssmClient } from './clients/ssm.js';
import { KID_PATTERN, MIN_SECRET_BYTES, type KeyRing, type SigningKey } from '../domain/token.js';
import type { SigningKeys } from '../ports.js';

/**
 * The review-link signing keys (README "Reviews"): from an SSM Parameter Store SecureString, read
 * through Powertools parameters and cached for `maxAgeSeconds` (300 by default), so a warm Lambda
 * reads SSM at most once per five minutes and a rotation reaches every instance within that time.
 *
 * The parameter holds JSON; `previous` is optional:
 *
 *   {"current":{"kid":"2026-11","secret":"<base64, >= 32 bytes>"},
 *    "previous":{"kid":"2026-08","secret":"<base64>"}}
 *
 * Create it (once per stage):
 *
 *   aws ssm put-parameter --type SecureString --name /modelgate/prod/review-signing-keys \
 *     --value "{\"current\":{\"kid\":\"2026-11\",\"secret\":\"$(openssl rand -base64 32)\"}}"
 *
 * Rotate it: move `current` to `previous`, put a new `current`, and write it back with
 * `aws ssm put-parameter --type SecureString --overwrite --name … --value '…'` (build the JSON in a
 * file, or with jq, rather than on a shared terminal's history). New links are signed with the new
 * key at once (within maxAge); links signed with the old key keep verifying until they expire. Drop
 * `previous` only after the longest review lifetime (policy `reviewLifetimeHours`, at most 30 days)
 * has passed since the rotation: from then on, a link signed with it is refused as `unknown-key`.
 *
 * IAM: `ssm:GetParameter` on the parameter's ARN, plus `kms:Decrypt` on its key when the
 * SecureString uses a customer-managed KMS key (the AWS-managed `aws/ssm` key needs no grant).
 *
 * Never log the value, a secret, or an error's `cause` from here: errors name the parameter and the
 * problem only.
 */

export const DEFAULT_MAX_AGE_SECONDS = 300;

/**
 * Stage `local` only, when no parameter is configured. The secret is sha256 of a constant written
 * right here: it is PUBLIC, so a link signed with it proves nothing outside a developer's machine.
 * `signingKeys` refuses to use it for any other stage.
 */
export const LOCAL_KEY_RING: KeyRing = Object.freeze({
  current: Object.freeze({
    kid: 'local',
    secret: new Uint8Array(createHash('sha256').update('modelgate local review-link signing key (public, local only)').digest()),
  }),
});

const Base64 = /^[A-Za-z0-9+/]+={0,2}$/;

const KeySchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  kid: z.string().check(z.regex(KID_PATTERN, `kid must match ${KID_PATTERN.source}`)),
  // The message names the rule, never the value (zod's own messages for a regex do not echo it either).
  secret: z.string().check(
    z.regex(Base64, 'secret must be base64'),
    z.refine((s) => s.length % 4 === 0 && Buffer.from(s, 'base64').byteLength >= MIN_SECRET_BYTES, {
      message: `secret must decode to at least ${MIN_SECRET_BYTES} bytes`,
    }),
  ),
}));

const RingSchema = /* @__PURE__ */ z.schema(() => z.strictObject({ current: KeySchema, previous: z.optional(KeySchema) }).check(
  z.refine((r) => r.previous === undefined || r.previous.kid !== r.current.kid, {
    message: 'previous.kid must differ from current.kid',
    path: ['previous', 'kid'],
  }),
));

export function signingKeys(opts: { parameterName?: string; stage: string; maxAgeSeconds?: number }): SigningKeys {
  const { parameterName, stage } = opts;
  if (!parameterName) {
    if (stage !== 'local') {
      throw new Error(`the signing-key parameter is required outside stage local (stage ${stage})`);
    }
    return { keyRing: async () => LOCAL_KEY_RING };
  }
  const maxAge = opts.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  // A provider of our own rather than the module-level one behind `getParameter`: that provider's
  // cache key is the name and the transform, not `decrypt`, so anyone in the process reading this
  // name without decryption would leave the ciphertext in the cache for us to read. Created here,
  // once per cold start (callers keep the returned object), over the process's one SSM client
  // (default config, so that AWS_REGION and AWS_ENDPOINT_URL_SSM apply; traced).
  const provider = new SSMProvider({ awsSdkV3Client: ssmClient() });
  // The cache holds the raw string; the decoded ring is kept beside it so that a cached read does
  // not parse and decode again.
  let last: { raw: string; ring: KeyRing } | undefined;

  return {
    async keyRing() {
      let raw: string;
      try {
        raw = await provider.get(parameterName, { decrypt: true, maxAge, throwOnMissing: true });
      } catch (e) {
        // Powertools wraps the SDK's error (AccessDenied, ParameterNotFound, throttling): its message
        // names the parameter or the principal, never the value. Rethrown, so the invocation is retried.
        const reason = e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error';
        throw new Error(`cannot read the signing-key parameter ${parameterName}: ${reason}`, { cause: e });
      }
      if (last?.raw === raw) return last.ring;
      const ring = parseKeyRing(parameterName, raw);
      last = { raw, ring };
      return ring;
    },
  };
}

/** Validates the parameter's value. Throws an Error that names the parameter and the problem, never the value. */
export function parseKeyRing(parameterName: string, raw: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(raw) as unknown;
  } catch {
    // JSON.parse's own message quotes the text around the error: it is not passed on.
    throw new Error(`signing-key parameter ${parameterName} is not valid JSON`);
  }
  const parsed = RingSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${describe(i)}`);
    throw new Error(`signing-key parameter ${parameterName} is invalid: ${problems.join('; ')}`);
  }
  const key = (k: z.infer<typeof KeySchema>): SigningKey => ({ kid: k.kid, secret: new Uint8Array(Buffer.from(k.secret, 'base64')) });
  const { current, previous } = parsed.data;
  return previous ? { current: key(current), previous: key(previous) } : { current: key(current) };
}

// zod 4 puts received values into some messages (e.g. `unrecognized_keys` lists keys, `invalid_value`
// lists options); only the issue code and our own messages are safe to repeat.
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom' || issue.code === 'invalid_format') return issue.message;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'unrecognized_keys') return 'unexpected field';
  return issue.code;
}
