import type { Organisation } from '../domain/organisation.js';
import { documentOf, html } from './pages.js';
import type { SignInModel } from './views.js';

/**
 * reviewAuth oidc: the sign-in step that a review link's GET shows before any evidence. The form
 * posts back to the page's own URL (`action=""`: the token is never written into the page) with
 * `intent=sign-in`; the answer sends the browser to the organisation's identity provider.
 */
export function renderSignIn(m: SignInModel, organisation: Organisation): string {
  const again =
    m.again === 'too-old'
      ? html`<p data-testid="sign-in-again">Your last sign-in is too old to decide with: this group's policy asks for a recent one.</p>`
      : m.again === 'other-link'
        ? html`<p data-testid="sign-in-again">Each decision needs its own sign-in, made for its link.</p>`
        : '';
  return documentOf(
    `Sign in to review ${m.group} v${m.version}`,
    html`<h1>Sign in to review <span data-testid="group">${m.group}</span> version <span data-testid="version">${String(m.version)}</span></h1>
<p>This link was sent to <strong data-testid="reviewer">${m.reviewer}</strong>. Sign in with that organisation account to see the evidence and decide. Signing in with another account will not let you decide.</p>
${again}
<form method="post" action="" data-testid="sign-in-form">
<input type="hidden" name="intent" value="sign-in">
<p><button type="submit" data-testid="sign-in">Sign in</button></p>
</form>`,
    organisation,
  );
}
