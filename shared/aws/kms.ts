import { createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { CheckpointSigner } from '../audit-log-ports.js';
import { ModelgateError } from '../domain/errors.js';

/**
 * The checkpoint key is not fit to sign checkpoints (a configuration fault: retrying cannot help).
 * `field` names the GetPublicKey (or Sign) field that is wrong; the message never holds key material
 * or a signature.
 */
export class CheckpointKeyRefused extends ModelgateError {
  readonly status = 500;
  readonly retryable = false;
  constructor(
    readonly keyId: string,
    readonly field: 'KeyId' | 'KeySpec' | 'KeyUsage' | 'SigningAlgorithms' | 'PublicKey' | 'Signature',
    problem: string,
  ) {
    super(`checkpoint key ${keyId}: ${field} ${problem}`);
  }
}

interface KeyFacts {
  /** The key's ARN, as GetPublicKey names it (also when the configured id is an alias). */
  arn: string;
  /** DER SubjectPublicKeyInfo, base64. */
  publicKey: string;
}

/**
 * Signs checkpoints with a KMS asymmetric key: KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY,
 * SigningAlgorithm ECDSA_SHA_256. `keyId` may be a key id, a key ARN or an alias (name or ARN).
 *
 * GetPublicKey is called once per signer (the wiring builds one per cold start) and its answer is
 * checked before anything is signed. Sign then names the key by the ARN that GetPublicKey
 * returned, not by the configured alias: an alias moved to another key between the two calls
 * would otherwise sign with a key whose public key and name the checkpoint does not carry.
 *
 * IAM: kms:GetPublicKey (every user of `publicKey`/`keyId`) and kms:Sign (the checkpoint function
 * only) on the key's ARN.
 */
export function kmsCheckpointSigner(client: KMSClient, keyId: string): CheckpointSigner {
  let facts: Promise<KeyFacts> | undefined;
  const key = (): Promise<KeyFacts> => {
    // One request shared by concurrent callers; a failed one (throttling, a network error) is
    // forgotten, so that the next call asks again instead of failing for the container's life.
    facts ??= describeKey(client, keyId).catch((e: unknown) => {
      facts = undefined;
      throw e;
    });
    return facts;
  };
  return {
    keyId: async () => (await key()).arn,
    publicKey: async () => (await key()).publicKey,
    async sign(message) {
      const { arn } = await key();
      const out = await client.send(
        new SignCommand({ KeyId: arn, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }),
      );
      if (!out.Signature?.byteLength) throw new CheckpointKeyRefused(arn, 'Signature', 'is missing from the Sign answer');
      if (out.KeyId !== undefined && out.KeyId !== arn) throw new CheckpointKeyRefused(arn, 'KeyId', `of the Sign answer is another key (${out.KeyId})`);
      return Buffer.from(out.Signature).toString('base64');
    },
  };
}

async function describeKey(client: KMSClient, keyId: string): Promise<KeyFacts> {
  const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!out.KeyId) throw new CheckpointKeyRefused(keyId, 'KeyId', 'is missing from the GetPublicKey answer');
  const arn = out.KeyId;
  if (out.KeySpec !== 'ECC_NIST_P256') throw new CheckpointKeyRefused(arn, 'KeySpec', `must be ECC_NIST_P256 (is ${out.KeySpec ?? 'missing'})`);
  if (out.KeyUsage !== 'SIGN_VERIFY') throw new CheckpointKeyRefused(arn, 'KeyUsage', `must be SIGN_VERIFY (is ${out.KeyUsage ?? 'missing'})`);
  // Implied by ECC_NIST_P256, but checked: it is the algorithm Sign is called with.
  if (out.SigningAlgorithms && !out.SigningAlgorithms.includes('ECDSA_SHA_256')) {
    throw new CheckpointKeyRefused(arn, 'SigningAlgorithms', 'must include ECDSA_SHA_256');
  }
  if (!out.PublicKey?.byteLength) throw new CheckpointKeyRefused(arn, 'PublicKey', 'is missing from the GetPublicKey answer');
  const der = Buffer.from(out.PublicKey);
  try {
    const parsed = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (parsed.asymmetricKeyType !== 'ec' || parsed.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new CheckpointKeyRefused(arn, 'PublicKey', 'is not a P-256 public key');
    }
  } catch (e) {
    if (e instanceof CheckpointKeyRefused) throw e;
    throw new CheckpointKeyRefused(arn, 'PublicKey', 'is not a DER SubjectPublicKeyInfo');
  }
  return { arn, publicKey: der.toString('base64') };
}
