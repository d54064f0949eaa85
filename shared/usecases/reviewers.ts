import { z } from 'zod';
import { appendToChain } from '../domain/audit.js';
import { NotFound, ValidationError, describeIssues } from '../domain/errors.js';
import { GroupNameSchema, nextPolicyVersion, parsePolicyInput, type PolicyVersion } from '../domain/policy.js';
import type { Deps } from '../ports.js';
import { untilCommitted } from './retry.js';

const RequestSchema = z.strictObject({
  modelPackageGroupName: GroupNameSchema,
  reviewer: z.email(),
  /** Optional: the approvals needed after the change (removing a reviewer may require lowering it). */
  requiredApprovals: z.number().int().min(1).optional(),
  changedBy: z.string().min(1).max(256),
  reason: z.string().max(1024).optional(),
});
type Request = z.infer<typeof RequestSchema>;

export interface ReviewerResult {
  outcome: 'created' | 'unchanged';
  policy: PolicyVersion;
  subscriptionArn?: string;
  /** Whether the SNS subscription was removed (the reviewer reviews no other group). */
  unsubscribed?: boolean;
}

function parse(payload: unknown, subject: string): Request {
  const parsed = RequestSchema.safeParse(payload);
  if (!parsed.success) throw new ValidationError(subject, describeIssues(parsed.error.issues));
  return { ...parsed.data, reviewer: parsed.data.reviewer.toLowerCase() };
}

/**
 * Operator: adds a reviewer to a group's policy (a new policy version, audited) and subscribes
 * the address to the reviewers topic with a filter policy on `reviewer`. The subscription comes
 * first: it is harmless on its own (no message names the reviewer until the policy does), and SNS
 * returns the existing subscription when it is repeated.
 */
export async function addReviewer(deps: Pick<Deps, 'store' | 'clock' | 'subscriptions'>, payload: unknown): Promise<ReviewerResult> {
  const req = parse(payload, 'addReviewer request');
  const subscriptionArn = await deps.subscriptions.subscribe(req.reviewer);
  return changeReviewers(deps, req, (reviewers) => [...new Set([...reviewers, req.reviewer])], subscriptionArn);
}

/**
 * Operator: removes a reviewer from a group's policy (a new policy version, audited). The SNS
 * subscription is removed only when the reviewer reviews no other group.
 */
export async function removeReviewer(deps: Pick<Deps, 'store' | 'clock' | 'subscriptions'>, payload: unknown): Promise<ReviewerResult> {
  const req = parse(payload, 'removeReviewer request');
  const result = await changeReviewers(deps, req, (reviewers) => reviewers.filter((r) => r !== req.reviewer));
  if (result.outcome === 'created' && result.subscriptionArn && result.unsubscribed) {
    await deps.subscriptions.unsubscribe(result.subscriptionArn);
  }
  return result;
}

async function changeReviewers(
  deps: Pick<Deps, 'store' | 'clock'>,
  req: Request,
  change: (reviewers: string[]) => string[],
  subscriptionArn?: string,
): Promise<ReviewerResult> {
  const group = req.modelPackageGroupName;
  return untilCommitted<ReviewerResult>(async () => {
    const ctx = await deps.store.loadReviewerContext(group, req.reviewer);
    const current = ctx.policy;
    if (!current) throw new NotFound(`no policy for model package group ${group}: put one first`);
    const reviewers = change(current.reviewers);
    const { version: _v, createdAt: _c, changedBy: _b, reason: _r, ...content } = current;
    const input = parsePolicyInput({
      ...content,
      reviewers,
      requiredApprovals: req.requiredApprovals ?? current.requiredApprovals,
      changedBy: req.changedBy,
      ...(req.reason ? { reason: req.reason } : {}),
    });
    const now = deps.clock.now();
    const next = nextPolicyVersion(input, current, now);
    if (next === 'unchanged') return { result: 'committed', value: { outcome: 'unchanged', policy: current } };
    const adding = reviewers.includes(req.reviewer);
    const groups = new Set(ctx.reviewer?.groups ?? []);
    if (adding) groups.add(group.toLowerCase());
    else groups.delete(group.toLowerCase());
    const arn = subscriptionArn ?? ctx.reviewer?.subscriptionArn;
    const audit = appendToChain(
      ctx.auditHead,
      [
        {
          action: adding ? 'policy.reviewer-added' : 'policy.reviewer-removed',
          subject: `model-package-group/${group}`,
          actor: req.changedBy,
          detail: { reviewer: req.reviewer, version: next.version, previousVersion: current.version, requiredApprovals: next.requiredApprovals },
        },
      ],
      now,
    );
    const result = await deps.store.commitPolicy({
      policy: next,
      audit: { expectedHead: ctx.auditHead, entries: audit.entries },
      reviewer: {
        reviewer: { email: req.reviewer, groups: [...groups].sort(), ...(arn ? { subscriptionArn: arn } : {}) },
        expectedRev: ctx.reviewer?.rev ?? 0,
      },
    });
    return {
      result,
      value: { outcome: 'created', policy: next, ...(arn ? { subscriptionArn: arn } : {}), ...(adding ? {} : { unsubscribed: groups.size === 0 }) },
    };
  });
}
