import { z } from 'zod';

/**
 * The environment, read and checked once per cold start. A missing or malformed variable fails
 * the cold start with its name, rather than a later call with an obscure error.
 */
const EnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  REVIEWERS_TOPIC_ARN: z.string().min(1),
  GOVERNANCE_TOPIC_ARN: z.string().min(1),
  REVIEW_BASE_URL: z.url(),
  STAGE: z.string().min(1).default('local'),
  /** SSM SecureString holding the review links' signing keys; only stage `local` may go without. */
  REVIEW_SIGNING_KEY_PARAMETER: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
});
export type Config = z.infer<typeof EnvSchema>;

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
