import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ssmClient } from './aws/clients/ssm.js';
import { oidcSignIn } from './aws/oidc.js';
import { signingKeys } from './aws/signing-keys.js';
import { config, requiredSetting, type Config } from './config.js';
import type { SignInDeps } from './ports.js';
import { callbackUri } from './usecases/sign-in.js';

let built: SignInDeps | undefined;

/**
 * The review function's sign-in, only when the stage's `reviewAuth` is `oidc` (undefined for
 * `link`). Built once per cold start; a missing setting fails it with the variable's name. Only
 * the review function imports this module, so only its bundle holds openid-client, and only its
 * role may read the client secret and the session keys.
 */
export function reviewSignIn(cfg: Config = config()): SignInDeps | undefined {
  if (cfg.REVIEW_AUTH !== 'oidc') return undefined;
  if (built) return built;
  const local = cfg.STAGE === 'local';
  const secretParameter = local ? undefined : requiredSetting('OIDC_CLIENT_SECRET_PARAMETER', cfg);
  built = {
    provider: oidcSignIn({
      issuer: requiredSetting('OIDC_ISSUER', cfg),
      clientId: requiredSetting('OIDC_CLIENT_ID', cfg),
      // Asked for once, at discovery (cold start); SecureString, decrypted, never logged.
      clientSecret: async () => {
        if (!secretParameter) return requiredSetting('OIDC_CLIENT_SECRET', cfg);
        // A provider of its own, as signing-keys.ts explains: the shared one's cache ignores `decrypt`.
        const value = await new SSMProvider({ awsSdkV3Client: ssmClient() }).get(secretParameter, { decrypt: true, maxAge: 300 });
        if (!value) throw new Error(`the OIDC client secret parameter ${secretParameter} is empty`);
        return value;
      },
      redirectUri: callbackUri(cfg.REVIEW_BASE_URL),
      identityClaim: cfg.OIDC_IDENTITY_CLAIM,
      // Plain http only for a provider on this machine's loopback (the local stand-in, tests):
      // a deployed function cannot reach one, and any other issuer must be https.
      allowHttp: isLoopback(requiredSetting('OIDC_ISSUER', cfg)),
    }),
    sessionKeys: signingKeys({ stage: cfg.STAGE, ...(local ? {} : { parameterName: requiredSetting('SESSION_KEY_PARAMETER', cfg) }) }),
  };
  return built;
}

function isLoopback(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]');
  } catch {
    return false;
  }
}
