import { signingKeys } from '../aws/signing-keys.js';
import { config } from '../config.js';
import type { SigningKeys } from '../ports.js';

let keys: SigningKeys | undefined;

/** The review links' signing keys (SSM Parameter Store; stage local: the public local key). */
export const keysPort = (): SigningKeys => {
  if (keys) return keys;
  const cfg = config();
  return (keys = signingKeys({ stage: cfg.STAGE, ...(cfg.REVIEW_SIGNING_KEY_PARAMETER ? { parameterName: cfg.REVIEW_SIGNING_KEY_PARAMETER } : {}) }));
};
