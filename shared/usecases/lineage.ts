import { z } from 'zod';
import type { AuditEntry } from '../domain/audit.js';
import { NotFound, ValidationError, describeIssues } from '../domain/errors.js';
import type { TrainingJob } from '../domain/lineage.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { Decision, ReviewRequest } from '../domain/review.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps } from '../ports.js';
import { parseDeploymentKey } from '../domain/deployment.js';

/** By model package ARN, or by group and version. */
export const VersionRefSchema = z.union([
  z.strictObject({ modelPackageArn: z.string().regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/, 'must be a versioned model package ARN') }),
  z.strictObject({ modelPackageGroupName: GroupNameSchema, version: z.number().int().min(1) }),
]);
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
function versionRefProblems(payload: unknown): string[] {
  const [byArn, byName] = VersionRefSchema.options;
  const fields = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? Object.keys(payload) : [];
  const byArnMeant = fields.includes('modelPackageArn');
  const byNameMeant = fields.includes('modelPackageGroupName') || fields.includes('version');
  if (byArnMeant && byNameMeant) return ['(root): give modelPackageArn, or modelPackageGroupName and version, not both'];
  if (!byArnMeant && !byNameMeant) return ['(root): give modelPackageArn, or modelPackageGroupName and version'];
  const attempt = (byArnMeant ? byArn : byName).safeParse(payload);
  return attempt.success ? [] : describeIssues(attempt.error.issues);
}

/** One document: a version, its ancestors, its gate results and decisions, and its audit entries. */
export interface LineageDocument {
  modelPackage: Omit<ModelVersion, 'pendingEffects' | 'gate' | 'decision' | 'review' | 'job' | 'gateState' | 'servedBy'> & { pipelineExecution?: string };
  trainingJob?: Omit<TrainingJob, 'tags'> & { tags: Record<string, string> };
  datasets: Array<{ channel: string; uri: string }>;
  image?: { uri: string; digest?: string };
  gate?: ModelVersion['gate'] & { state?: ModelVersion['gateState'] };
  reviews: Array<Pick<ReviewRequest, 'id' | 'status' | 'openedAt' | 'expiresAt' | 'policyVersion' | 'requiredApprovals' | 'reviewers' | 'votes' | 'decision' | 'closedAt'>>;
  decision?: Decision;
  /** The endpoints' production variants that serve this version now (the deployment recorder keeps them on the version). */
  endpoints: Array<{ endpoint: string; variant: string }>;
  /** The version's audit entries, oldest first, each with its `logIndex` once sequenced (getAuditTrail gives proofs). */
  audit: { entries: AuditEntry[] };
  /** DynamoDB requests this answer cost, and in how many sequential rounds (bounded: 2). */
  cost: { requests: number; rounds: number };
}

/** Operator: `serverless invoke -f getLineage --data '{"modelPackageArn":"…"}'`. */
export async function getLineage(deps: Pick<Deps, 'store'>, payload: unknown): Promise<LineageDocument> {
  const key = parseVersionRef(payload, 'getLineage request');
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
    })),
    ...(decision ? { decision } : {}),
    endpoints: [...(servedBy ?? [])].sort().map(parseDeploymentKey),
    audit: { entries: items.audit },
    cost: { requests: items.requests, rounds: items.rounds },
  };
}
