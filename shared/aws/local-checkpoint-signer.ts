import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CheckpointSigner } from '../audit-log-ports.js';
import { CHECKPOINT_FORMAT, encodeCheckpoint, signCheckpointLocally, type CheckpointBody } from '../domain/checkpoint.js';
import { ValidationError } from '../domain/errors.js';

interface LocalKey {
  pem: string;
  keyId: string;
  publicKey: string;
}

/**
 * Stage `local`'s stand-in for the KMS checkpoint key: a P-256 private key in a PEM (PKCS#8)
 * file, created with mode 0600 when absent. It signs with `signCheckpointLocally`, so the
 * signatures are the DER ECDSA-Sig-Value KMS returns and `verifyCheckpoint` checks both alike.
 *
 * The key id is `local:<first 16 hex of SHA-256 of the public key's DER SPKI>`: two machines'
 * local keys never share a name, and nothing names a KMS ARN that does not exist.
 *
 * Creating the file is atomic and never replaces a key: the new key is written to a temporary
 * file in the same folder and hard-linked into place. link(2), unlike rename(2), fails when the
 * name exists, so two processes starting at once (serverless-offline runs each function in its
 * own worker) both end up reading the one key that won, never a half-written file, and never
 * sign with a key that a later rename threw away.
 *
 * The key proves nothing beyond the developer's machine; the wiring uses it on stage local only.
 */
export function localCheckpointSigner(path: string): CheckpointSigner {
  const file = resolve(path);
  let loaded: Promise<LocalKey> | undefined;
  const key = (): Promise<LocalKey> => {
    loaded ??= loadOrCreate(file).catch((e: unknown) => {
      loaded = undefined;
      throw e;
    });
    return loaded;
  };
  return {
    keyId: async () => (await key()).keyId,
    publicKey: async () => (await key()).publicKey,
    async sign(message) {
      const { pem } = await key();
      return signCheckpointLocally(checkpointOf(message), pem);
    },
  };
}

/**
 * The checkpoint that `message` encodes. The local key signs encoded checkpoints and nothing
 * else, and exactly the bytes it was given: `signCheckpointLocally` encodes the body again, so
 * a message that is not that encoding byte for byte is refused rather than signed as another text.
 */
function checkpointOf(message: Uint8Array): CheckpointBody {
  const refuse = (problem: string) => new ValidationError('checkpoint message', [problem]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message)) as unknown;
  } catch {
    throw refuse('must be an encoded checkpoint (UTF-8 JSON)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('must be an encoded checkpoint (a JSON object)');
  const { format, ...body } = parsed as Record<string, unknown>;
  if (format !== CHECKPOINT_FORMAT) throw refuse(`format: must be ${CHECKPOINT_FORMAT}`);
  const checkpoint = body as unknown as CheckpointBody;
  // encodeCheckpoint throws a ValidationError naming each problem of a malformed body.
  if (!Buffer.from(encodeCheckpoint(checkpoint)).equals(Buffer.from(message))) throw refuse('must be the canonical encoding (encodeCheckpoint)');
  return checkpoint;
}

async function loadOrCreate(file: string): Promise<LocalKey> {
  const pem = (await readIfPresent(file)) ?? (await create(file));
  let spki: Buffer;
  try {
    const privateKey = createPrivateKey({ key: pem, format: 'pem' });
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not P-256');
    spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  } catch {
    // Never the file's content: it is a private key.
    throw new Error(`the local checkpoint key ${file} is not a PEM P-256 private key: delete it to have a new one made`);
  }
  return {
    pem,
    keyId: `local:${createHash('sha256').update(spki).digest('hex').slice(0, 16)}`,
    publicKey: spki.toString('base64'),
  };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function create(file: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, privateKey, { mode: 0o600, flag: 'wx' });
    await link(temp, file);
  } catch (e) {
    // Another process linked its key first: that one is the key.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await rm(temp, { force: true });
  }
  return readFile(file, 'utf8');
}
