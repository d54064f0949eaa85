/**
 * What the operator functions return (README, "Operators and auditors"): one JSON document a
 * person and a script can rely on. Every view here is built explicitly, because a record read back
 * from DynamoDB has its map keys in whatever order the response gives them:
 *
 * - times are ISO 8601 in UTC (`toISOString()`), never epoch milliseconds;
 * - storage and bookkeeping fields are left out: `rev` (optimistic locking), the key attributes
 *   (`PK`, `SK`, `GSI*`, `type`, `ttl`), `pendingEffects` (side effects in flight: the sweep's
 *   business, with their claim leases), a review's `links` (link ids) and `remindedAt`;
 * - keys come in a fixed order: a record's known fields in the order listed here, then any field
 *   this module does not know yet, sorted (so a new field shows up, in a stable place, rather
 *   than vanishing); maps whose keys are the customer's (metadata, hyperparameters, tags,
 *   metrics, votes, identities, stages) in sorted key order.
 *
 * Audit entries are evidence: their content is shown as stored, values unchanged (`at` is
 * already ISO, and `detail` keeps whatever its action recorded, epoch times included), and only
 * the order of their keys is fixed: the entry's fields in the order below, `detail` in RFC 8785
 * order (sorted keys, recursively), the order its leaf hash is computed over. Nothing is added to
 * or removed from what the leaf covers, so an entry copied from this output still verifies.
 */
import { iso } from '../domain/time.js';
import type { AuditEntry } from '../domain/audit.js';
import type { TrainingJob } from '../domain/lineage.js';
import type { GateResult, PolicyVersion } from '../domain/policy.js';
import type { Decision, ReviewRequest, Vote } from '../domain/review.js';
import type { ModelVersion, StageGovernance } from '../domain/version.js';
import type { SignedCheckpoint } from '../audit-log-ports.js';


/** Fields no operator output carries (see the module comment). */
export const INTERNAL_FIELDS = ['rev', 'PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'type', 'ttl', 'pendingEffects'] as const;

type Json = Record<string, unknown>;

/**
 * `value`'s fields: those of `order` first, in that order, then the others sorted, without the
 * internal ones and `omit`, and without undefined values. Built with Object.fromEntries, so a
 * customer's `__proto__` key stays an own field and touches no prototype.
 */
export function ordered(value: object, order: readonly string[], omit: readonly string[] = []): Json {
  const source = value as Json;
  const skip = new Set<string>([...INTERNAL_FIELDS, ...omit]);
  const known = order.filter((k) => Object.hasOwn(source, k) && !skip.has(k));
  const rest = Object.keys(source)
    .filter((k) => !order.includes(k) && !skip.has(k))
    .sort();
  return Object.fromEntries([...known, ...rest].filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

/** A map whose keys are the customer's, in sorted key order (values as they are). */
export function sortedMap<T>(map: Readonly<Record<string, T>> | undefined): Record<string, T> {
  return Object.fromEntries(Object.keys(map ?? {}).sort().map((k) => [k, (map ?? {})[k] as T]));
}

/** Objects with sorted keys at every depth, arrays in their order: RFC 8785's key order. */
export function canonicalOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalOrder);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonicalOrder((value as Json)[k])]));
}

export function decisionView(d: Decision): Json {
  return ordered(d, ['id', 'outcome', 'at', 'policyVersion', 'approvers', 'rejectedBy', 'revokedFor']);
}

export function voteView(v: Vote): Json {
  return ordered({ ...v, ...(v.signedIn ? { signedIn: ordered(v.signedIn, ['issuer', 'subject', 'authTime']) } : {}) }, ['decision', 'at', 'comment', 'signedIn']);
}

export function gateView(gate: (GateResult & { evaluatedAt: string }) | undefined, state?: string): Json | undefined {
  if (!gate) return undefined;
  return ordered(
    {
      ...gate,
      ...(state ? { state } : {}),
      results: gate.results.map((r) => ordered({ ...r, rule: ordered(r.rule, ['metric', 'source', 'comparison', 'threshold']) }, ['rule', 'actual', 'passed', 'problem'])),
    },
    ['passed', 'state', 'policyVersion', 'evaluatedAt', 'results'],
  );
}

function stageGovernanceView(s: StageGovernance): Json {
  return ordered(
    {
      ...s,
      ...(s.gate ? { gate: gateView(s.gate) } : {}),
      ...(s.review ? { review: ordered(s.review, ['id', 'status']) } : {}),
      ...(s.decision ? { decision: decisionView(s.decision) } : {}),
    },
    ['gateState', 'gate', 'review', 'decision'],
  );
}

/**
 * A version's own facts (getLineage's `modelPackage`): what the registry said, times in ISO. The
 * gate, reviews, decision, training job and endpoints have their own places in the lineage
 * document; `generatedBy` is its `pipelineExecution`.
 */
export function versionFactsView(v: ModelVersion): Json {
  const stages = v.stages ? Object.fromEntries(Object.keys(v.stages).sort().map((k) => [k, stageGovernanceView((v.stages ?? {})[k] as StageGovernance)])) : undefined;
  return ordered(
    {
      ...v,
      createdAt: iso(v.createdAt),
      lastModified: iso(v.lastModified),
      ...(v.generatedBy ? { pipelineExecution: v.generatedBy } : {}),
      customerMetadata: sortedMap(v.customerMetadata),
      ...(v.report ? { report: ordered(v.report, ['uri', 'digest']) } : {}),
      ...(v.lifeCycle ? { lifeCycle: ordered(v.lifeCycle, ['stage', 'status', 'description']) } : {}),
      ...(stages ? { stages } : {}),
    },
    [
      'arn',
      'group',
      'version',
      'status',
      'lifeCycle',
      'createdAt',
      'lastModified',
      'description',
      'artifactUri',
      'image',
      'imageDigest',
      'pipelineExecution',
      'registeredBy',
      'trainedBy',
      'awaitingSince',
      'report',
      'customerMetadata',
      'stages',
    ],
    ['pendingEffects', 'gate', 'decision', 'review', 'job', 'gateState', 'servedBy', 'generatedBy'],
  );
}

export function trainingJobView(job: TrainingJob): Json {
  return ordered(
    {
      ...job,
      lastModified: iso(job.lastModified),
      ...(job.createdAt !== undefined ? { createdAt: iso(job.createdAt) } : {}),
      ...(job.endedAt !== undefined ? { endedAt: iso(job.endedAt) } : {}),
      hyperparameters: sortedMap(job.hyperparameters),
      datasets: job.datasets.map((d) => ordered(d, ['channel', 'uri'])),
      metrics: sortedMap(job.metrics),
      tags: sortedMap(job.tags),
    },
    ['name', 'arn', 'status', 'failureReason', 'createdAt', 'endedAt', 'lastModified', 'image', 'roleArn', 'trainedBy', 'artifactUri', 'datasets', 'hyperparameters', 'metrics', 'tags'],
  );
}

/** A review in a lineage document: its state, quorum and votes (each reviewer's link ids and reminder times are not shown). */
export function reviewView(r: ReviewRequest): Json {
  return ordered(
    {
      id: r.id,
      ...(r.stage !== undefined ? { stage: r.stage } : {}),
      status: r.status,
      openedAt: r.openedAt,
      expiresAt: r.expiresAt,
      ...(r.closedAt ? { closedAt: r.closedAt } : {}),
      policyVersion: r.policyVersion,
      requiredApprovals: r.requiredApprovals,
      reviewers: r.reviewers,
      votes: Object.fromEntries(Object.keys(r.votes ?? {}).sort().map((who) => [who, voteView((r.votes ?? {})[who] as Vote)])),
      ...(r.decision ? { decision: decisionView(r.decision) } : {}),
    },
    ['id', 'stage', 'status', 'openedAt', 'expiresAt', 'closedAt', 'policyVersion', 'requiredApprovals', 'reviewers', 'votes', 'decision'],
  );
}

export const AUDIT_ENTRY_ORDER = ['id', 'position', 'logIndex', 'at', 'scope', 'action', 'subject', 'actor', 'detail'] as const;

/** An audit entry as stored (see the module comment): the values untouched, the keys in a fixed order. */
export function auditEntryView<E extends AuditEntry>(e: E): Json {
  return ordered({ ...e, detail: canonicalOrder(e.detail) }, AUDIT_ENTRY_ORDER);
}

export function policyView(p: PolicyVersion): Json {
  const rules = (rs: PolicyVersion['rules']) => rs.map((r) => ordered(r, ['metric', 'source', 'comparison', 'threshold']));
  const stages = p.stages
    ? Object.fromEntries(
        Object.keys(p.stages)
          .sort()
          .map((name) => {
            const s = (p.stages ?? {})[name] as NonNullable<PolicyVersion['stages']>[string];
            return [
              name,
              ordered({ ...s, rules: rules(s.rules) }, ['rules', 'reviewers', 'requiredApprovals', 'reviewLifetimeHours', 'reminderAfterHours', 'pendingStatus', 'approvedStatus', 'rejectedStatus']),
            ];
          }),
      )
    : undefined;
  const identities = p.identities
    ? Object.fromEntries(Object.keys(p.identities).sort().map((who) => [who, ordered((p.identities ?? {})[who] as object, ['iamPrincipals', 'studioUserProfiles'])]))
    : undefined;
  return ordered(
    { ...p, rules: rules(p.rules), ...(stages ? { stages } : {}), ...(identities ? { identities } : {}) },
    [
      'modelPackageGroupName',
      'version',
      'createdAt',
      'changedBy',
      'reason',
      'rules',
      'reviewers',
      'requiredApprovals',
      'allowSelfApproval',
      'reviewLifetimeHours',
      'reminderAfterHours',
      'signInMaxAgeMinutes',
      'unapprovedDeployments',
      'identities',
      'stages',
    ],
  );
}

/** A signed checkpoint: the signed body in its own order (`{logSize, rootHash, time, keyId}`), then the signature. */
export function checkpointView(c: SignedCheckpoint & { objectKey?: string }): Json {
  return ordered({ ...c, checkpoint: ordered(c.checkpoint, ['logSize', 'rootHash', 'time', 'keyId']) }, ['checkpoint', 'signature', 'objectKey']);
}
