/**
 * The review pages, rendered on the server as whole HTML documents (README "Reviews").
 *
 * Invariants (the tests hold them):
 * - Every interpolated value is escaped by `html` unless it is an already-rendered fragment
 *   wrapped by `html` itself or, explicitly, by `raw()`. Strings from a model package never reach
 *   `raw()`.
 * - No JavaScript anywhere: no `<script>`, no `on*=` attributes, no `href`/`src` at all, so a
 *   `javascript:` URI in a model can only ever be shown as text. The CSP forbids scripts outright.
 * - The review token is never written into the HTML: the one form posts to `action=""`, i.e. the
 *   URL the page was loaded from.
 * - The `refused` page echoes nothing: it must not tell a forger which check failed.
 */
import type {
  ConfirmationModel,
  MetricRow,
  ProductionComparison,
  RefusalKind,
  RefusalModel,
  ResolvedIdentity,
  ReviewPageModel,
  VoteRow,
} from './views.js';
import { gateVerdict } from '../domain/evidence.js';
import { trustLine, type Organisation } from '../domain/organisation.js';

// ---------------------------------------------------------------------------------------------
// The `html` tagged template
// ---------------------------------------------------------------------------------------------

/** An HTML fragment that is already safe to insert: made only by `html` or `raw()`. */
class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}
export type { SafeHtml };

/** What may be interpolated: text (escaped), safe fragments (as is), lists of either; `false`/`null`/`undefined` render nothing. */
export type Interpolation = string | number | SafeHtml | false | null | undefined | readonly Interpolation[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes `& < > " ' \`` so the result is safe both as text and inside a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/** Marks an already-rendered fragment as safe. Never pass it a string that came from a model. */
export function raw(fragment: string): SafeHtml {
  return new SafeHtml(fragment);
}

function renderValue(value: Interpolation): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(renderValue).join('');
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are trusted markup, every interpolated value is escaped. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += renderValue(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

// ---------------------------------------------------------------------------------------------
// Headers and response
// ---------------------------------------------------------------------------------------------

/**
 * Sent with every page. The CSP allows no script of any kind (no `script-src`, so `default-src
 * 'none'` applies), inline styles only for the one `<style>` block, no images, and forms may post
 * only to this origin.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // Two years, subdomains included: after one visit the browser never asks for the review page
  // (and its signed link) over plain HTTP, where a network attacker could read or redirect it.
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
});

/** A bare origin (scheme, host, port): nothing that could end or extend a CSP directive. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * An API Gateway / Lambda proxy result carrying an HTML page and the security headers.
 * `formActions`: origins the page's form may also reach (the sign-in step's form is redirected to
 * the identity provider, and browsers check each redirect of a form against `form-action`).
 */
export function htmlResponse(
  status: number,
  body: string,
  opts: { formActions?: readonly string[] } = {},
): { statusCode: number; headers: Record<string, string>; body: string } {
  const extra = (opts.formActions ?? []).filter((o) => ORIGIN.test(o));
  const headers = { ...SECURITY_HEADERS };
  const csp = headers['Content-Security-Policy'];
  if (extra.length > 0 && csp) headers['Content-Security-Policy'] = csp.replace("form-action 'self'", `form-action 'self' ${extra.join(' ')}`);
  return { statusCode: status, headers, body };
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

const STYLE = `
:root { color-scheme: light; }
body { margin: 0; background: #f3f4f6; color: #1f2328; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.75rem 3rem; background: #fff; min-height: 100vh; box-sizing: border-box; }
header { border-bottom: 2px solid #d0d7de; padding-bottom: .75rem; margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
p { margin: .4rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
dd code { overflow-wrap: anywhere; }
.muted { color: #57606a; }
.pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; border: 1px solid #8c959f; background: #f6f8fa; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: .5rem 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #afb8c1; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #eaeef2; }
td { overflow-wrap: break-word; }
.pass { color: #116329; background: #dafbe1; font-weight: 700; white-space: nowrap; }
.fail { color: #a40e26; background: #ffebe9; font-weight: 700; white-space: nowrap; }
.notice { padding: .75rem 1rem; border-left: 4px solid #0969da; background: #ddf4ff; }
.decision { margin-top: 1rem; padding: 1rem 1.25rem; border: 1px solid #afb8c1; border-radius: 6px; background: #f6f8fa; }
label { font-weight: 600; display: block; margin-bottom: .25rem; }
textarea { width: 100%; min-height: 6rem; box-sizing: border-box; font: inherit; padding: .5rem; border: 1px solid #8c959f; border-radius: 4px; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: .75rem; }
button { font: inherit; font-weight: 600; padding: .5rem 1.4rem; border-radius: 6px; border: 1px solid; cursor: pointer; }
button.approve { background: #1a7f37; border-color: #116329; color: #fff; }
button.reject { background: #cf222e; border-color: #a40e26; color: #fff; }
button:disabled { background: #eaeef2; border-color: #afb8c1; color: #57606a; cursor: not-allowed; }
.blocked { color: #a40e26; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.cmp td code { overflow-wrap: anywhere; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
small { font-size: .82em; }
.verdict { margin: .5rem 0 .75rem; padding: .5rem .75rem; border-radius: 6px; font-weight: 600; }
.verdict.pass, .verdict.fail { white-space: normal; }
.organisation { margin: 0 0 1rem; font-size: .88em; color: #57606a; overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  main { padding: 1rem; }
  dl { grid-template-columns: 1fr; gap: 0; }
  dd { margin-bottom: .5rem; }
}
`;

/**
 * A whole document: one `<style>`, no script, nothing loaded from anywhere. The organisation's
 * line comes first, as in every message, so that a reviewer can tell a real page from a phishing
 * one; its contact is text, never a link. `null` only for the failure page when the configuration
 * itself is what failed (then there is no organisation to name).
 */
export function documentOf(title: string, body: SafeHtml, organisation: Organisation | null): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
${organisation !== null && html`<p class="organisation" data-testid="organisation">${trustLine(organisation)}</p>
`}${body}
</main>
</body>
</html>
`.value;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO timestamp as `2026-11-27 09:00 UTC` inside `<time>`; anything else is shown as given. */
function time(value: string): SafeHtml {
  const ms = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) return html`<time>${value}</time>`;
  const readable = new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  return html`<time datetime="${value}">${readable}</time>`;
}

/** Readable forms of the policy comparisons; anything else is shown (escaped) as it is. */
const COMPARISON_TEXT: Readonly<Record<string, string>> = { '>=': '≥', '>': '>', '<=': '≤', '<': '<', '==': '=' };

function byKey(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function orUnknown(value: string | undefined): SafeHtml {
  return value === undefined || value === '' ? html`<span class="muted">unknown</span>` : html`${value}`;
}

function keyValueTable(caption: string, record: Record<string, string>, testid: string, empty: string): SafeHtml {
  const rows = byKey(record);
  if (rows.length === 0) return html`<p class="muted" data-testid="${testid}">${empty}</p>`;
  return html`<div class="scroll"><table data-testid="${testid}">
<caption class="sr-only">${caption}</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows.map(([k, v]) => html`<tr><td><code>${k}</code></td><td class="pre">${v}</td></tr>
`)}</tbody>
</table></div>`;
}

// ---------------------------------------------------------------------------------------------
// Review page
// ---------------------------------------------------------------------------------------------

/**
 * Who registered or trained the version, as the organisation knows them: the mapped person with
 * the raw principal in small text; an unmapped principal with why; or "unknown" with the reason.
 * Without a resolution (an older model), the raw principal or "unknown".
 */
function identityOf(resolved: ResolvedIdentity | undefined, principal: string | undefined, testid: string): SafeHtml {
  if (resolved === undefined) return html`<span data-testid="${testid}">${orUnknown(principal)}</span>`;
  switch (resolved.kind) {
    case 'mapped':
      return html`<span data-testid="${testid}" data-kind="mapped"><strong>${resolved.person}</strong>${
        resolved.alsoMatches !== undefined && html` (the identity map also names ${resolved.alsoMatches.join(', ')})`
      }<br><small class="muted"><code>${resolved.principal}</code></small></span>`;
    case 'unmapped':
      return html`<span data-testid="${testid}" data-kind="unmapped"><code>${resolved.principal}</code><br><small class="muted">${resolved.reason}</small></span>`;
    case 'unknown':
      return html`<span data-testid="${testid}" data-kind="unknown" class="muted">unknown — ${resolved.reason}</span>`;
  }
}

/** A difference with its sign: +0.012, -0.018, 0; "n/a" when a side has no value. */
function signed(d: number | null): string {
  if (d === null) return 'n/a';
  return d > 0 ? `+${d}` : String(d);
}

function valueOrNone(v: number | null): SafeHtml {
  return v === null ? html`<span class="muted">none</span>` : html`${v}`;
}

function textOrNone(v: string | undefined): SafeHtml {
  return v === undefined ? html`<span class="muted">none</span>` : html`<code>${v}</code>`;
}

/** The version under review against the group's newest Approved version (issue 10). */
function productionSection(p: ProductionComparison): SafeHtml {
  if (p.kind === 'no-approved-version') {
    return html`<section aria-labelledby="h-production">
<h2 id="h-production">Against the version in production</h2>
<p data-testid="production-none">No approved version yet: this group has no Approved version to compare with.</p>
</section>`;
  }
  const metrics =
    p.metrics.length === 0
      ? html`<p class="muted" data-testid="production-metrics">Neither version has metrics recorded.</p>`
      : html`<div class="scroll"><table class="cmp" data-testid="production-metrics">
<thead><tr><th scope="col">Metric</th><th scope="col">Source</th><th scope="col">This version</th><th scope="col">In production</th><th scope="col">Difference</th></tr></thead>
<tbody>
${p.metrics.map((m) => html`<tr><td><code>${m.name}</code></td><td>${m.source}</td><td class="num">${valueOrNone(m.current)}</td><td class="num">${valueOrNone(m.production)}</td><td class="num">${signed(m.difference)}</td></tr>
`)}</tbody>
</table></div>`;
  const datasetRows = [
    ...p.datasets.added.map((d) => ({ change: 'added', ...d })),
    ...p.datasets.removed.map((d) => ({ change: 'removed', ...d })),
  ];
  const datasets =
    datasetRows.length === 0
      ? html`<p data-testid="production-datasets">The same data sets (by URI).</p>`
      : html`<div class="scroll"><table class="cmp" data-testid="production-datasets">
<thead><tr><th scope="col">Change</th><th scope="col">Channel</th><th scope="col">Data set URI</th></tr></thead>
<tbody>
${datasetRows.map((d) => html`<tr><td>${d.change}</td><td>${d.channel}</td><td><code>${d.uri}</code></td></tr>
`)}</tbody>
</table></div>`;
  const hyperparameters =
    p.hyperparameters.length === 0
      ? html`<p data-testid="production-hyperparameters">The same hyperparameters.</p>`
      : html`<div class="scroll"><table class="cmp" data-testid="production-hyperparameters">
<thead><tr><th scope="col">Hyperparameter</th><th scope="col">Change</th><th scope="col">In production</th><th scope="col">This version</th></tr></thead>
<tbody>
${p.hyperparameters.map((h) => html`<tr><td><code>${h.name}</code></td><td>${h.change}</td><td class="pre">${h.production === undefined ? html`<span class="muted">none</span>` : h.production}</td><td class="pre">${h.current === undefined ? html`<span class="muted">none</span>` : h.current}</td></tr>
`)}</tbody>
</table></div>`;
  const images =
    p.images.length === 0
      ? html`<p data-testid="production-images">The same training image, model image and image digest.</p>`
      : html`<div class="scroll"><table class="cmp" data-testid="production-images">
<thead><tr><th scope="col">What changed</th><th scope="col">In production</th><th scope="col">This version</th></tr></thead>
<tbody>
${p.images.map((i) => html`<tr><td>${i.what}</td><td>${textOrNone(i.production)}</td><td>${textOrNone(i.current)}</td></tr>
`)}</tbody>
</table></div>`;
  return html`<section aria-labelledby="h-production">
<h2 id="h-production">Against the version in production</h2>
<p data-testid="production-version">Compared with version ${p.production.version}, the group's newest Approved version${
    p.production.approvedAt !== undefined && html` (approved at ${time(p.production.approvedAt)})`
  }: <code>${p.production.arn}</code></p>
<h3>Metrics</h3>
${metrics}
<h3>Data sets added or removed</h3>
${datasets}
<h3>Hyperparameters changed</h3>
${hyperparameters}
<h3>Images</h3>
${images}
</section>`;
}

function metricRow(row: MetricRow): SafeHtml {
  const comparison = COMPARISON_TEXT[row.comparison] ?? row.comparison;
  const actual =
    row.actual === null
      ? html`<span class="muted">${row.problem ?? 'not available'}</span>`
      : html`${row.actual}${row.problem !== undefined && html`<br><span class="muted">${row.problem}</span>`}`;
  const result = row.passed
    ? html`<td class="pass"><span aria-hidden="true">✓</span> PASS</td>`
    : html`<td class="fail"><span aria-hidden="true">✗</span> FAIL</td>`;
  return html`<tr><td><code>${row.name}</code></td><td>${comparison} ${row.threshold}</td><td>${actual}</td>${result}</tr>
`;
}

function metricsSection(metrics: MetricRow[]): SafeHtml {
  const failed = metrics.filter((r) => !r.passed).length;
  const summary =
    metrics.length === 0
      ? 'The policy has no metric rules.'
      : failed === 0
        ? metrics.length === 1
          ? 'The 1 metric rule passes.'
          : `All ${metrics.length} metric rules pass.`
        : `${failed} of ${metrics.length} metric rules fail.`;
  return html`<section aria-labelledby="h-metrics">
<h2 id="h-metrics">Metric gate</h2>
<p>${summary}</p>
<div class="scroll"><table id="metrics" data-testid="metrics">
<thead><tr><th scope="col">Metric</th><th scope="col">Required</th><th scope="col">Actual</th><th scope="col">Result</th></tr></thead>
<tbody>
${metrics.map(metricRow)}</tbody>
</table></div>
</section>`;
}

function lineageSection(lineage: ReviewPageModel['lineage']): SafeHtml {
  const job = lineage.trainingJob;
  const datasets =
    lineage.datasets.length === 0
      ? html`<p class="muted">No datasets recorded.</p>`
      : html`<div class="scroll"><table data-testid="datasets">
<thead><tr><th scope="col">Channel</th><th scope="col">Data set URI</th></tr></thead>
<tbody>
${lineage.datasets.map((d) => html`<tr><td>${d.channel}</td><td><code>${d.uri}</code></td></tr>
`)}</tbody>
</table></div>`;
  return html`<section aria-labelledby="h-lineage">
<h2 id="h-lineage">Lineage</h2>
<dl>
<dt>Training job</dt><dd>${job === undefined ? html`<span class="muted">not recorded</span>` : html`${job.name}<br><code>${job.arn}</code>`}</dd>
<dt>Image</dt><dd>${lineage.image === undefined ? html`<span class="muted">not recorded</span>` : html`<code>${lineage.image}</code>`}</dd>
<dt>Image digest</dt><dd>${lineage.imageDigest === undefined ? html`<span class="muted">not recorded</span>` : html`<code>${lineage.imageDigest}</code>`}</dd>
</dl>
<h3>Data sets</h3>
${datasets}
<h3>Hyperparameters</h3>
${keyValueTable('Hyperparameters', lineage.hyperparameters ?? {}, 'hyperparameters', 'No hyperparameters recorded.')}
</section>`;
}

function votesSection(m: ReviewPageModel): SafeHtml {
  const approvals = m.votes.filter((v) => v.decision === 'approve').length;
  const row = (v: VoteRow): SafeHtml =>
    html`<tr><td>${v.reviewer}</td><td class="${v.decision === 'approve' ? 'pass' : 'fail'}">${v.decision === 'approve' ? 'Approve' : 'Reject'}</td><td class="pre">${v.comment ?? ''}</td><td>${time(v.at)}</td></tr>
`;
  const body =
    m.votes.length === 0
      ? html`<p class="muted" id="votes" data-testid="votes">No votes yet.</p>`
      : html`<div class="scroll"><table id="votes" data-testid="votes">
<thead><tr><th scope="col">Reviewer</th><th scope="col">Decision</th><th scope="col">Comment</th><th scope="col">Time</th></tr></thead>
<tbody>
${m.votes.map(row)}</tbody>
</table></div>`;
  return html`<section aria-labelledby="h-votes">
<h2 id="h-votes">Votes so far</h2>
<p>Approvals so far: ${approvals} of ${m.requiredApprovals} needed.</p>
${body}
</section>`;
}

function decisionSection(m: ReviewPageModel): SafeHtml {
  const approve = m.canApprove
    ? html`<button type="submit" name="decision" value="approve" id="approve" data-testid="approve" class="approve">Approve</button>`
    : html`<button type="submit" name="decision" value="approve" id="approve" data-testid="approve" class="approve" disabled aria-describedby="approve-blocked">Approve</button>
<span class="blocked" id="approve-blocked" data-testid="approve-blocked">${m.approveBlockedReason ?? 'You may not approve this version.'}</span>`;
  const verdict = gateVerdict(m.metrics);
  const allPass = m.metrics.length > 0 && m.metrics.every((r) => r.passed);
  return html`<section aria-labelledby="h-decision">
<h2 id="h-decision">Your decision</h2>
<p class="verdict ${allPass ? 'pass' : 'fail'}" data-testid="gate-verdict">Metric gate: ${verdict}.</p>
<p class="notice" data-testid="link-info">This link is for <strong>${m.reviewer}</strong> and expires at ${time(m.expiresAt)}. It can be used once.</p>
${m.signedInAs && html`<p class="notice" data-testid="signed-in-as">Signed in as <strong>${m.signedInAs.identity}</strong> through ${m.signedInAs.issuer}.</p>`}
<form method="post" action="" class="decision" data-testid="decision-form">
<label for="comment">Comment</label>
<textarea id="comment" name="comment" data-testid="comment" rows="5" aria-describedby="comment-note"></textarea>
<p class="muted" id="comment-note">A comment is required to reject; it is optional to approve.</p>
<div class="actions">
${approve}
<button type="submit" name="decision" value="reject" id="reject" data-testid="reject" class="reject">Reject</button>
</div>
</form>
</section>`;
}

/**
 * The review page for one model version: the decision form near the top, with the gate's verdict
 * beside it, then the evidence (against the version in production first) and the votes.
 */
export function renderReviewPage(m: ReviewPageModel, organisation: Organisation): string {
  const description =
    m.description === undefined || m.description === ''
      ? html`<p class="description muted" data-testid="description">No description.</p>`
      : html`<p class="description pre" data-testid="description">${m.description}</p>`;
  const body = html`<header>
<h1 data-testid="heading">Review: ${m.group}, version ${m.version}${m.stage !== undefined && html`, promotion to stage ${m.stage.name}`}</h1>
${
  m.stage !== undefined &&
  html`<p data-testid="stage">This review decides the lifecycle stage <strong>${m.stage.name}</strong>: Approve sets it to ${m.stage.name}/${m.stage.approvedStatus}, Reject to ${m.stage.name}/${m.stage.rejectedStatus}. The version's approval status is not changed. The metrics below are the stage's rules.</p>`
}
${description}
</header>
${decisionSection(m)}
<section aria-labelledby="h-summary">
<h2 id="h-summary">Model version</h2>
<dl>
<dt>Model package</dt><dd><code data-testid="arn">${m.modelPackageArn}</code></dd>
<dt>Registered by</dt><dd>${identityOf(m.registrant, m.registeredBy, 'registered-by')}</dd>
<dt>Trained by</dt><dd>${identityOf(m.trainer, m.trainedBy, 'trained-by')}</dd>
<dt>Registry status</dt><dd><span class="badge" data-testid="approval-status">${m.approvalStatus}</span></dd>
${m.stage?.current !== undefined && html`<dt>Lifecycle stage</dt><dd><span class="badge" data-testid="lifecycle">${m.stage.current}</span></dd>`}
</dl>
${
  m.selfApprovalCheck === 'name-heuristic' &&
  html`<p class="muted" data-testid="self-approval-heuristic">This group's policy maps no identities, so the self-approval check is a heuristic on names: an identity counts as yours when its last part (an STS session name, an IAM user name or a Studio profile name) is your address or the part before the @. It can miss someone who used another name.</p>`
}
</section>
${m.production !== undefined && productionSection(m.production)}
${metricsSection(m.metrics)}
${lineageSection(m.lineage)}
<section aria-labelledby="h-metadata">
<h2 id="h-metadata">Customer metadata</h2>
${keyValueTable('Customer metadata', m.customerMetadata, 'metadata', 'No customer metadata.')}
</section>
<section aria-labelledby="h-policy">
<h2 id="h-policy">Policy</h2>
<p data-testid="policy">Policy version ${m.policyVersion}: ${m.requiredApprovals} distinct ${m.requiredApprovals === 1 ? 'approval' : 'approvals'} needed.</p>
</section>
${votesSection(m)}`;
  return documentOf(`Review: ${m.group}, version ${m.version} — modelgate`, body, organisation);
}

// ---------------------------------------------------------------------------------------------
// Confirmation and refusals
// ---------------------------------------------------------------------------------------------

/** After a POST: the vote was recorded, and whether it decided the review. */
export function renderConfirmation(m: ConfirmationModel, organisation: Organisation): string {
  const vote = m.decision === 'approve' ? 'approval' : 'rejection';
  const decisionId = m.decisionId === undefined ? false : html`<p>Decision id: <code data-testid="decision-id">${m.decisionId}</code></p>`;
  const outcome =
    m.outcome === 'recorded'
      ? html`<p data-testid="outcome">${m.approvals} of ${m.requiredApprovals} approvals. The review stays open.</p>`
      : m.stage !== undefined
        ? html`<p data-testid="outcome">${m.group} version ${m.version} is now <strong>${m.stage.name}/${m.outcome === 'approved' ? m.stage.approvedStatus : m.stage.rejectedStatus}</strong> in the model registry.</p>
${decisionId}`
        : html`<p data-testid="outcome">${m.group} version ${m.version} is now <strong>${m.outcome === 'approved' ? 'Approved' : 'Rejected'}</strong> in the model registry.</p>
${decisionId}`;
  const body = html`<section data-testid="confirmation" data-outcome="${m.outcome}">
<h1>Vote recorded</h1>
<p>Your ${vote} of ${m.group} version ${m.version}${m.stage !== undefined && html` for stage ${m.stage.name}`} was recorded.</p>
${
  m.at !== undefined &&
  html`<dl data-testid="vote-recorded">
<dt>Decision</dt><dd>${m.decision === 'approve' ? 'Approve' : 'Reject'}</dd>
<dt>Comment</dt><dd class="pre">${m.comment === undefined || m.comment === '' ? html`<span class="muted">No comment.</span>` : m.comment}</dd>
<dt>Time</dt><dd>${time(m.at)}</dd>
</dl>`
}
${outcome}
<p class="muted">This link has now been used; you can close this page.</p>
</section>`;
  return documentOf(`Vote recorded: ${m.group}, version ${m.version} — modelgate`, body, organisation);
}

const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  expired: 410,
  used: 409,
  refused: 403,
  closed: 409,
  'self-approval': 403,
  revoked: 403,
  'cross-site': 403,
  'method-not-allowed': 405,
  'bad-request': 400,
  'rate-limited': 429,
  'review-expired': 410,
  'sign-in-required': 401,
  'wrong-identity': 403,
  'sign-in-failed': 400,
};

/**
 * "Send me a new link": a form that posts back to the page's own URL (`action=""`: the token is
 * never written into the page) with `intent=new-link`. The new link goes to the address the link
 * was made for, never to one from the request, so the form asks for nothing.
 */
const NEW_LINK_FORM = html`<form method="post" action="" data-testid="new-link-form">
<input type="hidden" name="intent" value="new-link">
<p><button type="submit" data-testid="new-link">Send me a new link</button></p>
</form>`;

function refusalContent(m: RefusalModel): { heading: string; text: SafeHtml } {
  switch (m.kind) {
    case 'expired':
      return {
        heading: 'This link has expired',
        text: html`<p>Review links are valid for a limited time. Ask for a new link to review this model version: it goes to the address this link was sent to.</p>
${NEW_LINK_FORM}`,
      };
    case 'used':
      return {
        heading: 'Already decided',
        text: html`<p>This review link was already used: already decided${m.by !== undefined && html` by <strong data-testid="used-by">${m.by}</strong>`}${m.at !== undefined && html` at ${time(m.at)}`}.</p>
<p>Each link can be used once.</p>`,
      };
    case 'refused':
      // Deliberately fixed text: saying which check failed (signature, tampering, another
      // version) or echoing any input would help whoever forged the link.
      return {
        heading: 'Link refused',
        text: html`<p>This review link was refused. Ask for a new link if you were asked to review a model version.</p>
${NEW_LINK_FORM}`,
      };
    case 'closed':
      return {
        heading: 'This review is closed',
        text: html`<p>The review of this model version is no longer open${m.status !== undefined && html`; its status is <strong data-testid="closed-status">${m.status}</strong>`}.</p>`,
      };
    case 'self-approval':
      return {
        heading: 'You may not approve this version',
        text: html`<p>Separation of duties: the person who registered or trained a model version may not approve it. You may still reject it, with a comment.</p>`,
      };
    case 'revoked':
      return {
        heading: 'This link was withdrawn',
        text: html`<p>This link no longer counts: you are no longer a reviewer of this model version, or a newer link replaced this one. A vote you already cast stays recorded.</p>`,
      };
    case 'cross-site':
      // Fixed text: nothing from the request (its Origin) is echoed.
      return {
        heading: 'Request refused',
        text: html`<p>This vote was not sent from the review page itself, so it was refused. Open your review link and decide on its page.</p>`,
      };
    case 'method-not-allowed':
      return {
        heading: 'Method not allowed',
        text: html`<p>Open the review link to see the page (GET); the page's form records your decision (POST).</p>`,
      };
    case 'bad-request':
      return {
        heading: 'Bad request',
        text: html`<p data-testid="message">${m.message ?? 'The request could not be understood.'}</p>`,
      };
    case 'sign-in-required':
      return {
        heading: 'Sign in to decide',
        text: html`<p>This stage asks reviewers to sign in with their organisation account before they decide, and no sign-in for this link was found (or it is too old). Open your review link again and sign in.</p>`,
      };
    case 'wrong-identity':
      // The reviewer's address is in the link's records, not in the request: naming who the link
      // is for tells a colleague it was forwarded to why it did not work.
      return {
        heading: 'Signed in as someone else',
        text: html`<p>This review link was sent to <strong data-testid="link-reviewer">${m.by ?? 'another reviewer'}</strong>, and you signed in as someone else, so you cannot decide with it. The attempt was recorded.</p>`,
      };
    case 'sign-in-failed':
      return {
        heading: 'Sign-in did not complete',
        text: html`<p>The answer from the sign-in service could not be checked (it was used already, expired, or did not belong to this browser). Open your review link again and sign in.</p>`,
      };
    case 'rate-limited':
      return {
        heading: 'Too many new links',
        text: html`<p>A new link for this review was already sent several times today, so none was sent now. Use the newest link you received, or try again tomorrow.</p>`,
      };
    case 'review-expired':
      // A reviewer cannot renew a review: a new link would expire with it. An operator can open it again.
      return {
        heading: 'This review has expired',
        text: html`<p>The review of this model version ended${m.at !== undefined && html` at ${time(m.at)}`} without a decision, so no new link was sent. Only an operator can reopen the review; once they do, you receive a new link.</p>`,
      };
  }
}

/**
 * The answer to "send me a new link" when a link was sent, and, word for word, when the token
 * could not be trusted (forged, tampered, unknown key): whoever forged it learns nothing.
 */
export function renderNewLinkRequested(organisation: Organisation): { status: number; body: string } {
  const body = html`<section data-testid="new-link-requested">
<h1>Check your email</h1>
<p>If this link was made for you, a new link is on its way to the address it was sent to. It replaces any earlier link for this review.</p>
</section>`;
  return { status: 200, body: documentOf('New review link — modelgate', body, organisation) };
}

/** A refusal page with its HTTP status (`organisation` null: see `documentOf`). */
export function renderRefusal(m: RefusalModel, organisation: Organisation | null): { status: number; body: string } {
  const { heading, text } = refusalContent(m);
  const body = html`<section data-testid="refusal" data-kind="${m.kind}">
<h1>${heading}</h1>
${text}
</section>`;
  return { status: REFUSAL_STATUS[m.kind], body: documentOf(`${heading} — modelgate`, body, organisation) };
}
