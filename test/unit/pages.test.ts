import fc from 'fast-check';
import {
  SECURITY_HEADERS,
  escapeHtml,
  html,
  htmlResponse,
  raw,
} from '../../shared/web/pages.js';
import { TRUST_LINE, renderConfirmation, renderNewLinkRequested, renderRefusal, renderReviewPage } from '../support/pages.js';
import type { ConfirmationModel, RefusalKind, RefusalModel, ReviewPageModel } from '../../shared/web/views.js';

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

const ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-xgb/7';

function sampleModel(): ReviewPageModel {
  return {
    group: 'churn-xgb',
    version: 7,
    modelPackageArn: ARN,
    description: 'XGBoost churn model, retrained on November data.',
    registeredBy: 'alice@example.com',
    trainedBy: 'bob@example.com',
    approvalStatus: 'PendingManualApproval',
    metrics: [
      { name: 'trainingJob:validation:auc', comparison: '>=', threshold: 0.85, actual: 0.912, passed: true },
      { name: 'evaluation:metrics.recall', comparison: '>=', threshold: 0.7, actual: 0.64, passed: false },
      {
        name: 'metadata:bias_gap',
        comparison: '<=',
        threshold: 0.05,
        actual: null,
        passed: false,
        problem: 'metric not found in customer metadata',
      },
    ],
    lineage: {
      trainingJob: {
        name: 'churn-xgb-2026-11-20-10-00-00',
        arn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/churn-xgb-2026-11-20-10-00-00',
      },
      datasets: [
        { channel: 'train', uri: 's3://acme-ml-data/churn/2026-11/train/' },
        { channel: 'validation', uri: 's3://acme-ml-data/churn/2026-11/validation/' },
      ],
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/xgboost:1.7-1',
      imageDigest: 'sha256:4f1a9c0b7e2d3a5b6c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
      hyperparameters: { max_depth: '6', eta: '0.2', num_round: '300' },
    },
    customerMetadata: { team: 'retention', ticket: 'ML-1423' },
    policyVersion: 3,
    requiredApprovals: 2,
    votes: [{ reviewer: 'carol@example.com', decision: 'approve', comment: 'Recall gap acknowledged.', at: '2026-11-27T08:15:00Z' }],
    reviewer: 'dave@example.com',
    expiresAt: '2026-11-30T09:00:00Z',
    canApprove: true,
  };
}

/** Every tag in a page. Sound only because no escaped text contains a raw `<` or `>`. */
function tagsOf(page: string): string[] {
  return page.match(/<[^>]*>/g) ?? [];
}

/** Tag names in document order (`p`, `/p`, …), the page's structure. */
function tagNames(page: string): string[] {
  return [...page.matchAll(/<(\/?[a-zA-Z][a-zA-Z0-9]*|!doctype)/g)].map((x) => (x[1] ?? '').toLowerCase());
}

/** An independent reference decoder for the six escapes the helper emits. */
function unescapeHtml(s: string): string {
  return s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&#96;', '`')
    .replaceAll('&amp;', '&');
}

/** An independent reference encoder (the test must not trust the code under test to define "escaped"). */
function expectedEscape(s: string): string {
  return s
    .split('&')
    .join('&amp;')
    .split('<')
    .join('&lt;')
    .split('>')
    .join('&gt;')
    .split('"')
    .join('&quot;')
    .split("'")
    .join('&#39;')
    .split('`')
    .join('&#96;');
}

/** The visible text of a page, tags removed and entities decoded (the `<style>` block dropped). */
function textOf(page: string): string {
  return unescapeHtml(page.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .replace(/ ([.,;:])/g, '$1') // a closing tag before punctuation is not a word break
    .trim();
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** The one tag matching `pattern`, failing when there is not exactly one. */
function onlyTag(page: string, pattern: RegExp): string {
  const found = tagsOf(page).filter((t) => pattern.test(t));
  expect(found).toHaveLength(1);
  return found[0] ?? '';
}

/** The invariants every rendered document holds, whatever the input. */
function expectNoActiveContent(page: string): void {
  expect(page).not.toMatch(/<script/i);
  expect(page).not.toMatch(/<(img|svg|iframe|object|embed|link|base|meta http-equiv)/i);
  for (const tag of tagsOf(page)) {
    expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
    expect(tag).not.toMatch(/\s(href|src|srcdoc|formaction|action=["'][^"'])/i);
    expect(tag).not.toMatch(/javascript:/i);
  }
  expect(count(page, '<style>')).toBe(1);
  expect(count(page, '</style>')).toBe(1);
  expect(count(page, '<title>')).toBe(1);
  expect(count(page, '</title>')).toBe(1);
}

// ---------------------------------------------------------------------------------------------
// The html helper
// ---------------------------------------------------------------------------------------------

describe('html tagged template', () => {
  it('escapes & < > " \' and backtick in every interpolated value', () => {
    expect(escapeHtml('&<>"\'`')).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
    expect(html`<p title="${'"x"'}">${'<b>&'}</p>`.value).toBe('<p title="&quot;x&quot;">&lt;b&gt;&amp;</p>');
  });

  it('inserts raw() fragments and nested html as they are, and escapes strings inside lists', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${raw('<br>')}${['<', inner]}</p>`.value).toBe('<p><b>&lt;i&gt;</b><br>&lt;<b>&lt;i&gt;</b></p>');
  });

  it('renders numbers, and nothing for false, null and undefined', () => {
    expect(html`${1.5}|${0}|${false}|${null}|${undefined}|`.value).toBe('1.5|0||||');
  });

  it('escapes an already-escaped string again (no double-decoding shortcut)', () => {
    expect(html`${'&lt;script&gt;'}`.value).toBe('&amp;lt;script&amp;gt;');
  });
});

// ---------------------------------------------------------------------------------------------
// XSS corpus in every string field
// ---------------------------------------------------------------------------------------------

const XSS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='x",
  '</textarea><script>alert(1)</script>',
  'javascript:alert(1)',
  '</style><script>alert(1)</script><style>',
  '</title><svg/onload=alert(1)>',
  '`${alert(document.cookie)}`',
  '<!-- --><a href="javascript:alert(1)">x</a>',
  '&lt;script&gt;',
];
const PAYLOAD = XSS.join(' ');

type Setter = (m: ReviewPageModel, s: string) => void;

function metricAt(m: ReviewPageModel, i: number) {
  const row = m.metrics[i];
  if (row === undefined) throw new Error(`no metric ${i}`);
  return row;
}

const FIELDS: Array<[string, Setter]> = [
  ['group', (m, s) => (m.group = s)],
  ['modelPackageArn', (m, s) => (m.modelPackageArn = s)],
  ['description', (m, s) => (m.description = s)],
  ['registeredBy', (m, s) => (m.registeredBy = s)],
  ['trainedBy', (m, s) => (m.trainedBy = s)],
  ['approvalStatus', (m, s) => (m.approvalStatus = s)],
  ['metric name', (m, s) => (metricAt(m, 0).name = s)],
  ['metric comparison', (m, s) => (metricAt(m, 0).comparison = s)],
  ['metric problem (no actual)', (m, s) => (metricAt(m, 2).problem = s)],
  ['metric problem (with actual)', (m, s) => (metricAt(m, 0).problem = s)],
  ['training job name', (m, s) => (m.lineage.trainingJob = { name: s, arn: 'arn:aws:sagemaker:eu-west-1:1:training-job/x' })],
  ['training job arn', (m, s) => (m.lineage.trainingJob = { name: 'job', arn: s })],
  ['dataset channel', (m, s) => (m.lineage.datasets = [{ channel: s, uri: 's3://b/k' }])],
  ['dataset uri', (m, s) => (m.lineage.datasets = [{ channel: 'train', uri: s }])],
  ['image', (m, s) => (m.lineage.image = s)],
  ['image digest', (m, s) => (m.lineage.imageDigest = s)],
  ['hyperparameter key', (m, s) => (m.lineage.hyperparameters = { [s]: '1' })],
  ['hyperparameter value', (m, s) => (m.lineage.hyperparameters = { eta: s })],
  ['metadata key', (m, s) => (m.customerMetadata = { [s]: 'v' })],
  ['metadata value', (m, s) => (m.customerMetadata = { team: s })],
  ['vote reviewer', (m, s) => (m.votes = [{ reviewer: s, decision: 'reject', comment: 'no', at: '2026-11-27T08:15:00Z' }])],
  ['vote comment', (m, s) => (m.votes = [{ reviewer: 'carol@example.com', decision: 'reject', comment: s, at: '2026-11-27T08:15:00Z' }])],
  ['vote time', (m, s) => (m.votes = [{ reviewer: 'carol@example.com', decision: 'approve', at: s }])],
  ['link reviewer', (m, s) => (m.reviewer = s)],
  ['link expiry', (m, s) => (m.expiresAt = s)],
  [
    'approve blocked reason',
    (m, s) => {
      m.canApprove = false;
      m.approveBlockedReason = s;
    },
  ],
];

describe('review page: every string from the model is escaped', () => {
  it.each(FIELDS)('renders an XSS corpus in %s as text, never as markup', (_field, set) => {
    const m = sampleModel();
    set(m, PAYLOAD);
    const page = renderReviewPage(m);

    expectNoActiveContent(page);
    expect(count(page, '<textarea')).toBe(1);
    expect(count(page, '</textarea>')).toBe(1);
    expect(count(page, '<form')).toBe(1);
    // Rendered, not dropped: the escaped form is there, character for character.
    expect(page).toContain(expectedEscape(PAYLOAD));
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('&#96;${alert(document.cookie)}&#96;');
    expect(page).toContain('&amp;lt;script&amp;gt;');
    // The structure is the sample page's: the payload added no tag.
    expect(tagNames(page)).toEqual(tagNames(renderReviewPage(withField(set, 'harmless'))));
  });

  it('renders the corpus in every field at once without any active content', () => {
    const m = sampleModel();
    for (const [, set] of FIELDS) set(m, PAYLOAD);
    const page = renderReviewPage(m);
    expectNoActiveContent(page);
    // Six setters overwrite an earlier one (key then value, name then ARN, the three vote fields).
    expect(count(page, expectedEscape(PAYLOAD))).toBeGreaterThanOrEqual(FIELDS.length - 6);
  });
});

function withField(set: Setter, s: string): ReviewPageModel {
  const m = sampleModel();
  set(m, s);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

/** Strings rich in the characters that matter, plus arbitrary code points and the corpus. */
const nasty = fc.oneof(
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '`', '/', '=', ' ', '\n', '!', '-', 's', 'c', 'r', 'i', 'p', 't', ';', '#') }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(...XSS),
);

describe('review page: property tests', () => {
  it('shows any description as escaped text that decodes back to the original', () => {
    fc.assert(
      fc.property(nasty.filter((s) => s !== ''), (description) => {
        const page = renderReviewPage({ ...sampleModel(), description });
        const start = page.indexOf('data-testid="description">') + 'data-testid="description">'.length;
        const shown = page.slice(start, page.indexOf('</p>', start));
        expect(shown).not.toMatch(/[<>"'`]/);
        expect(unescapeHtml(shown)).toBe(description);
        expect(tagNames(page)).toEqual(tagNames(renderReviewPage(sampleModel())));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the page structure whatever strings fill every field', () => {
    const SLOTS = 24;
    const build = (s: (i: number) => string): ReviewPageModel => ({
      group: s(0),
      version: 1,
      modelPackageArn: s(1),
      description: s(2) + '.', // non-empty, so the description paragraph is always the same element
      registeredBy: s(3) + '.',
      trainedBy: s(4) + '.',
      approvalStatus: s(5),
      metrics: [
        { name: s(6), comparison: s(7), threshold: 1, actual: 2, passed: true, problem: s(8) },
        { name: s(9), comparison: '>=', threshold: 1, actual: null, passed: false, problem: s(10) },
      ],
      lineage: {
        trainingJob: { name: s(11), arn: s(12) },
        datasets: [{ channel: s(13), uri: s(14) }],
        image: s(15),
        imageDigest: s(16),
        hyperparameters: Object.fromEntries([[`${s(17)}#1`, s(18)]]),
      },
      customerMetadata: Object.fromEntries([
        [`${s(19)}#1`, s(20)],
        [`${s(19)}#2`, s(20)],
      ]),
      policyVersion: 1,
      requiredApprovals: 2,
      votes: [{ reviewer: s(21), decision: 'reject', comment: s(22), at: s(23) }],
      reviewer: s(21),
      expiresAt: s(23),
      canApprove: false,
      approveBlockedReason: s(0),
    });
    const baseline = tagNames(renderReviewPage(build(() => 'x')));
    fc.assert(
      fc.property(fc.array(nasty, { minLength: SLOTS, maxLength: SLOTS }), (strings) => {
        const page = renderReviewPage(build((i) => strings[i] ?? ''));
        expect(tagNames(page)).toEqual(baseline);
        for (const tag of tagsOf(page)) expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Review page structure and content
// ---------------------------------------------------------------------------------------------

describe('review page: structure', () => {
  const page = renderReviewPage(sampleModel());
  const text = textOf(page);

  it('is a whole English document with a viewport, one style block and no script at all', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain('<meta charset="utf-8">');
    expectNoActiveContent(page);
  });

  it('has exactly one form, posting to an empty action (the token is never written into the page)', () => {
    expect(count(page, '<form')).toBe(1);
    const form = onlyTag(page, /^<form\b/);
    expect(form).toMatch(/\smethod="post"/);
    expect(form).toMatch(/\saction=""/);
  });

  it('has a comment textarea and the approve and reject submit buttons inside the form', () => {
    const formHtml = page.slice(page.indexOf('<form'), page.indexOf('</form>'));
    expect(formHtml).toContain('<textarea id="comment" name="comment" data-testid="comment"');
    expect(formHtml).toMatch(/<textarea[^>]*><\/textarea>/);
    const approve = onlyTag(formHtml, /data-testid="approve"/);
    const reject = onlyTag(formHtml, /data-testid="reject"/);
    expect(approve).toMatch(/^<button type="submit" name="decision" value="approve"/);
    expect(reject).toMatch(/^<button type="submit" name="decision" value="reject"/);
    expect(approve).not.toMatch(/disabled/);
    expect(reject).not.toMatch(/disabled/);
    expect(formHtml).toContain('>Approve</button>');
    expect(formHtml).toContain('>Reject</button>');
    expect(textOf(formHtml)).toContain('A comment is required to reject');
  });

  it('disables Approve and shows why when separation of duties forbids it, leaving Reject usable', () => {
    const blocked = renderReviewPage({
      ...sampleModel(),
      canApprove: false,
      approveBlockedReason: 'You trained this model version, so you may not approve it.',
    });
    expect(onlyTag(blocked, /data-testid="approve"/)).toMatch(/\sdisabled[\s>]/);
    expect(onlyTag(blocked, /data-testid="reject"/)).not.toMatch(/disabled/);
    expect(textOf(blocked)).toContain('You trained this model version, so you may not approve it.');
    expect(blocked).toContain('aria-describedby="approve-blocked"');
  });

  it('shows a default reason when Approve is blocked without one', () => {
    const blocked = renderReviewPage({ ...sampleModel(), canApprove: false });
    expect(onlyTag(blocked, /data-testid="approve"/)).toMatch(/\sdisabled[\s>]/);
    expect(textOf(blocked)).toContain('You may not approve this version.');
  });

  it('names the group and version in the title and the heading', () => {
    expect(page).toContain('<title>Review: churn-xgb, version 7 — modelgate</title>');
    expect(page).toMatch(/<h1[^>]*>Review: churn-xgb, version 7<\/h1>/);
  });

  it('shows the description, ARN, who registered and trained it, and the registry status', () => {
    expect(text).toContain('XGBoost churn model, retrained on November data.');
    expect(text).toContain(ARN);
    expect(text).toContain('Registered by alice@example.com');
    expect(text).toContain('Trained by bob@example.com');
    expect(text).toContain('Registry status PendingManualApproval');
  });

  it('says "unknown" and "No description." when those are missing', () => {
    const m = sampleModel();
    delete m.description;
    delete m.registeredBy;
    delete m.trainedBy;
    const t = textOf(renderReviewPage(m));
    expect(t).toContain('No description.');
    expect(t).toContain('Registered by unknown');
    expect(t).toContain('Trained by unknown');
  });

  it('shows each metric rule with its requirement, actual value or problem, and PASS/FAIL as text', () => {
    const table = page.slice(page.indexOf('data-testid="metrics"'), page.indexOf('</table>', page.indexOf('data-testid="metrics"')));
    const rows = table.split('<tr>').slice(2).map(textOf); // [0] before thead, [1] header row
    expect(rows).toEqual([
      'trainingJob:validation:auc ≥ 0.85 0.912 ✓ PASS',
      'evaluation:metrics.recall ≥ 0.7 0.64 ✗ FAIL',
      'metadata:bias_gap ≤ 0.05 metric not found in customer metadata ✗ FAIL',
    ]);
    expect(table).toContain('<td class="pass"><span aria-hidden="true">✓</span> PASS</td>');
    expect(count(table, '<td class="fail">')).toBe(2);
    expect(text).toContain('2 of 3 metric rules fail.');
  });

  it('shows the lineage: training job, datasets by channel, image with digest, hyperparameters', () => {
    expect(text).toContain('Training job churn-xgb-2026-11-20-10-00-00 arn:aws:sagemaker:eu-west-1:123456789012:training-job/churn-xgb-2026-11-20-10-00-00');
    expect(text).toContain('train s3://acme-ml-data/churn/2026-11/train/');
    expect(text).toContain('validation s3://acme-ml-data/churn/2026-11/validation/');
    expect(text).toContain('Image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/xgboost:1.7-1');
    expect(text).toContain('Image digest sha256:4f1a9c0b7e2d');
    expect(text).toContain('eta 0.2 max_depth 6 num_round 300'); // sorted by key
  });

  it('shows the customer metadata, the policy version and the approvals needed', () => {
    expect(text).toContain('team retention ticket ML-1423');
    expect(text).toContain('Policy version 3: 2 distinct approvals needed.');
  });

  it('shows the votes so far with reviewer, decision, comment and time', () => {
    expect(text).toContain('Approvals so far: 1 of 2 needed.');
    const votes = page.slice(page.indexOf('data-testid="votes"'), page.indexOf('</table>', page.indexOf('data-testid="votes"')));
    expect(textOf(votes.split('<tr>')[2] ?? '')).toBe('carol@example.com Approve Recall gap acknowledged. 2026-11-27 08:15 UTC');
    expect(votes).toContain('<time datetime="2026-11-27T08:15:00Z">');
  });

  it('says "No votes yet." when nobody has voted', () => {
    const none = renderReviewPage({ ...sampleModel(), votes: [] });
    expect(none).toContain('<p class="muted" id="votes" data-testid="votes">No votes yet.</p>');
    expect(textOf(none)).toContain('Approvals so far: 0 of 2 needed.');
  });

  it('says for whom the link is and when it expires', () => {
    expect(text).toContain('This link is for dave@example.com and expires at 2026-11-30 09:00 UTC. It can be used once.');
  });

  it('shows an expiry that is not an ISO timestamp as given', () => {
    expect(textOf(renderReviewPage({ ...sampleModel(), expiresAt: 'tomorrow' }))).toContain('expires at tomorrow.');
  });
});

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

describe('refusal pages', () => {
  const STATUSES: Array<[RefusalKind, number]> = [
    ['expired', 410],
    ['used', 409],
    ['refused', 403],
    ['closed', 409],
    ['self-approval', 403],
    ['bad-request', 400],
  ];

  it.each(STATUSES)('%s → %i, its own page with a heading and no active content', (kind, status) => {
    const r = renderRefusal({ kind });
    expect(r.status).toBe(status);
    expectNoActiveContent(r.body);
    expect(r.body).toContain(`<section data-testid="refusal" data-kind="${kind}">`);
    expect(count(r.body, '<h1>')).toBe(1);
    // Only the expired and refused pages offer "send me a new link" (a form); the others have none.
    if (kind === 'expired' || kind === 'refused') expect(count(r.body, '<form')).toBe(1);
    else expect(r.body).not.toContain('<form');
  });

  it.each(['expired', 'refused'] as const)('%s: offers "send me a new link": one POST form to the page itself, with intent=new-link and nothing else', (kind) => {
    const r = renderRefusal({ kind });
    const form = r.body.slice(r.body.indexOf('<form'), r.body.indexOf('</form>') + '</form>'.length);
    expect(form).toBe(
      '<form method="post" action="" data-testid="new-link-form">\n<input type="hidden" name="intent" value="new-link">\n<p><button type="submit" data-testid="new-link">Send me a new link</button></p>\n</form>',
    );
  });

  it('rate-limited → 429 and review-expired → 410, plain pages without a form; review-expired says only an operator can reopen it', () => {
    const limited = renderRefusal({ kind: 'rate-limited' });
    const lapsed = renderRefusal({ kind: 'review-expired', at: '2026-11-30T12:00:00.000Z' });
    expect([limited.status, lapsed.status]).toEqual([429, 410]);
    for (const r of [limited, lapsed]) {
      expectNoActiveContent(r.body);
      expect(r.body).not.toContain('<form');
    }
    expect(textOf(limited.body)).toContain('Too many new links');
    expect(textOf(lapsed.body)).toContain('The review of this model version ended at 2026-11-30 12:00 UTC without a decision, so no new link was sent. Only an operator can reopen the review');
  });

  it('the "new link requested" page is fixed text: the same for a sent link and a forged one', () => {
    const r = renderNewLinkRequested();
    expect(r.status).toBe(200);
    expectNoActiveContent(r.body);
    expect(textOf(r.body)).toContain('If this link was made for you, a new link is on its way to the address it was sent to.');
    expect(renderNewLinkRequested()).toEqual(r);
  });

  it('expired: says the link expired and to ask for a new one', () => {
    const t = textOf(renderRefusal({ kind: 'expired' }).body);
    expect(t).toContain('This link has expired');
    expect(t).toContain('Ask for a new link');
  });

  it('used: says already decided, by whom and when', () => {
    const r = renderRefusal({ kind: 'used', by: 'carol@example.com', at: '2026-11-27T08:15:00Z' });
    expect(r.status).toBe(409);
    expect(textOf(r.body)).toContain('already decided by carol@example.com at 2026-11-27 08:15 UTC.');
  });

  it('refused: says refused and echoes none of the values passed in', () => {
    const secrets = {
      by: 'mallory-by@evil.example',
      at: '2031-01-02T03:04:05Z',
      status: 'status-marker-7731',
      message: 'signature mismatch marker-9912',
    };
    const r = renderRefusal({ kind: 'refused', ...secrets });
    expect(r.status).toBe(403);
    expect(textOf(r.body)).toContain('refused');
    for (const v of [...Object.values(secrets), '2031-01-02 03:04', 'mallory', 'signature', 'tamper', 'another version']) {
      expect(r.body).not.toContain(v);
      expect(r.body.toLowerCase()).not.toContain(v.toLowerCase());
    }
  });

  it('closed: says the review is closed, with its status', () => {
    const t = textOf(renderRefusal({ kind: 'closed', status: 'Approved' }).body);
    expect(t).toContain('This review is closed');
    expect(t).toContain('its status is Approved');
  });

  it('self-approval: explains separation of duties', () => {
    const r = renderRefusal({ kind: 'self-approval' });
    expect(r.status).toBe(403);
    expect(textOf(r.body)).toContain('Separation of duties');
  });

  it('bad-request: shows the message', () => {
    const r = renderRefusal({ kind: 'bad-request', message: 'A comment is required to reject.' });
    expect(r.status).toBe(400);
    expect(textOf(r.body)).toContain('A comment is required to reject.');
  });

  it('escapes every value it does show', () => {
    const models: RefusalModel[] = [
      { kind: 'used', by: PAYLOAD, at: PAYLOAD },
      { kind: 'closed', status: PAYLOAD },
      { kind: 'bad-request', message: PAYLOAD },
    ];
    for (const m of models) {
      const body = renderRefusal(m).body;
      expectNoActiveContent(body);
      expect(body).toContain(expectedEscape(PAYLOAD));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Confirmation
// ---------------------------------------------------------------------------------------------

describe('confirmation page', () => {
  const base: ConfirmationModel = { group: 'churn-xgb', version: 7, decision: 'approve', outcome: 'recorded', approvals: 1, requiredApprovals: 2 };

  it('recorded: says the vote was recorded and how many approvals there are of how many', () => {
    const page = renderConfirmation(base);
    const t = textOf(page);
    expect(page).toContain('data-testid="confirmation"');
    expect(t).toContain('Your approval of churn-xgb version 7 was recorded.');
    expect(t).toContain('1 of 2 approvals.');
    expect(t).not.toMatch(/now (Approved|Rejected)/);
    expectNoActiveContent(page);
  });

  it('approved: says the version is now Approved in the registry, with the decision id', () => {
    const t = textOf(renderConfirmation({ ...base, outcome: 'approved', approvals: 2, decisionId: 'dec-01JD8X4' }));
    expect(t).toContain('churn-xgb version 7 is now Approved in the model registry.');
    expect(t).toContain('Decision id: dec-01JD8X4');
  });

  it('rejected: says the version is now Rejected in the registry, with the decision id', () => {
    const t = textOf(renderConfirmation({ ...base, decision: 'reject', outcome: 'rejected', approvals: 0, decisionId: 'dec-01JD8X5' }));
    expect(t).toContain('Your rejection of churn-xgb version 7 was recorded.');
    expect(t).toContain('churn-xgb version 7 is now Rejected in the model registry.');
    expect(t).toContain('Decision id: dec-01JD8X5');
  });

  it('escapes the group and the decision id', () => {
    const page = renderConfirmation({ ...base, group: PAYLOAD, outcome: 'approved', decisionId: PAYLOAD });
    expectNoActiveContent(page);
    expect(count(page, expectedEscape(PAYLOAD))).toBeGreaterThanOrEqual(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

describe('security headers', () => {
  it('are exactly these', () => {
    expect(SECURITY_HEADERS).toEqual({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Robots-Tag': 'noindex, nofollow',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
    });
    expect(Object.isFrozen(SECURITY_HEADERS)).toBe(true);
  });

  it('allow no script: no script-src, default-src none, unsafe-inline only for styles', () => {
    const directives = new Map(
      (SECURITY_HEADERS['Content-Security-Policy'] ?? '').split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    for (const name of directives.keys()) expect(name).not.toMatch(/^script-src/);
    expect(SECURITY_HEADERS['Content-Security-Policy']).not.toMatch(/unsafe-eval|strict-dynamic|nonce-|sha256-/);
    for (const [name, values] of directives) {
      if (values.includes("'unsafe-inline'")) expect(name).toBe('style-src');
    }
  });

  it('come with every response, as a copy', () => {
    const r = htmlResponse(410, '<p>x</p>');
    expect(r).toEqual({ statusCode: 410, headers: { ...SECURITY_HEADERS }, body: '<p>x</p>' });
    r.headers['X-Frame-Options'] = 'SAMEORIGIN';
    expect(SECURITY_HEADERS['X-Frame-Options']).toBe('DENY');
  });
});

describe('the organisation and Strict-Transport-Security (issue 10)', () => {
  const ORG_LINE = `<p class="organisation" data-testid="organisation">${TRUST_LINE}</p>`;
  const KINDS: RefusalKind[] = ['expired', 'used', 'refused', 'closed', 'self-approval', 'revoked', 'cross-site', 'method-not-allowed', 'bad-request', 'rate-limited', 'review-expired', 'sign-in-required', 'wrong-identity', 'sign-in-failed'];

  it('every page names the organisation first, exactly once', () => {
    const bodies = [
      renderReviewPage(sampleModel()),
      renderConfirmation({ group: 'churn-xgb', version: 7, decision: 'approve', outcome: 'recorded', approvals: 1, requiredApprovals: 2 }),
      renderNewLinkRequested().body,
      ...KINDS.map((kind) => renderRefusal({ kind }).body),
    ];
    for (const body of bodies) {
      expect(body.split(ORG_LINE)).toHaveLength(2);
      expect(body).toContain(`<main>\n${ORG_LINE}\n`);
    }
  });

  it('escapes the organisation, and shows a contact URL as text, not as a link', async () => {
    const { renderRefusal: render } = await import('../../shared/web/pages.js');
    const body = render({ kind: 'expired' }, { name: 'Acme <b>Bank</b> & "Co"', contact: 'https://intranet.acme-bank.example/model-risk?x=1&y=2' }).body;
    expect(body).toContain(
      '<p class="organisation" data-testid="organisation">Acme &lt;b&gt;Bank&lt;/b&gt; &amp; &quot;Co&quot; — questions about this message: https://intranet.acme-bank.example/model-risk?x=1&amp;y=2</p>',
    );
    expect(body).not.toMatch(/href|src=/i);
  });

  it.each([200, 303, 400, 401, 403, 404, 405, 409, 410, 429, 500])('%s: Strict-Transport-Security, two years, subdomains included', (status) => {
    expect(htmlResponse(status, '').headers['Strict-Transport-Security']).toBe('max-age=63072000; includeSubDomains');
  });

  it('every refusal status carries it too (400, 401, 403, 405, 409, 410, 429)', () => {
    const statuses = new Set(KINDS.map((kind) => renderRefusal({ kind }).status));
    expect([...statuses].sort()).toEqual([400, 401, 403, 405, 409, 410, 429]);
    for (const status of statuses) expect(htmlResponse(status, '').headers).toMatchObject({ 'Strict-Transport-Security': 'max-age=63072000; includeSubDomains' });
  });
});
