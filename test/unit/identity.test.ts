import fc from 'fast-check';
import { ValidationError } from '../../shared/domain/errors.js';
import { checkSelfApproval, matchesPattern, resolveIdentity } from '../../shared/domain/identity.js';
import { nextPolicyVersion, parsePolicyInput, type IdentityMap } from '../../shared/domain/policy.js';
import { castVote, type ReviewLink, type ReviewRequest } from '../../shared/domain/review.js';
import { loadEvent } from './fixtures.js';

const ALICE = 'alice@acme-bank.example';
const BOB = 'bob@acme-bank.example';
const RISK = 'risk-officer@acme-bank.example';
const ALICE_ROLE = `arn:aws:sts::123456789012:assumed-role/DataScientist/${ALICE}`;
const STUDIO_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc123/alice-ds';

const MAP: IdentityMap = {
  [ALICE]: {
    iamPrincipals: ['arn:aws:sts::123456789012:assumed-role/*/alice@acme-bank.example', 'arn:aws:iam::123456789012:user/alice'],
    studioUserProfiles: [STUDIO_ARN],
  },
  [BOB]: { iamPrincipals: [], studioUserProfiles: ['bob-ml'] },
};

/** The ValidationError that `fn` throws. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  throw new Error('expected a ValidationError');
}

const policy = (identities: unknown) => ({ ...loadEvent('policy-fraud-detector.json'), identities });

describe('matchesPattern', () => {
  it.each<[string, string, boolean]>([
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice', true],
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice2', false],
    ['arn:aws:iam::123456789012:user/alice', 'ARN:AWS:IAM::123456789012:USER/ALICE', true],
    ['arn:aws:sts::123456789012:assumed-role/*/alice@acme-bank.example', ALICE_ROLE, true],
    ['arn:aws:sts::123456789012:assumed-role/*/alice@acme-bank.example', `arn:aws:sts::123456789012:assumed-role/DataScientist/mallory@acme-bank.example`, false],
    ['arn:aws:sts::*:assumed-role/DataScientist/*', ALICE_ROLE, true],
    ['arn:aws:sts::*:assumed-role/Admin/*', ALICE_ROLE, false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['a**b', 'ab', true],
    ['*.example', 'x.example', true],
    // Regular-expression characters are literal.
    ['arn:aws:iam::1:user/a.c', 'arn:aws:iam::1:user/abc', false],
    ['arn:aws:iam::1:user/(a+)+$', 'arn:aws:iam::1:user/(a+)+$', true],
  ])('%s against %s: %s', (pattern, text, expected) => {
    expect(matchesPattern(pattern, text)).toBe(expected);
  });

  /** A reference matcher: the textbook dynamic program over (pattern, text), ignoring case. */
  function reference(pattern: string, text: string): boolean {
    const p = pattern.toLowerCase();
    const t = text.toLowerCase();
    let row = Array.from({ length: t.length + 1 }, (_, j) => j === 0);
    for (const c of p) {
      const next = Array.from({ length: t.length + 1 }, () => false);
      next[0] = c === '*' && (row[0] ?? false);
      for (let j = 1; j <= t.length; j++) {
        next[j] = c === '*' ? (row[j] ?? false) || (next[j - 1] ?? false) : (row[j - 1] ?? false) && t[j - 1] === c;
      }
      row = next;
    }
    return row[t.length] ?? false;
  }

  const alphabet = fc.constantFrom('a', 'b', 'A', '*', '/', ':', '.', '(', '+', '$');
  it('agrees with a reference matcher on every pattern and text', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 12 }), fc.string({ unit: fc.constantFrom('a', 'b', 'A', '/', ':', '.', '(', '+', '$', '*'), maxLength: 16 }), (pattern, text) => {
        expect(matchesPattern(pattern, text)).toBe(reference(pattern, text));
      }),
      { numRuns: 3000 },
    );
  });

  it('a text always matches a pattern made from it by replacing pieces with *', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const chars = [...text];
        const positions = new Set(cuts.map((c) => (chars.length === 0 ? 0 : c % chars.length)));
        const pattern = chars.map((ch, i) => (positions.has(i) ? '*' : ch === '*' ? '*' : ch)).join('');
        expect(matchesPattern(pattern, text)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('takes bounded time on inputs that make backtracking matchers explode', () => {
    // 256 stars between `a`s against 2,048 `a`s and no `b`: a backtracking (or RegExp)
    // matcher takes exponential time here.
    const pattern = `arn:${'*a'.repeat(254)}*b*`;
    const text = `arn:${'a'.repeat(2044)}`;
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) expect(matchesPattern(pattern, text)).toBe(false);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).toBeLessThan(1000);
  });
});

describe('resolveIdentity', () => {
  it('names the mapped person, with the principal', () => {
    expect(resolveIdentity(ALICE_ROLE, MAP)).toEqual({ kind: 'mapped', person: ALICE, principal: ALICE_ROLE });
    expect(resolveIdentity('arn:aws:iam::123456789012:user/alice', MAP)).toEqual({ kind: 'mapped', person: ALICE, principal: 'arn:aws:iam::123456789012:user/alice' });
  });

  it('maps Studio user profiles by ARN, and by name against a profile ARN or a bare name', () => {
    expect(resolveIdentity(STUDIO_ARN, MAP)).toMatchObject({ kind: 'mapped', person: ALICE });
    // DescribeModelPackage's CreatedBy may carry only the profile's name.
    expect(resolveIdentity('alice-ds', MAP)).toMatchObject({ kind: 'mapped', person: ALICE });
    expect(resolveIdentity('arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-other/bob-ml', MAP)).toMatchObject({ kind: 'mapped', person: BOB });
    expect(resolveIdentity('bob-ml', MAP)).toMatchObject({ kind: 'mapped', person: BOB });
    expect(resolveIdentity('arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc123/bob-ml-2', MAP).kind).toBe('unmapped');
  });

  it('says unmapped, with the reason, for a principal the map does not know or with no map', () => {
    const role = 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fraud-detector-train';
    expect(resolveIdentity(role, MAP)).toEqual({ kind: 'unmapped', principal: role, reason: "no one in the policy's identity map has this principal" });
    expect(resolveIdentity(role)).toEqual({ kind: 'unmapped', principal: role, reason: "the group's policy has no identity map" });
    expect(resolveIdentity(role, {})).toEqual({ kind: 'unmapped', principal: role, reason: "the group's policy has no identity map" });
  });

  it('says unknown only when there is no principal, with the reason given', () => {
    expect(resolveIdentity(undefined, MAP, 'SageMaker did not say who registered it')).toEqual({ kind: 'unknown', reason: 'SageMaker did not say who registered it' });
    expect(resolveIdentity('', MAP)).toEqual({ kind: 'unknown', reason: 'SageMaker did not say who it was' });
  });

  it('names everyone an overlapping map matches', () => {
    const overlap: IdentityMap = { [BOB]: { iamPrincipals: ['arn:aws:sts::*'], studioUserProfiles: [] }, [ALICE]: MAP[ALICE] ?? { iamPrincipals: [], studioUserProfiles: [] } };
    expect(resolveIdentity(ALICE_ROLE, overlap)).toEqual({ kind: 'mapped', person: ALICE, principal: ALICE_ROLE, alsoMatches: [BOB] });
  });
});

describe('checkSelfApproval', () => {
  it('with a map: refuses the person the registrant or trainer resolves to, whatever the names say', () => {
    expect(checkSelfApproval(ALICE, { registeredBy: ALICE_ROLE }, MAP)).toEqual({ selfApproval: true, method: 'identity-map', role: 'registered', principal: ALICE_ROLE });
    expect(checkSelfApproval(ALICE, { trainedBy: STUDIO_ARN }, MAP)).toEqual({ selfApproval: true, method: 'identity-map', role: 'trained', principal: STUDIO_ARN });
    // `alice-ds` is not Alice's address or local part: the heuristic would miss it.
    expect(checkSelfApproval(ALICE, { trainedBy: STUDIO_ARN })).toEqual({ selfApproval: false, method: 'name-heuristic' });
    // A session named after Alice but not in her map is not her.
    const lookalike = 'arn:aws:sts::999999999999:assumed-role/Other/alice';
    expect(checkSelfApproval(ALICE, { registeredBy: lookalike }, MAP)).toEqual({ selfApproval: false, method: 'identity-map' });
    expect(checkSelfApproval(ALICE, { registeredBy: lookalike })).toEqual({ selfApproval: true, method: 'name-heuristic', role: 'registered', principal: lookalike });
  });

  it('with a map: another person is free to approve', () => {
    expect(checkSelfApproval(RISK, { registeredBy: ALICE_ROLE, trainedBy: STUDIO_ARN }, MAP)).toEqual({ selfApproval: false, method: 'identity-map' });
  });

  it('without a map: the name heuristic, and the result says so', () => {
    expect(checkSelfApproval(RISK, { registeredBy: `arn:aws:sts::1:assumed-role/DS/${RISK}` })).toMatchObject({ selfApproval: true, method: 'name-heuristic', role: 'registered' });
    expect(checkSelfApproval(RISK, { trainedBy: 'arn:aws:sagemaker:us-east-1:1:user-profile/d-1/risk-officer' })).toMatchObject({ selfApproval: true, method: 'name-heuristic', role: 'trained' });
    expect(checkSelfApproval(RISK, {})).toEqual({ selfApproval: false, method: 'name-heuristic' });
  });
});

describe('castVote with an identity map', () => {
  const NOW = Date.parse('2026-11-27T12:00:00Z');
  const review: ReviewRequest = {
    id: 'r1', modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1', group: 'g', version: 1, status: 'Open',
    openedAt: '2026-11-27T09:00:00Z', expiresAt: '2026-11-30T09:00:00Z', policyVersion: 1, requiredApprovals: 1, allowSelfApproval: false,
    reminderAfterHours: 24, reviewers: [ALICE, RISK], links: {}, votes: {}, remindedAt: {},
  };
  const link: ReviewLink = { id: 'l1', reviewId: 'r1', modelPackageArn: review.modelPackageArn, version: 1, reviewer: ALICE, expiresAt: review.expiresAt };

  it('refuses the mapped trainer, naming the map; lets them reject', () => {
    const refused = castVote({ review, link, vote: { decision: 'approve' }, version: { trainedBy: STUDIO_ARN }, identities: MAP, now: NOW, newId: () => 'd1' });
    expect(refused).toEqual({ kind: 'refused', refusal: 'self-approval', message: "You trained this version (by the policy's identity map), and its policy does not allow self-approval." });
    const rejected = castVote({ review, link, vote: { decision: 'reject', comment: 'mine' }, version: { trainedBy: STUDIO_ARN }, identities: MAP, now: NOW, newId: () => 'd1' });
    expect(rejected.kind).toBe('rejected');
  });

  it('without the map, the same vote is judged by name', () => {
    expect(castVote({ review, link, vote: { decision: 'approve' }, version: { trainedBy: STUDIO_ARN }, now: NOW, newId: () => 'd1' }).kind).toBe('approved');
    const byName = castVote({ review, link, vote: { decision: 'approve' }, version: { registeredBy: 'arn:aws:iam::1:user/alice' }, now: NOW, newId: () => 'd1' });
    expect(byName).toMatchObject({ kind: 'refused', message: 'You registered this version (by name), and its policy does not allow self-approval.' });
  });
});

describe('the identity map in a policy', () => {
  it('accepts a map, lowercases the addresses, and fills in empty lists', () => {
    const p = parsePolicyInput(policy({ 'Alice@Acme-Bank.example': { iamPrincipals: ['arn:aws:iam::123456789012:user/alice'] } }));
    expect(p.identities).toEqual({ [ALICE]: { iamPrincipals: ['arn:aws:iam::123456789012:user/alice'], studioUserProfiles: [] } });
  });

  it('allows someone who is not a reviewer (a registrant)', () => {
    expect(parsePolicyInput(policy({ 'ds@acme-bank.example': { studioUserProfiles: ['ds-1'] } })).identities).toEqual({ 'ds@acme-bank.example': { iamPrincipals: [], studioUserProfiles: ['ds-1'] } });
  });

  it('an empty map is no map', () => {
    expect(parsePolicyInput(policy({})).identities).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ['a key that is not an address', { alice: { iamPrincipals: ['arn:aws:iam::1:user/alice'] } }, 'identities.alice'],
    ['an empty pattern', { [ALICE]: { iamPrincipals: [''] } }, `identities.${ALICE}.iamPrincipals.0: must not be empty`],
    ['a pattern that is not an ARN', { [ALICE]: { iamPrincipals: ['alice'] } }, `identities.${ALICE}.iamPrincipals.0: must be an ARN pattern (start with arn:)`],
    ['a pattern of wildcards', { [ALICE]: { iamPrincipals: ['arn:*'] } }, `identities.${ALICE}.iamPrincipals.0: must name something besides wildcards`],
    ['a pattern with a space', { [ALICE]: { iamPrincipals: ['arn:aws:iam::1:user/a lice'] } }, `identities.${ALICE}.iamPrincipals.0: must not contain white space or control characters`],
    ['a pattern too long', { [ALICE]: { iamPrincipals: [`arn:${'a'.repeat(509)}`] } }, `identities.${ALICE}.iamPrincipals.0: at most 512 characters`],
    ['a bad Studio profile', { [ALICE]: { studioUserProfiles: ['not a/profile'] } }, `identities.${ALICE}.studioUserProfiles.0`],
    ['too many patterns for one person', { [ALICE]: { iamPrincipals: Array.from({ length: 21 }, (_, i) => `arn:aws:iam::1:user/a${i}`) } }, `identities.${ALICE}.iamPrincipals: at most 20 patterns`],
    ['an entry that maps nothing', { [ALICE]: {} }, `identities.${ALICE}: needs at least one of iamPrincipals, studioUserProfiles`],
    ['an unknown field', { [ALICE]: { iamPrincipals: ['arn:aws:iam::1:user/a'], roles: [] } }, `identities.${ALICE}`],
    ['the same person twice', { [ALICE]: { studioUserProfiles: ['a'] }, 'ALICE@acme-bank.example': { studioUserProfiles: ['b'] } }, 'identities.ALICE@acme-bank.example: named twice (addresses ignore case)'],
    ['too many people', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}@acme-bank.example`, { studioUserProfiles: ['x'] }])), 'identities: at most 50 people'],
    ['too many patterns in all', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}@acme-bank.example`, { studioUserProfiles: Array.from({ length: 20 }, (_, j) => `u${j}`) }])), 'identities: at most 200 patterns in all, found 220'],
  ])('refuses %s, naming the field', (_what, identities, named) => {
    const problems = problemsOf(() => parsePolicyInput(policy(identities)));
    expect(problems.some((p) => p.startsWith(named))).toBe(true);
  });

  it('a change to the map alone is a new policy version', () => {
    const first = nextPolicyVersion(parsePolicyInput(policy(undefined)), undefined, 0);
    if (first === 'unchanged') throw new Error('unreachable');
    expect(nextPolicyVersion(parsePolicyInput(policy({})), first, 1)).toBe('unchanged');
    const next = nextPolicyVersion(parsePolicyInput(policy({ [ALICE]: { studioUserProfiles: ['alice-ds'] } })), first, 1);
    expect(next !== 'unchanged' && next.version).toBe(2);
  });
});
