/**
 * The local stand-in for the organisation's identity provider: a real OpenID Provider built on
 * `oidc-provider` (certified for the Basic, Config and other OpenID Connect profiles), so that
 * modelgate's sign-in runs the standard authorization code flow with PKCE on one machine.
 *
 * It is a stand-in and proves nothing off this machine:
 *   - sign-in asks for an email address only, with no password: whoever can reach 127.0.0.1 can
 *     sign in as any configured user. Only the configured users can sign in at all;
 *   - every key (ID token signing key, cookie keys) is generated at start and lives in memory, and
 *     so does every session, code and grant: a restart signs everyone out;
 *   - it speaks plain http on 127.0.0.1 (its cookies are then not `Secure`: oidc-provider marks them
 *     Secure only on an https request, and it trusts no proxy headers).
 *
 * What it does implement as a real IdP would: PKCE with S256 required for every client, codes that
 * live 60 s and work once (a replay revokes what the code issued), `max_age` and `prompt=login`
 * (both force the login form again, and so a newer `auth_time`), `auth_time` in every ID token,
 * and the claims `sub` (a stable id, not the email), `email`, `email_verified: true` and `name`.
 * The registered clients are first-party (the organisation registered modelgate itself), so they
 * need no consent screen: the grant is created at sign-in (oidc-provider's `loadExistingGrant`).
 *
 * It logs nothing but server errors, by message (no token, code, cookie or secret).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Provider, type KoaContextWithOIDC } from 'oidc-provider';
// oidc-provider's own in-memory adapter: passing it explicitly says "ephemeral on purpose" (the
// package warns only when it has to fall back to it) and keeps its replay detection (consume,
// revoke by grant) exactly as the package implements it.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

export interface LocalOidcUser {
  email: string;
  name: string;
}

export interface LocalOidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface LocalOidcProvider {
  issuer: string;
  close(): Promise<void>;
}

/** The login form's path prefix (oidc-provider redirects here with the interaction's uid). */
const INTERACTION_PATH = '/interaction/';
/** A login form is a few hundred bytes; anything much larger is not one. */
const MAX_FORM_BYTES = 8 * 1024;
const SCOPES = 'openid email profile';

/**
 * The subject of a local user: derived from the address, so that it is the same on every start
 * (a review recorded yesterday names the same subject), yet is not the address itself, as with a
 * real IdP where `sub` is an opaque id and the email may change.
 */
export function localSubject(email: string): string {
  return `local-${createHash('sha256').update(normaliseEmail(email)).digest('hex').slice(0, 24)}`;
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function startLocalOidcProvider(opts: {
  port: number;
  host?: '127.0.0.1';
  users: LocalOidcUser[];
  clients: LocalOidcClient[];
}): Promise<LocalOidcProvider> {
  const host = opts.host ?? '127.0.0.1';
  const users = new Map(opts.users.map((u) => [normaliseEmail(u.email), { ...u, email: normaliseEmail(u.email), sub: localSubject(u.email) }]));
  const bySubject = new Map([...users.values()].map((u) => [u.sub, u]));
  const formAction = [...new Set(opts.clients.flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)))].join(' ');

  // The issuer names the port, so the server listens before the provider exists; no request can
  // arrive in between that the handler below would not answer.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host}:${port}`;

  // Generated at every start: nothing signed by an earlier run verifies against this one.
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      // openid-client's default client authentication.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      // auth_time in every ID token, not only when max_age was asked for: the relying party
      // checks how fresh the authentication is on every decision.
      require_auth_time: true,
    })),
    // The authorization code flow only (no implicit or hybrid response types).
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: SCOPES.split(' '),
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // The scope's claims go into the ID token too (as Cognito and Entra ID put email there), so
    // the relying party needs no userinfo call to learn who signed in.
    conformIdTokenClaims: false,
    async findAccount(_ctx: unknown, sub: string) {
      const user = bySubject.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return { sub: user.sub, email: user.email, email_verified: true, name: user.name };
        },
      };
    },
    // First-party clients: the organisation's own application gets the scopes without a consent
    // screen (the recipe oidc-provider documents for skipping consent).
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client?.clientId;
      const accountId = ctx.oidc.account?.accountId;
      if (!clientId || !accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope(SCOPES);
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}${interaction.uid}` },
    features: {
      // Replaced by the login form below, which knows the configured users.
      devInteractions: { enabled: false },
      // Not used by modelgate.
      rpInitiatedLogout: { enabled: false },
    },
    // Every lifetime set, short: codes 60 s, an interaction 10 minutes, a session 1 hour.
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    async renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) {
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p>${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  });
  // Not behind a proxy: X-Forwarded-* is never trusted.
  provider.proxy = false;
  provider.on('server_error', (_ctx, error) => console.error(`local OpenID provider: server error: ${error.message}`));

  const providerCallback = provider.callback();
  handle = (req, res) => {
    if (req.url?.startsWith(INTERACTION_PATH)) {
      interaction(req, res).catch((e: unknown) => {
        const status = (e as { statusCode?: number }).statusCode ?? 500;
        if (status >= 500) console.error(`local OpenID provider: login failed: ${(e as Error).message}`);
        if (!res.headersSent) send(res, status, page('Sign-in failed', `<p>${escapeHtml(errorText(e))}</p>`), formAction);
      });
      return;
    }
    providerCallback(req, res);
  };

  /** The login form: GET shows it, POST signs the configured user in and returns to the provider. */
  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const action = `${INTERACTION_PATH}${details.uid}`;
    if (details.prompt.name !== 'login') {
      // Consent never comes up for the first-party clients (see loadExistingGrant).
      send(res, 400, page('Sign-in failed', `<p>Unexpected prompt ${escapeHtml(details.prompt.name)}.</p>`), formAction);
      return;
    }
    if (req.method === 'GET') {
      const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
      send(res, 200, loginPage(action, hint, ''), formAction);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      send(res, 405, page('Not allowed', '<p>GET or POST only.</p>'), formAction);
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const email = normaliseEmail(form.get('email') ?? '');
    const user = users.get(email);
    if (!user) {
      send(res, 403, loginPage(action, email, `${email || 'That address'} is not a user of this identity provider.`), formAction);
      return;
    }
    // A fresh login result (not merged with an earlier one): auth_time is now.
    await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function errorText(e: unknown): string {
  // oidc-provider's errors carry an OAuth error code and a description meant for the user.
  const err = e as { error?: string; error_description?: string; message?: string };
  if (err.error) return `${err.error}: ${err.error_description ?? ''}`;
  return 'the sign-in could not be completed; start again from the application.';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) {
        reject(Object.assign(new Error('form too large'), { statusCode: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * `formAction`: the origins of the clients' redirect URIs. The login form's POST is redirected on
 * to the client's callback, and browsers check every redirect of a form against `form-action`.
 */
function send(res: ServerResponse, status: number, body: string, formAction: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formAction}; frame-ancestors 'none'`);
  res.end(body);
}

function loginPage(action: string, email: string, problem: string): string {
  return page(
    'Sign in',
    `<p>Local identity provider for modelgate (a stand-in on this machine: no password).</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<label>Email <input type="email" name="email" value="${escapeHtml(email)}" autocomplete="username" required autofocus></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
