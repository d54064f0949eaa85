import * as z from '../schemas/zod.js';
import type { AuditEntry } from '../domain/audit.js';
import { NotFound, ValidationError } from '../domain/errors.js';
import { payloadProblems } from '../domain/payload.js';
import type { TrainingJob } from '../domain/lineage.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { Decision, ReviewRequest } from '../domain/review.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps } from '../ports.js';
import { parseDeploymentKey } from '../domain/deployment.js';
import { auditEntryView, decisionView, gateView, reviewView, trainingJobView, versionFactsView } from './views.js';

/**
 * By model package ARN, or by group and version. `version` is `z.number()` with `z.int()` as a
 * check (as classic zod's `.int()` was), not the `z.int()` schema: a fractional version's issue then
 * comes from the check, which has no description, and reads "must be an integer", not "must be a
 * version number".
 */
export const VersionRefSchema = /* @__PURE__ */ z.schema(() => z.union([
  z.strictObject({ modelPackageArn: z.string().check(z.regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/, 'must be a versioned model package ARN'), z.describe('a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)')) }),
  z.strictObject({ modelPackageGroupName: GroupNameSchema, version: z.number().check(z.int(), z.gte(1), z.describe('a version number (1, 2, …)')) }),
]));
export type VersionRef = z.infer<typeof VersionRefSchema>;

export function parseVersionRef(payload: unknown, subject: string): { group: string; version: number } {
  const parsed = VersionRefSchema.safeParse(payload);
  if (!parsed.success) throw new ValidationError(subject, versionRefProblems(payload));
  if ('modelPackageArn' in parsed.data) {
    const [group, version] = parsed.data.modelPackageArn.split('/').slice(-2);
    return { group: group ?? '', version: Number(version) };
  }
  return { group: parsed.data.modelPackageGroupName, version: parsed.data.version };
}

/**
 * What is wrong with a version reference, said the way an operator can act on it: zod's answer for
 * a union is "Invalid input" at the root, so the form the payload meant is parsed on its own.
 */
export function versionRefProblems(payload: unknown, [byArn, byName]: readonly [z.core.$ZodType, z.core.$ZodType] = VersionRefSchema.def.options): string[] {
  const fields = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? Object.keys(payload) : [];
  const byArnMeant = fields.includes('modelPackageArn');
  const byNameMeant = fields.includes('modelPackageGroupName') || fields.includes('version');
  if (byArnMeant && byNameMeant) return ['(root): give modelPackageArn, or modelPackageGroupName and version, not both'];
  if (!byArnMeant && !byNameMeant) return ['(root): give modelPackageArn, or modelPackageGroupName and version'];
  return payloadProblems(byArnMeant ? byArn : byName, payload);
}

/**
 * What a version's lineage is made of, as recorded: the model card is built from it
 * (domain/model-card.ts). Times are epoch milliseconds here; getLineage's answer is its view.
 */
export interface LineageDocument {
  modelPackage: Omit<ModelVersion, 'pendingEffects' | 'gate' | 'decision' | 'review' | 'job' | 'gateState' | 'servedBy'> & { pipelineExecution?: string };
  trainingJob?: Omit<TrainingJob, 'tags'> & { tags: Record<string, string> };
  datasets: Array<{ channel: string; uri: string }>;
  image?: { uri: string; digest?: string };
  gate?: ModelVersion['gate'] & { state?: ModelVersion['gateState'] };
  reviews: Array<Pick<ReviewRequest, 'id' | 'status' | 'openedAt' | 'expiresAt' | 'policyVersion' | 'requiredApprovals' | 'reviewers' | 'votes' | 'decision' | 'closedAt' | 'stage'>>;
  decision?: Decision;
  /** The endpoints' production variants that serve this version now (the deployment recorder keeps them on the version). */
  endpoints: Array<{ endpoint: string; variant: string }>;
  /** The version's audit entries, oldest first, each with its `logIndex` once sequenced (getAuditTrail gives proofs). */
  audit: { entries: AuditEntry[] };
  /** DynamoDB requests this answer cost, and in how many sequential rounds (bounded: 2). */
  cost: { requests: number; rounds: number };
}

type Iso<T, K extends keyof T> = Omit<T, K> & { [P in K]: undefined extends T[P] ? string | undefined : string };

/**
 * getLineage's answer (README, "Operators and auditors"): the lineage document as a deliberate
 * view (usecases/views.ts): ISO times, no `rev` or bookkeeping, keys in this order.
 */
export interface LineageView {
  modelPackage: Iso<Omit<LineageDocument['modelPackage'], 'generatedBy'>, 'createdAt' | 'lastModified'>;
  trainingJob?: Iso<NonNullable<LineageDocument['trainingJob']>, 'lastModified' | 'createdAt' | 'endedAt'>;
  datasets: LineageDocument['datasets'];
  image?: LineageDocument['image'];
  gate?: LineageDocument['gate'];
  reviews: LineageDocument['reviews'];
  decision?: Decision;
  endpoints: LineageDocument['endpoints'];
  audit: { entries: AuditEntry[] };
  cost: LineageDocument['cost'];
}

/** The keys of getLineage's answer, in order (optional ones only when present). */
export const LINEAGE_ORDER = ['modelPackage', 'trainingJob', 'datasets', 'image', 'gate', 'reviews', 'decision', 'endpoints', 'audit', 'cost'] as const;

/** Operator: `serverless invoke -f getLineage --data '{"modelPackageArn":"…"}'`. */
export async function getLineage(deps: Pick<Deps, 'store'>, payload: unknown): Promise<LineageView> {
  const doc = await lineageDocument(deps, payload, 'getLineage request');
  return {
    modelPackage: versionFactsView(doc.modelPackage as ModelVersion) as unknown as LineageView['modelPackage'],
    ...(doc.trainingJob ? { trainingJob: trainingJobView(doc.trainingJob) as unknown as NonNullable<LineageView['trainingJob']> } : {}),
    datasets: doc.datasets.map((d) => ({ channel: d.channel, uri: d.uri })),
    ...(doc.image ? { image: { uri: doc.image.uri, ...(doc.image.digest ? { digest: doc.image.digest } : {}) } } : {}),
    ...(doc.gate ? { gate: gateView(doc.gate, doc.gate.state) as unknown as NonNullable<LineageView['gate']> } : {}),
    reviews: doc.reviews.map((r) => reviewView(r as ReviewRequest) as unknown as LineageView['reviews'][number]),
    ...(doc.decision ? { decision: decisionView(doc.decision) as unknown as Decision } : {}),
    endpoints: doc.endpoints.map((e) => ({ endpoint: e.endpoint, variant: e.variant })),
    audit: { entries: doc.audit.entries.map((e) => auditEntryView(e) as unknown as AuditEntry) },
    cost: { requests: doc.cost.requests, rounds: doc.cost.rounds },
  };
}

/** The lineage document of a version (what getLineage shows and the model card is built from). */
export async function lineageDocument(deps: Pick<Deps, 'store'>, payload: unknown, subject: string): Promise<LineageDocument> {
  const key = parseVersionRef(payload, subject);
  const items = await deps.store.loadLineage(key);
  if (!items) throw new NotFound(`modelgate has no record of ${key.group} version ${key.version}`);
  const { version: v, job } = items;
  const { pendingEffects: _p, gate, decision, review: _r, job: _j, gateState, servedBy, ...facts } = v;
  const datasets = job?.datasets ?? [];
  const image = v.image ?? job?.image;
  return {
    modelPackage: { ...facts, ...(v.generatedBy ? { pipelineExecution: v.generatedBy } : {}) },
    ...(job ? { trainingJob: job } : {}),
    datasets,
    ...(image ? { image: { uri: image, ...(v.imageDigest ? { digest: v.imageDigest } : {}) } } : {}),
    ...(gate ? { gate: { ...gate, ...(gateState ? { state: gateState } : {}) } } : {}),
    reviews: items.reviews.map((r) => ({
      id: r.id,
      status: r.status,
      openedAt: r.openedAt,
      expiresAt: r.expiresAt,
      policyVersion: r.policyVersion,
      requiredApprovals: r.requiredApprovals,
      reviewers: r.reviewers,
      votes: r.votes,
      ...(r.decision ? { decision: r.decision } : {}),
      ...(r.closedAt ? { closedAt: r.closedAt } : {}),
      ...(r.stage !== undefined ? { stage: r.stage } : {}),
    })),
    ...(decision ? { decision } : {}),
    endpoints: [...(servedBy ?? [])].sort().map(parseDeploymentKey),
    audit: { entries: items.audit },
    cost: { requests: items.requests, rounds: items.rounds },
  };
}
