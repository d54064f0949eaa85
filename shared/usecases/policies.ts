import { auditEntries, groupScope } from '../domain/audit.js';
import { NotFound } from '../domain/errors.js';
import { parsePayload } from '../domain/payload.js';
import { GroupNameSchema, nextPolicyVersion, parsePolicyInput, reviewersFor, type PolicyVersion } from '../domain/policy.js';
import type { Deps } from '../ports.js';
import * as z from '../schemas/zod.js';
import { untilCommitted } from './retry.js';
import { openReviewChangeView, updateOpenReviews, type OpenReviewChange } from './reviewers.js';
import { policyView } from './views.js';

export interface PutPolicyResult {
  outcome: 'created' | 'unchanged';
  policy: PolicyVersion;
  /** What dropping reviewers did to the group's open reviews (as `removeReviewer` does). */
  openReviews: OpenReviewChange[];
}

/**
 * Stores a new version of a group's policy, with its audit entry, unless nothing changed. A
 * reviewer that the new version drops loses their unused links on the group's open reviews, as
 * with `removeReviewer`: a link never outlives its reviewer's place in the policy. (A reviewer it
 * adds is not subscribed to the reviewers topic; `addReviewer` does that and sends them links for
 * the open reviews.)
 */
export async function putPolicy(deps: Deps, payload: unknown): Promise<PutPolicyResult> {
  const input = parsePolicyInput(payload);
  const { previous, ...committed } = await untilCommitted<{ outcome: 'created' | 'unchanged'; policy: PolicyVersion; previous?: PolicyVersion }>(async () => {
    const group = input.modelPackageGroupName;
    const { policy: current } = await deps.store.loadPolicyContext(group);
    const now = deps.clock.now();
    const next = nextPolicyVersion(input, current, now);
    if (next === 'unchanged' && current) return { result: 'committed', value: { outcome: 'unchanged' as const, policy: current } };
    if (next === 'unchanged') throw new Error('unreachable: unchanged without a current policy');
    const audit = auditEntries(
      groupScope(group),
      [
        {
          action: 'policy.changed',
          subject: `model-package-group/${group}`,
          actor: next.changedBy,
          detail: { version: next.version, previousVersion: current?.version ?? null, policy: next },
        },
      ],
      now,
      deps.newId,
    );
    const result = await deps.store.commitPolicy({ policy: next, audit });
    return { result, value: { outcome: 'created' as const, policy: next, ...(current ? { previous: current } : {}) } };
  });
  const openReviews: OpenReviewChange[] = [];
  const dropped = (previous?.reviewers ?? []).filter((r) => !committed.policy.reviewers.includes(r));
  for (const reviewer of dropped) {
    openReviews.push(...(await updateOpenReviews(deps, { modelPackageGroupName: input.modelPackageGroupName, reviewer, changedBy: input.changedBy }, 'remove')));
  }
  // The same for each lifecycle stage's reviewers (a stage the new version drops drops them all).
  for (const [stage, section] of Object.entries(previous?.stages ?? {})) {
    const kept = reviewersFor(committed.policy, stage);
    for (const reviewer of section.reviewers.filter((r) => !kept.includes(r))) {
      openReviews.push(...(await updateOpenReviews(deps, { modelPackageGroupName: input.modelPackageGroupName, reviewer, changedBy: input.changedBy }, 'remove', stage)));
    }
  }
  return { outcome: committed.outcome, policy: policyView(committed.policy) as unknown as PolicyVersion, openReviews: openReviews.map(openReviewChangeView) };
}

const GetPolicyRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  modelPackageGroupName: GroupNameSchema,
  /** A version number, or `all` for every version, newest first. Default: the current one. */
  version: z.optional(z.union([z.int().check(z.gte(1)), z.literal('all')])),
}));

export async function getPolicy(
  deps: Pick<Deps, 'store'>,
  payload: unknown,
): Promise<{ policy: PolicyVersion } | { versions: PolicyVersion[] }> {
  const { modelPackageGroupName: group, version } = parsePayload(GetPolicyRequestSchema, payload, 'getPolicy request');
  const view = (p: PolicyVersion) => policyView(p) as unknown as PolicyVersion;
  if (version === 'all') return { versions: (await deps.store.listPolicyVersions(group)).map(view) };
  if (version === undefined) {
    const policy = await deps.store.getPolicy(group);
    if (!policy) throw new NotFound(`no policy for model package group ${group}: every version is refused until one is put`);
    return { policy: view(policy) };
  }
  const all = await deps.store.listPolicyVersions(group);
  const policy = all.find((p) => p.version === version);
  if (!policy) throw new NotFound(`model package group ${group} has no policy version ${version}`);
  return { policy: view(policy) };
}
