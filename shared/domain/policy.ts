import canonicalize from 'canonicalize';
import * as z from '../schemas/zod.js';
import { ValidationError, describeIssues } from './errors.js';
import { operatorErrors } from './payload.js';
import { STAGE_NAME, StageNameSchema } from '../schemas/events.js';

/** Where a metric's value comes from when a version is gated. */
export const MetricSources = ['trainingJob', 'evaluationReport', 'customerMetadata'] as const;
export type MetricSource = (typeof MetricSources)[number];

export const Comparisons = ['>=', '>', '<=', '<', '=='] as const;
export type Comparison = (typeof Comparisons)[number];

// SageMaker's group-name rule: 1-63 characters, alphanumerics and hyphens, no leading hyphen.
export const GroupNameSchema = /* @__PURE__ */ z.schema(() => z
  .string()
  .check(z.regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'must be a SageMaker model package group name'), z.describe('a model package group name')));

export const MetricRuleSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  /** `validation:auc` for a training job metric; a dotted path for a report (`binary_classification_metrics.auc`). */
  metric: z.string().check(z.minLength(1), z.maxLength(255)),
  source: z.enum(MetricSources),
  comparison: z.enum(Comparisons),
  // zod 4's number already refuses Infinity and NaN.
  threshold: z.number(),
}));
export type MetricRule = z.infer<typeof MetricRuleSchema>;

/**
 * A review opens in one transaction (DynamoDB: at most 100 items) that holds the version, the
 * review, one link per reviewer, up to 20 dataset edges of the version, and, for a version that
 * came before its job, the job with up to 20 dataset edges, plus audit entries: 25 reviewers leave
 * room. Every rule's result is stored on the version and in its audit entries (400 KB per item).
 */
export const MAX_REVIEWERS = 25;
export const MAX_RULES = 50;

/**
 * The identity map's bounds. The map is stored three times per change (the current policy, the
 * policy version, the audit entry), each item under DynamoDB's 400 KB: 200 patterns of at most 512
 * characters stay near 100 KB. 512 characters hold any STS assumed-role ARN (role and session
 * names are at most 64 each) and an IAM user ARN with a long path.
 */
export const MAX_IDENTITY_PEOPLE = 50;
export const MAX_PRINCIPALS_PER_PERSON = 20;
export const MAX_IDENTITY_PATTERNS = 200;
export const MAX_PATTERN_LENGTH = 512;

// No white space or control characters: neither occurs in an ARN or a Studio profile name, and a
// stray one would make a pattern that silently matches nothing.
const PATTERN_CHARS = /^[^\s\p{C}]+$/u;
const patternSchema = /* @__PURE__ */ z.schema(() => z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(MAX_PATTERN_LENGTH, `at most ${MAX_PATTERN_LENGTH} characters`),
  z.regex(PATTERN_CHARS, 'must not contain white space or control characters'),
  // `*` alone (or `arn:*`) would make everyone this person: a typo, not a mapping.
  z.refine((p) => p.replace(/[*:]/g, '').replace(/^arn/, '') !== '', 'must name something besides wildcards'),
));

export const IdentityEntrySchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  /** IAM principal ARN patterns (`*` matches any run of characters), e.g. `arn:aws:sts::123456789012:assumed-role/DataScientist/alice@acme-bank.example`. */
  iamPrincipals: z._default(
    z
      .array(patternSchema.check(z.refine((p) => p.startsWith('arn:'), 'must be an ARN pattern (start with arn:)')))
      .check(z.maxLength(MAX_PRINCIPALS_PER_PERSON, `at most ${MAX_PRINCIPALS_PER_PERSON} patterns`)),
    [],
  ),
  /** Studio user profiles: ARNs (`arn:aws:sagemaker:…:user-profile/<domain>/<name>`) or names. */
  studioUserProfiles: z._default(
    z
      .array(
        patternSchema.check(
          z.refine(
            (p) => p.startsWith('arn:') || /^[a-zA-Z0-9*][a-zA-Z0-9*-]{0,62}$/.test(p),
            'must be a Studio user profile ARN or name',
          ),
        ),
      )
      .check(z.maxLength(MAX_PRINCIPALS_PER_PERSON, `at most ${MAX_PRINCIPALS_PER_PERSON} profiles`)),
    [],
  ),
}));
export type IdentityEntry = z.infer<typeof IdentityEntrySchema>;
/** Reviewer (or registrant, or trainer) email → the principals that are this person. */
export type IdentityMap = Record<string, IdentityEntry>;

/** The longest a policy may let one reviewer sign-in serve several decisions (`signInMaxAgeMinutes`). */
export const MAX_SIGN_IN_AGE_MINUTES = 12 * 60;

/**
 * Lifecycle stages (README, "Lifecycle stages"): at most this many sections. The documented
 * template has six stages; each section holds up to MAX_RULES rules and MAX_REVIEWERS reviewers,
 * and the policy is stored three times per change (current, version, audit entry), each item
 * under DynamoDB's 400 KB.
 */
export const MAX_STAGES = 10;

/**
 * A stage's own gate and review: a version whose ModelLifeCycle becomes `<stage>/<pendingStatus>`
 * is gated by `rules` and reviewed by `reviewers`; the review's decision sets `approvedStatus` or
 * `rejectedStatus`. The names mirror the top-level policy's.
 */
export const StageSectionSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  rules: z.array(MetricRuleSchema).check(z.minLength(1, 'a stage needs at least one metric rule'), z.maxLength(MAX_RULES, `at most ${MAX_RULES} rules`)),
  reviewers: z.array(z.email()).check(z.minLength(1, 'a stage needs at least one reviewer'), z.maxLength(MAX_REVIEWERS, `at most ${MAX_REVIEWERS} reviewers`)),
  requiredApprovals: z.int().check(z.gte(1)),
  reviewLifetimeHours: z._default(z.int().check(z.gte(1), z.lte(24 * 30)), 72),
  reminderAfterHours: z._default(z.int().check(z.gte(1), z.lte(24 * 30)), 24),
  /** The StageStatus that asks for a promotion (gated, then reviewed). */
  pendingStatus: z._default(StageNameSchema, 'PendingApproval'),
  /** The StageStatus a decision to approve sets; one set without such a decision is reverted. */
  approvedStatus: z._default(StageNameSchema, 'Approved'),
  /** The StageStatus a failed gate or a Reject sets. */
  rejectedStatus: z._default(StageNameSchema, 'Rejected'),
}));
export type StageSection = z.infer<typeof StageSectionSchema>;

/** What an operator sends to `putPolicy`. */
export const PolicyInputSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  modelPackageGroupName: GroupNameSchema,
  rules: z
    .array(MetricRuleSchema)
    .check(
      z.minLength(1, 'a policy needs at least one metric rule'),
      z.maxLength(MAX_RULES, `at most ${MAX_RULES} rules`),
      z.describe('an array of metric rules ({ metric, source, comparison, threshold })'),
    ),
  reviewers: z
    .array(z.email())
    .check(
      z.minLength(1, 'a policy needs at least one reviewer'),
      z.maxLength(MAX_REVIEWERS, `at most ${MAX_REVIEWERS} reviewers`),
      z.describe("an array of the reviewers' email addresses"),
    ),
  requiredApprovals: z.int().check(z.gte(1), z.describe('the number of distinct approvals a version needs')),
  allowSelfApproval: z._default(z.boolean(), false),
  reviewLifetimeHours: z._default(z.int().check(z.gte(1), z.lte(24 * 30)), 72),
  reminderAfterHours: z._default(z.int().check(z.gte(1), z.lte(24 * 30)), 24),
  /**
   * `reviewAuth: oidc`: how old a reviewer's sign-in may be to vote, in minutes. Absent or 0:
   * every decision needs its own sign-in, made for that link (shared/domain/sign-in.ts).
   */
  signInMaxAgeMinutes: z.optional(z.int().check(z.gte(0), z.lte(MAX_SIGN_IN_AGE_MINUTES))),
  changedBy: z.string().check(z.minLength(1), z.maxLength(256), z.describe('who makes the change (an IAM principal ARN or a name)')),
  reason: z.optional(z.string().check(z.maxLength(1024))),
  /**
   * Which principals belong to whom, for separation of duties. A person need not be a reviewer (a
   * registrant may be mapped so that the page names them). Without it, the self-approval check
   * compares names (a heuristic).
   */
  identities: z.optional(z.record(z.email(), IdentityEntrySchema)),
  /**
   * What an endpoint in service with a version of this group that modelgate has not approved
   * causes (shared/domain/deployment.ts). Absent or `notify`: a governance notice and an audit
   * entry. `follow-up`: those, and the deployment is listed by `listUnapprovedDeployments` until
   * it is approved or no longer served.
   */
  unapprovedDeployments: z.optional(z.enum(['notify', 'follow-up'])),
  /** Lifecycle stages governed by modelgate: stage name (as in ModelLifeCycle.Stage, exact case) → its section. */
  // Keys are checked with the other cross-field problems (stagesProblems), so that a bad name is
  // named with its reason even when a section fails too.
  stages: z.optional(z.record(z.string(), StageSectionSchema)),
}));
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

export interface PolicyVersion extends Omit<PolicyInput, 'changedBy' | 'reason'> {
  version: number;
  createdAt: string;
  changedBy: string;
  reason?: string;
}

export function parsePolicyInput(payload: unknown): PolicyInput {
  const parsed = PolicyInputSchema.safeParse(payload, { error: operatorErrors(PolicyInputSchema) });
  // zod skips an object's refinements once a field fails, so the checks across fields run here,
  // on whatever is readable, and every problem is named at once.
  const problems = [...(parsed.success ? [] : describeIssues(parsed.error.issues)), ...crossFieldProblems(payload)];
  if (!parsed.success || problems.length > 0) throw new ValidationError('policy', problems);
  const { identities, stages, ...data } = parsed.data;
  // An empty map is no map: the heuristic applies, and the content equals a policy without one.
  const mapped = identities && Object.keys(identities).length > 0
    ? { identities: Object.fromEntries(Object.entries(identities).map(([who, e]) => [who.toLowerCase(), e])) }
    : {};
  // No stages is the same as none (no stage is governed).
  const staged = stages && Object.keys(stages).length > 0
    ? { stages: Object.fromEntries(Object.entries(stages).map(([name, st]) => [name, { ...st, reviewers: st.reviewers.map((r) => r.toLowerCase()) }])) }
    : {};
  return { ...data, reviewers: data.reviewers.map((r) => r.toLowerCase()), ...mapped, ...staged };
}

/** The stage's section in a policy, if the policy governs that stage (own keys only: `constructor` is a legal stage name). */
export function stageSection(policy: Pick<PolicyVersion, 'stages'> | undefined, stage: string): StageSection | undefined {
  const stages = policy?.stages;
  return stages && Object.hasOwn(stages, stage) ? stages[stage] : undefined;
}

/** Who may vote on a review: the stage's reviewers for a stage review, else the policy's. */
export function reviewersFor(policy: Pick<PolicyVersion, 'reviewers' | 'stages'>, stage: string | undefined): string[] {
  return stage === undefined ? policy.reviewers : (stageSection(policy, stage)?.reviewers ?? []);
}

function crossFieldProblems(payload: unknown): string[] {
  if (payload === null || typeof payload !== 'object') return [];
  const p = payload as Record<string, unknown>;
  const problems = sectionProblems(p, '');
  problems.push(...identityProblems(p.identities));
  problems.push(...stagesProblems(p.stages));
  return problems;
}

/** The checks across fields of a section (the policy itself, or a stage's: `prefix` names it). */
function sectionProblems(p: Record<string, unknown>, prefix: string): string[] {
  const problems: string[] = [];
  const reviewers = Array.isArray(p.reviewers) ? p.reviewers.filter((r): r is string => typeof r === 'string') : [];
  const distinct = new Set(reviewers.map((r) => r.toLowerCase()));
  if (distinct.size !== reviewers.length) problems.push(`${prefix}reviewers: reviewers must be distinct`);
  if (typeof p.requiredApprovals === 'number' && Array.isArray(p.reviewers) && p.requiredApprovals > distinct.size) {
    problems.push(`${prefix}requiredApprovals: needs ${p.requiredApprovals} approvals but only ${distinct.size} reviewers are named`);
  }
  const lifetime = typeof p.reviewLifetimeHours === 'number' ? p.reviewLifetimeHours : 72;
  const reminder = typeof p.reminderAfterHours === 'number' ? p.reminderAfterHours : 24;
  if (reminder >= lifetime) problems.push(`${prefix}reminderAfterHours: must be shorter than reviewLifetimeHours`);
  const seen = new Set<string>();
  (Array.isArray(p.rules) ? p.rules : []).forEach((r: unknown, i) => {
    if (r === null || typeof r !== 'object') return;
    const { source, metric, comparison } = r as Record<string, unknown>;
    const key = JSON.stringify([source, metric, comparison]);
    if (seen.has(key)) problems.push(`${prefix}rules.${i}: duplicate rule`);
    seen.add(key);
  });
  return problems;
}

/** Each stage section's checks across fields, its three statuses distinct, and the number of stages. */
function stagesProblems(stages: unknown): string[] {
  if (stages === null || typeof stages !== 'object' || Array.isArray(stages)) return [];
  const entries = Object.entries(stages as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_STAGES) problems.push(`stages: at most ${MAX_STAGES} stages, found ${entries.length}`);
  for (const [name, section] of entries) {
    if (!STAGE_NAME.test(name)) problems.push(`stages.${name}: must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit (a SageMaker stage name)`);
    if (section === null || typeof section !== 'object' || Array.isArray(section)) continue;
    const s = section as Record<string, unknown>;
    const prefix = `stages.${name}.`;
    problems.push(...sectionProblems(s, prefix));
    const statuses = {
      pendingStatus: typeof s.pendingStatus === 'string' ? s.pendingStatus : 'PendingApproval',
      approvedStatus: typeof s.approvedStatus === 'string' ? s.approvedStatus : 'Approved',
      rejectedStatus: typeof s.rejectedStatus === 'string' ? s.rejectedStatus : 'Rejected',
    };
    // One status meaning two things would make a decision look like a request (or a revert like an approval).
    if (statuses.approvedStatus === statuses.pendingStatus) problems.push(`${prefix}approvedStatus: must differ from pendingStatus`);
    if (statuses.rejectedStatus === statuses.pendingStatus) problems.push(`${prefix}rejectedStatus: must differ from pendingStatus`);
    if (statuses.rejectedStatus === statuses.approvedStatus) problems.push(`${prefix}rejectedStatus: must differ from approvedStatus`);
  }
  return problems;
}

/** The identity map's bounds across entries, and entries that map nothing. */
function identityProblems(identities: unknown): string[] {
  if (identities === null || typeof identities !== 'object' || Array.isArray(identities)) return [];
  const entries = Object.entries(identities as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_IDENTITY_PEOPLE) problems.push(`identities: at most ${MAX_IDENTITY_PEOPLE} people`);
  const people = new Set<string>();
  let patterns = 0;
  for (const [who, entry] of entries) {
    if (people.has(who.toLowerCase())) problems.push(`identities.${who}: named twice (addresses ignore case)`);
    people.add(who.toLowerCase());
    if (entry === null || typeof entry !== 'object') continue;
    const { iamPrincipals, studioUserProfiles } = entry as Record<string, unknown>;
    const count = (Array.isArray(iamPrincipals) ? iamPrincipals.length : 0) + (Array.isArray(studioUserProfiles) ? studioUserProfiles.length : 0);
    if (count === 0) problems.push(`identities.${who}: needs at least one of iamPrincipals, studioUserProfiles`);
    patterns += count;
  }
  if (patterns > MAX_IDENTITY_PATTERNS) problems.push(`identities: at most ${MAX_IDENTITY_PATTERNS} patterns in all, found ${patterns}`);
  return problems;
}

/** The next version of a group's policy, or `unchanged` when the content equals the current one. */
export function nextPolicyVersion(
  input: PolicyInput,
  current: PolicyVersion | undefined,
  now: number,
): PolicyVersion | 'unchanged' {
  const { changedBy, reason, ...content } = input;
  if (current && sameContent(content, current)) return 'unchanged';
  return {
    ...content,
    version: (current?.version ?? 0) + 1,
    createdAt: new Date(now).toISOString(),
    changedBy,
    ...(reason === undefined ? {} : { reason }),
  };
}

function sameContent(content: Omit<PolicyInput, 'changedBy' | 'reason'>, current: PolicyVersion): boolean {
  // Canonical JSON: a policy read back from DynamoDB has its map keys in another order.
  const pick = (p: Omit<PolicyInput, 'changedBy' | 'reason'>) =>
    canonicalize([
      p.modelPackageGroupName,
      p.rules,
      [...p.reviewers].sort(),
      p.requiredApprovals,
      p.allowSelfApproval,
      p.reviewLifetimeHours,
      p.reminderAfterHours,
      p.signInMaxAgeMinutes ?? 0,
      // Absent and empty are the same map (none); stored policies from before it have none.
      p.identities ?? {},
      p.unapprovedDeployments ?? 'notify',
      // The same for stages; a section's reviewers in a stable order.
      Object.fromEntries(Object.entries(p.stages ?? {}).map(([name, st]) => [name, { ...st, reviewers: [...st.reviewers].sort() }])),
    ]);
  return pick(content) === pick(current);
}

/** The values gathered for a version, by source. A source that could not be read carries why. */
export interface GatheredMetrics {
  trainingJob: Record<string, number>;
  evaluationReport: { values: unknown } | { unreadable: string } | undefined;
  customerMetadata: Record<string, string>;
}

export interface RuleResult {
  rule: MetricRule;
  actual: number | undefined;
  passed: boolean;
  /** Why a rule failed when there is no value to compare (missing metric, unreadable report). */
  problem?: string;
}

export interface GateResult {
  passed: boolean;
  policyVersion: number;
  results: RuleResult[];
}

const compare: Record<Comparison, (a: number, t: number) => boolean> = {
  '>=': (a, t) => a >= t,
  '>': (a, t) => a > t,
  '<=': (a, t) => a <= t,
  '<': (a, t) => a < t,
  '==': (a, t) => a === t,
};

/** Fail closed: a missing, non-numeric or unreadable metric fails its rule. */
export function evaluatePolicy(policy: Pick<PolicyVersion, 'rules' | 'version'>, metrics: GatheredMetrics): GateResult {
  const results = policy.rules.map((rule): RuleResult => {
    const found = lookup(rule, metrics);
    if ('problem' in found) return { rule, actual: undefined, passed: false, problem: found.problem };
    return { rule, actual: found.value, passed: compare[rule.comparison](found.value, rule.threshold) };
  });
  return { passed: results.every((r) => r.passed), policyVersion: policy.version, results };
}

function lookup(rule: MetricRule, metrics: GatheredMetrics): { value: number } | { problem: string } {
  switch (rule.source) {
    case 'trainingJob': {
      // Own properties only: a metric named `toString` or `constructor` is not found on the prototype.
      const v = Object.hasOwn(metrics.trainingJob, rule.metric) ? metrics.trainingJob[rule.metric] : undefined;
      return typeof v !== 'number' ? { problem: 'metric missing from the training job' } : { value: v };
    }
    case 'customerMetadata': {
      const raw = Object.hasOwn(metrics.customerMetadata, rule.metric) ? metrics.customerMetadata[rule.metric] : undefined;
      if (typeof raw !== 'string') return { problem: 'metric missing from customer metadata' };
      const v = Number(raw);
      return raw.trim() === '' || !Number.isFinite(v) ? { problem: `not a number: ${raw}` } : { value: v };
    }
    case 'evaluationReport': {
      const report = metrics.evaluationReport;
      if (report === undefined) return { problem: 'the version has no evaluation report' };
      if ('unreadable' in report) return { problem: `evaluation report unreadable: ${report.unreadable}` };
      const v = readPath(report.values, rule.metric);
      return v === undefined ? { problem: 'metric missing from the evaluation report' } : { value: v };
    }
  }
}

/** `a.b.c` in a SageMaker evaluation report; an object with a numeric `value` reads as that value. */
export function readPath(doc: unknown, path: string): number | undefined {
  let node: unknown = doc;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (node !== null && typeof node === 'object' && 'value' in node) node = (node as { value: unknown }).value;
  return typeof node === 'number' && Number.isFinite(node) ? node : undefined;
}

/** One line per failed rule with its actual value and threshold, for ApprovalDescription. */
export function describeFailures(gate: GateResult): string[] {
  return gate.results
    .filter((r) => !r.passed)
    .map((r) => {
      const what = `${r.rule.source}:${r.rule.metric} ${r.rule.comparison} ${r.rule.threshold}`;
      return r.actual === undefined ? `${what}: ${r.problem ?? 'missing'}` : `${what}: actual ${r.actual}`;
    });
}

export function needsSource(policy: Pick<PolicyVersion, 'rules'>, source: MetricSource): boolean {
  return policy.rules.some((r) => r.source === source);
}
