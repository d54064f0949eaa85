/**
 * Issue 8, defect 7: "a Reject needs a comment" is met only by a comment that shows something.
 * Plus the pure parts of defect 4 (reviewers added to and removed from an open review) and the
 * refusal pages for the new kinds.
 */
import fc from 'fast-check';
import {
  addReviewerToReview,
  castVote,
  hasVisibleText,
  quorumState,
  removeReviewerFromReview,
  type ReviewLink,
  type ReviewRequest,
} from '../../shared/domain/review.js';
import { renderRefusal } from '../support/pages.js';
import type { RefusalKind } from '../../shared/web/views.js';

const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';
const NOW = Date.parse('2026-11-27T12:00:00Z');

const review = (over: Partial<ReviewRequest> = {}): ReviewRequest => ({
  id: 'rev-1',
  modelPackageArn: ARN,
  group: 'fraud-detector',
  version: 1,
  status: 'Open',
  openedAt: '2026-11-27T10:00:00.000Z',
  expiresAt: '2026-11-30T10:00:00.000Z',
  policyVersion: 1,
  requiredApprovals: 2,
  allowSelfApproval: false,
  reminderAfterHours: 24,
  reviewers: [RISK, LEAD],
  links: { [RISK]: 'link-risk', [LEAD]: 'link-lead' },
  votes: {},
  remindedAt: {},
  ...over,
});
const linkOf = (reviewer: string): ReviewLink => ({
  id: `link-${reviewer.split('-')[0]}`,
  reviewId: 'rev-1',
  modelPackageArn: ARN,
  version: 1,
  reviewer,
  expiresAt: '2026-11-30T10:00:00.000Z',
});
let n = 0;
const vote = (decision: 'approve' | 'reject', comment?: string, r: ReviewRequest = review()) =>
  castVote({ review: r, link: linkOf(RISK), vote: { decision, ...(comment !== undefined ? { comment } : {}) }, version: {}, now: NOW, newId: () => `d${++n}` });

/** Each shows nothing: the characters of the issue and their relatives. */
const INVISIBLE_CHARS = [
  ' ', '\t', '\n', '\r', '\u000B', '\f', '\u00A0', '\u1680', '\u2000', '\u2007', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', // white space
  '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u061C', '\u180E', '\u200E', '\u200F', '\u202A', '\u202E', '\u2066', '\u2069', '\u{E0001}', '\u{E0041}', // \p{Cf}
  '\u0000', '\u0007', '\u001B', '\u007F', '\u0085', '\u009F', // \p{Cc}
  '\u0301', '\u0308', '\u20DD', '\u034F', '\uFE0F', '\u{E0100}', // combining marks and variation selectors, alone
  '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800', // blank fillers
];

describe('a Reject needs a comment that shows something', () => {
  it.each([
    ['empty', ''],
    ['spaces', '   '],
    ['a zero-width space', '\u200B'],
    ['zero-width joiners and non-joiners', '\u200D\u200C\u200D'],
    ['a word joiner', '\u2060'],
    ['a byte order mark', '\uFEFF'],
    ['a soft hyphen', '\u00AD'],
    ['bidi controls', '\u202E\u2066\u2069'],
    ['tag characters', '\u{E0041}\u{E0042}'],
    ['control characters', '\u0000\u0007\u001B\u007F'],
    ['a combining acute accent alone', '\u0301'],
    ['combining marks after a space', ' \u0308\u20DD'],
    ['a variation selector alone', '\uFE0F'],
    ['a Hangul choseong filler', '\u115F'],
    ['a Hangul jungseong filler', '\u1160'],
    ['a Hangul filler', '\u3164'],
    ['a halfwidth Hangul filler', '\uFFA0'],
    ['a Braille blank', '\u2800'],
    ['an ideographic space and a no-break space', '\u3000\u00A0'],
    ['all of them', INVISIBLE_CHARS.join('')],
  ])('refuses %s', (_name, comment) => {
    const outcome = vote('reject', comment);
    expect(outcome).toEqual({ kind: 'refused', refusal: 'bad-request', message: 'A comment is required to reject.' });
  });

  it.each([
    ['a word', 'no'],
    ['one letter among zero-width characters', '\u200Bx\u200B'],
    ['a letter with its combining accent', 'e\u0301'],
    ['a digit', '7'],
    ['punctuation', '?'],
    ['an emoji', '👎'],
    ['CJK', '不'],
    ['Hangul (a syllable, not a filler)', '한'],
  ])('accepts %s', (_name, comment) => {
    const outcome = vote('reject', comment);
    expect(outcome.kind).toBe('rejected');
    if (outcome.kind === 'rejected') expect(outcome.review.votes[RISK]?.comment).toBe(comment.trim());
  });

  it('drops an approval comment that shows nothing, rather than recording it', () => {
    const outcome = vote('approve', '\u200B\u3164');
    expect(outcome.kind).toBe('recorded');
    if (outcome.kind === 'recorded') expect(outcome.review.votes[RISK]).toEqual({ decision: 'approve', at: new Date(NOW).toISOString() });
  });

  const invisible = fc.string({ unit: fc.constantFrom(...INVISIBLE_CHARS), maxLength: 40 });
  const visible = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9]$/),
    fc.constantFrom('é', 'ß', 'Ж', 'ع', 'क', '不', '한', '!', '€', '👍'),
  );

  it('property: any string made only of invisible characters is refused', () => {
    fc.assert(
      fc.property(invisible, (comment) => {
        expect(vote('reject', comment)).toMatchObject({ kind: 'refused', refusal: 'bad-request' });
        expect(hasVisibleText(comment)).toBe(false);
      }),
    );
  });

  it('property: one visible character anywhere among them makes the comment count', () => {
    fc.assert(
      fc.property(invisible, visible, invisible, (before, letter, after) => {
        const comment = `${before}${letter}${after}`;
        expect(vote('reject', comment).kind).toBe('rejected');
        expect(hasVisibleText(comment)).toBe(true);
      }),
    );
  });
});

describe('reviewers added to and removed from an open review', () => {
  it('a reviewer the review no longer lists cannot vote', () => {
    const outcome = vote('approve', undefined, review({ reviewers: [LEAD] }));
    expect(outcome).toMatchObject({ kind: 'refused', refusal: 'revoked' });
  });

  it('removing an unvoted reviewer revokes their link, stops listing them, and keeps the quorum when it can still be met', () => {
    const r = review({ reviewers: [RISK, LEAD, 'chief@acme-bank.example'], links: { [RISK]: 'l1', [LEAD]: 'l2', 'chief@acme-bank.example': 'l3' } });
    const removed = removeReviewerFromReview({ review: r, reviewer: LEAD, now: NOW });
    expect(removed).toMatchObject({ revokedLinkId: 'l2', voteKept: false, quorum: { approvals: 0, requiredApprovals: 2, reachable: true } });
    expect(removed?.review.reviewers).toEqual([RISK, 'chief@acme-bank.example']);
    expect(removed?.review.links).toEqual({ [RISK]: 'l1', 'chief@acme-bank.example': 'l3' });
    expect(removed?.notice).toBeUndefined();
    expect(removeReviewerFromReview({ review: removed?.review ?? r, reviewer: LEAD, now: NOW })).toBeUndefined();
  });

  it('removing a reviewer who voted keeps the vote (no link to revoke); an unreachable quorum gets a governance notice', () => {
    const r = review({ votes: { [LEAD]: { decision: 'approve', at: '2026-11-27T11:00:00.000Z' } } });
    const removed = removeReviewerFromReview({ review: r, reviewer: LEAD, now: NOW });
    expect(removed?.revokedLinkId).toBeUndefined();
    expect(removed?.voteKept).toBe(true);
    expect(removed?.review.votes[LEAD]).toBeDefined();
    expect(removed?.quorum).toEqual({ approvals: 1, requiredApprovals: 2, canStillVote: [RISK], reachable: true });

    const last = removeReviewerFromReview({ review: removed?.review ?? r, reviewer: RISK, now: NOW });
    expect(last?.quorum).toEqual({ approvals: 1, requiredApprovals: 2, canStillVote: [], reachable: false });
    expect(last?.notice).toMatchObject({ kind: 'notify', topic: 'governance', attributes: { event: 'review-quorum-unreachable', group: 'fraud-detector' } });
    expect(last?.review.status).toBe('Open');
  });

  it('adding a reviewer gives them their own link with the review expiry and its message; twice changes nothing', () => {
    const added = addReviewerToReview({ review: review(), reviewer: 'new@acme-bank.example', version: { arn: ARN, group: 'fraud-detector', version: 1 }, now: NOW, newId: () => 'link-new' });
    expect(added?.link).toEqual({ id: 'link-new', reviewId: 'rev-1', modelPackageArn: ARN, version: 1, reviewer: 'new@acme-bank.example', expiresAt: '2026-11-30T10:00:00.000Z' });
    expect(added?.review.reviewers).toEqual([RISK, LEAD, 'new@acme-bank.example']);
    expect(added?.review.links['new@acme-bank.example']).toBe('link-new');
    expect(added?.message).toMatchObject({ topic: 'reviewers', attributes: { reviewer: 'new@acme-bank.example', event: 'review-requested' }, link: { linkId: 'link-new' } });
    expect(quorumState(added?.review ?? review()).canStillVote).toHaveLength(3);
    expect(addReviewerToReview({ review: added?.review ?? review(), reviewer: 'new@acme-bank.example', version: { arn: ARN, group: 'fraud-detector', version: 1 }, now: NOW, newId: () => 'x' })).toBeUndefined();
    expect(addReviewerToReview({ review: review({ status: 'Approved' }), reviewer: 'new@acme-bank.example', version: { arn: ARN, group: 'fraud-detector', version: 1 }, now: NOW, newId: () => 'x' })).toBeUndefined();
  });
});

describe('refusal pages for the new kinds', () => {
  it.each<[RefusalKind, number, string]>([
    ['revoked', 403, 'This link was withdrawn'],
    ['cross-site', 403, 'Request refused'],
    ['method-not-allowed', 405, 'Method not allowed'],
  ])('%s → %i', (kind, status, heading) => {
    const r = renderRefusal({ kind, message: '<script>x</script>', by: 'mallory@evil.example' });
    expect(r.status).toBe(status);
    expect(r.body).toContain(`data-kind="${kind}"`);
    expect(r.body).toContain(`<h1>${heading}</h1>`);
    expect(r.body).not.toContain('<form');
    expect(r.body).not.toContain('script>x');
    expect(r.body).not.toContain('mallory');
  });
});
