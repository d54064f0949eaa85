/**
 * Signs in through the local OpenID provider (local/oidc/provider.ts) with `fetch` and a small
 * cookie jar, as a browser would, but with no browser: GET the authorization URL, follow the
 * redirects to the login form, submit the email, follow the redirects until the one to the
 * client's redirect URI, and return that URL (with `code`, `state`, `iss`) without requesting it,
 * so that the test hands it to the relying party (or replays it, or tampers with it).
 *
 * One `OidcUserAgent` keeps its cookies, so it holds a session at the provider: a second
 * authorization without `prompt=login` or `max_age` is answered without the login form (and with
 * the first `auth_time`), as for a reviewer who is still signed in at the organisation's IdP.
 */

/** The sign-in did not reach the client's redirect URI: the message says where and why. */
export class OidcSignInError extends Error {
  override name = 'OidcSignInError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Cookie {
  value: string;
  path: string;
}

const MAX_HOPS = 20;

export class OidcUserAgent {
  /** name → cookie, for the provider's one origin. */
  private readonly cookies = new Map<string, Cookie>();

  /**
   * Authorizes with `authorizationUrl`, signing in as `email` if the provider shows its login form
   * (always for a new agent; again for `prompt=login`, `max_age` exceeded or an expired session).
   * `promptedForLogin` says whether it did.
   */
  async signIn(authorizationUrl: string, email: string): Promise<{ callbackUrl: string; promptedForLogin: boolean }> {
    const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
    if (!redirectUri) throw new Error('the authorization URL has no redirect_uri');
    let url = new URL(authorizationUrl);
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    let promptedForLogin = false;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const res = await this.request(url, method, body);
      method = 'GET';
      body = undefined;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (isRedirectUri(next, redirectUri)) return { callbackUrl: next.href, promptedForLogin };
        url = next;
        continue;
      }
      const html = await res.text();
      const action = res.status === 200 ? /<form method="post" action="([^"]+)"/.exec(html)?.[1] : undefined;
      if (action && !promptedForLogin) {
        promptedForLogin = true;
        url = new URL(unescapeHtml(action), url);
        method = 'POST';
        body = new URLSearchParams({ email }).toString();
        continue;
      }
      // The page's own words (its alert, else its text), and no URL: an interaction's URL names it.
      const alert = /<p role="alert">(.*?)<\/p>/s.exec(html)?.[1];
      throw new OidcSignInError(`the local OpenID provider refused the sign-in as ${email} (${res.status}): ${alert ? unescapeHtml(alert) : pageText(html)}`, res.status);
    }
    throw new OidcSignInError(`the sign-in as ${email} did not reach ${redirectUri} within ${MAX_HOPS} redirects`, 0);
  }

  private async request(url: URL, method: 'GET' | 'POST', body?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    const cookie = [...this.cookies]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    if (cookie) headers['cookie'] = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) this.store(line);
    return res;
  }

  private store(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = value === '';
    for (const a of attributes) {
      const [k = '', v = ''] = a.split('=');
      const key = k.toLowerCase();
      if (key === 'path' && v.startsWith('/')) path = v;
      if (key === 'max-age' && Number(v) <= 0) expired = true;
      if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
    }
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, { value, path });
  }
}

/** Signs in as `email` with a new agent (no session at the provider yet). */
export async function signIn(authorizationUrl: string, email: string): Promise<{ callbackUrl: string }> {
  const { callbackUrl } = await new OidcUserAgent().signIn(authorizationUrl, email);
  return { callbackUrl };
}

/**
 * Tries to sign in as someone who is not a user of the provider, and returns the provider's
 * refusal; throws if the sign-in went through.
 */
export async function signInRefused(authorizationUrl: string, email: string): Promise<OidcSignInError> {
  try {
    const { callbackUrl } = await signIn(authorizationUrl, email);
    throw new Error(`the sign-in as ${email} was expected to be refused, but it returned to ${new URL(callbackUrl).origin}`);
  } catch (e) {
    if (e instanceof OidcSignInError) return e;
    throw e;
  }
}

/**
 * The same authorization URL, asking for a new authentication (`prompt=login`): the provider
 * shows its login form even to an agent that has a session, and the ID token gets a new auth_time.
 */
export function withPromptLogin(authorizationUrl: string): string {
  const url = new URL(authorizationUrl);
  url.searchParams.set('prompt', 'login');
  return url.href;
}

function isRedirectUri(url: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return url.origin === expected.origin && url.pathname === expected.pathname;
}

function pageText(html: string): string {
  return unescapeHtml(html.replace(/<title>.*?<\/title>/s, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
