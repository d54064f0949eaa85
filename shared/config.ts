import * as z from './schemas/zod.js';

/** An empty variable is an absent one (serverless.yml writes '' for a stage that has none). */
// (classic zod's `z.preprocess(fn, schema)` is this pipe: zod/mini has no `preprocess`.)
const blankIsAbsent = () => z.transform((v: unknown) => (v === '' ? undefined : v));
const optionalSetting = /* @__PURE__ */ z.schema(() => z.pipe(blankIsAbsent(), z.optional(z.string().check(z.minLength(1)))));

/**
 * The organisation on every page and message (serverless.yml params organisationName and
 * organisationContact). Only the functions that render pages or send messages are given them, so
 * absent is allowed here; given but empty or malformed fails the cold start with the variable's
 * name, because a page or message without a trustworthy sender would look like phishing.
 */
const organisationName = /* @__PURE__ */ z.schema(() => z.optional(z.string().check(z.trim(), z.minLength(1, 'is empty: set the stage parameter organisationName'), z.maxLength(120))));
const organisationContact = /* @__PURE__ */ z.schema(() => z.optional(
  z
    .string()
    .check(
      z.trim(),
      z.minLength(1, 'is empty: set the stage parameter organisationContact'),
      z.maxLength(254),
      z.refine((v) => z.email().safeParse(v).success || z.url({ protocol: /^https?$/ }).safeParse(v).success, 'must be an email address or an http(s) URL'),
    ),
));

/**
 * The environment, read and checked once per cold start. A missing or malformed variable fails
 * the cold start with its name, rather than a later call with an obscure error.
 */
const EnvSchema = /* @__PURE__ */ z.schema(() => z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  REVIEWERS_TOPIC_ARN: z.string().check(z.minLength(1)),
  GOVERNANCE_TOPIC_ARN: z.string().check(z.minLength(1)),
  REVIEW_BASE_URL: z.url(),
  STAGE: z._default(z.string().check(z.minLength(1)), 'local'),
  /** SSM SecureString holding the review links' signing keys; only stage `local` may go without. */
  REVIEW_SIGNING_KEY_PARAMETER: z.pipe(blankIsAbsent(), z.optional(z.string().check(z.minLength(1)))),
  // The audit log's functions (shared/audit-wiring.ts). Optional here, because no other function
  // has them; the function that uses one asks for it with `requiredSetting`, which names it.
  /** KMS key (id, ARN or alias) that signs checkpoints; every stage but `local`. */
  CHECKPOINT_KEY_ID: optionalSetting,
  /** Stage `local`: the PEM file of the local checkpoint key (created when absent). */
  CHECKPOINT_KEY_FILE: optionalSetting,
  /** The checkpoint bucket (S3 Object Lock, compliance mode). */
  AUDIT_BUCKET: optionalSetting,
  /** Where exportAuditTrail writes, off stage `local`. */
  AUDIT_EXPORT_BUCKET: optionalSetting,
  /** Stage `local`: the folder exportAuditTrail writes into. */
  AUDIT_EXPORT_DIR: optionalSetting,
  // The review function's sign-in (shared/sign-in-wiring.ts). `link`: the signed link alone votes.
  REVIEW_AUTH: z.pipe(blankIsAbsent(), z._default(z.enum(['oidc', 'link']), 'link')),
  /** The organisation's OpenID provider (its issuer URL), its client id for the review page, and the SSM SecureString holding the client secret. */
  OIDC_ISSUER: optionalSetting,
  OIDC_CLIENT_ID: optionalSetting,
  OIDC_CLIENT_SECRET_PARAMETER: optionalSetting,
  /** Stage `local` only: the local provider's client secret, given directly (it guards nothing). */
  OIDC_CLIENT_SECRET: optionalSetting,
  /** The ID token claim that names the reviewer; `email` counts only with `email_verified`. */
  OIDC_IDENTITY_CLAIM: z.pipe(blankIsAbsent(), z._default(z.string().check(z.minLength(1), z.maxLength(64)), 'email')),
  /** SSM SecureString holding the key ring that seals the sign-in and session cookies (like the link keys); only stage `local` may go without. */
  SESSION_KEY_PARAMETER: optionalSetting,
  /** Who sends the pages and messages, and whom a reviewer asks about one (shared/domain/organisation.ts). */
  ORGANISATION_NAME: organisationName,
  ORGANISATION_CONTACT: organisationContact,
}));
export type Config = z.infer<typeof EnvSchema>;

/** The settings that only some functions need. */
export type OptionalSetting =
  | 'CHECKPOINT_KEY_ID'
  | 'CHECKPOINT_KEY_FILE'
  | 'AUDIT_BUCKET'
  | 'AUDIT_EXPORT_BUCKET'
  | 'AUDIT_EXPORT_DIR'
  | 'OIDC_ISSUER'
  | 'OIDC_CLIENT_ID'
  | 'OIDC_CLIENT_SECRET_PARAMETER'
  | 'OIDC_CLIENT_SECRET'
  | 'SESSION_KEY_PARAMETER'
  | 'ORGANISATION_NAME'
  | 'ORGANISATION_CONTACT';

/** An optional setting that the calling function needs: missing, it fails with the variable's name. */
export function requiredSetting(name: OptionalSetting, cfg: Config = config()): string {
  const value = cfg[name];
  if (value === undefined) throw new Error(`modelgate configuration is invalid: ${name} is required by this function (stage ${cfg.STAGE})`);
  return value;
}

let cached: Config | undefined;

export function config(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && env === process.env) return cached;
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`modelgate configuration is invalid: ${problems}`);
  }
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}
