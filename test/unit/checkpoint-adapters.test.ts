/**
 * The checkpoint adapters: the KMS signer and the local key file, the checkpoint bucket and the
 * export sinks. SDK clients are mocked with aws-sdk-client-mock and the exact commands asserted
 * (`mock.commandCalls(...)`, as in adapters.test.ts); the local signer and the folder sink use a
 * temporary folder.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CheckpointObjectTaken, type SignedCheckpoint } from '../../shared/audit-log-ports.js';
import { checkpointObjectKey, s3CheckpointBucket } from '../../shared/aws/checkpoint-bucket.js';
import { folderExportSink, s3ExportSink } from '../../shared/aws/export-sink.js';
import { CheckpointKeyRefused, kmsCheckpointSigner } from '../../shared/aws/kms.js';
import { localCheckpointSigner } from '../../shared/aws/local-checkpoint-signer.js';
import { config, requiredSetting } from '../../shared/config.js';
import { encodeCheckpoint, verifyCheckpoint, type CheckpointBody } from '../../shared/domain/checkpoint.js';
import { ValidationError } from '../../shared/domain/errors.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALIAS = 'alias/modelgate-dev-audit-checkpoints';
const ROOT = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';
const body = (keyId: string, logSize = 8): CheckpointBody => ({ logSize, rootHash: ROOT, time: '2026-11-27T09:44:02.000Z', keyId });

/** A GetObject Body with the SDK's mixin methods the adapter uses. */
function objectBody(text: string): NonNullable<GetObjectCommandOutput['Body']> {
  return {
    transformToString: async () => text,
    transformToByteArray: async () => new Uint8Array(Buffer.from(text)),
    transformToWebStream: () => {
      throw new Error('not used by the adapter');
    },
  } as unknown as NonNullable<GetObjectCommandOutput['Body']>;
}

const s3Error = (name: string, httpStatusCode: number) =>
  new S3ServiceException({ name, message: `${name} (mocked)`, $fault: 'client', $metadata: { httpStatusCode } });

describe('kmsCheckpointSigner', () => {
  const client = new KMSClient({ region: 'us-east-1' });
  const kms = mockClient(client);
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const publicKeyAnswer = {
    KeyId: KEY_ARN,
    PublicKey: new Uint8Array(spki),
    KeySpec: 'ECC_NIST_P256' as const,
    KeyUsage: 'SIGN_VERIFY' as const,
    SigningAlgorithms: ['ECDSA_SHA_256' as const],
  };

  beforeEach(() => kms.reset());
  afterAll(() => kms.restore());

  it('reads the public key once and names the key by the ARN GetPublicKey returns, even for an alias', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer);
    const signer = kmsCheckpointSigner(client, ALIAS);
    const [a, b, c] = await Promise.all([signer.keyId(), signer.publicKey(), signer.keyId()]);
    expect(a).toBe(KEY_ARN);
    expect(c).toBe(KEY_ARN);
    expect(b).toBe(Buffer.from(spki).toString('base64'));
    await signer.publicKey();
    expect(kms.commandCalls(GetPublicKeyCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: ALIAS }]);
  });

  it('signs with KMS Sign (RAW, ECDSA_SHA_256, the key ARN); a signature of a real P-256 key verifies with the mocked public key', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer);
    // KMS hashes a RAW message with SHA-256 and returns the DER signature: node's sign does the same.
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
      KeyId: KEY_ARN,
      SigningAlgorithm: 'ECDSA_SHA_256',
      Signature: new Uint8Array(cryptoSign('sha256', input.Message, { key: key.privateKey, dsaEncoding: 'der' })),
    }));
    const signer = kmsCheckpointSigner(client, ALIAS);
    const checkpoint = body(await signer.keyId());
    const message = encodeCheckpoint(checkpoint);
    const signature = await signer.sign(message);

    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input)).toEqual([
      { KeyId: KEY_ARN, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
    expect(verifyCheckpoint(checkpoint, signature, await signer.publicKey())).toEqual({ ok: true, body: checkpoint });
    // Another key's public key does not accept it.
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(verifyCheckpoint(checkpoint, signature, other)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each([
    ['KeySpec', { KeySpec: 'RSA_2048' as const }, /KeySpec must be ECC_NIST_P256 \(is RSA_2048\)/],
    ['KeySpec', { KeySpec: 'ECC_SECG_P256K1' as const }, /KeySpec must be ECC_NIST_P256/],
    ['KeyUsage', { KeyUsage: 'ENCRYPT_DECRYPT' as const }, /KeyUsage must be SIGN_VERIFY \(is ENCRYPT_DECRYPT\)/],
    ['KeyUsage', { KeyUsage: undefined }, /KeyUsage must be SIGN_VERIFY \(is missing\)/],
    ['SigningAlgorithms', { SigningAlgorithms: ['ECDSA_SHA_384' as const] }, /SigningAlgorithms must include ECDSA_SHA_256/],
    ['PublicKey', { PublicKey: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) }, /PublicKey is not a DER SubjectPublicKeyInfo/],
    ['KeyId', { KeyId: undefined }, /KeyId is missing/],
  ])('refuses a key whose %s is wrong, naming the field, and signs nothing', async (field, change, message) => {
    kms.on(GetPublicKeyCommand).resolves({ ...publicKeyAnswer, ...change });
    const signer = kmsCheckpointSigner(client, ALIAS);
    const error = await signer.sign(encodeCheckpoint(body(KEY_ARN))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointKeyRefused);
    expect(error).toMatchObject({ field, retryable: false });
    expect((error as Error).message).toMatch(message);
    await expect(signer.keyId()).rejects.toBeInstanceOf(CheckpointKeyRefused);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses a P-384 public key even when GetPublicKey claims ECC_NIST_P256', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    kms.on(GetPublicKeyCommand).resolves({ ...publicKeyAnswer, PublicKey: new Uint8Array(p384) });
    await expect(kmsCheckpointSigner(client, KEY_ARN).publicKey()).rejects.toMatchObject({ field: 'PublicKey', message: expect.stringMatching(/not a P-256/) });
  });

  it('does not keep a failed GetPublicKey for the cold start: the next call asks again', async () => {
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(new KMSServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .resolves(publicKeyAnswer);
    const signer = kmsCheckpointSigner(client, ALIAS);
    await expect(signer.keyId()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(signer.keyId()).resolves.toBe(KEY_ARN);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it('refuses a Sign answer without a signature, or from another key', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer);
    kms.on(SignCommand).resolvesOnce({ KeyId: KEY_ARN }).resolvesOnce({ KeyId: `${KEY_ARN}-other`, Signature: new Uint8Array([1, 2, 3]) });
    const signer = kmsCheckpointSigner(client, KEY_ARN);
    const message = encodeCheckpoint(body(KEY_ARN));
    await expect(signer.sign(message)).rejects.toMatchObject({ field: 'Signature' });
    const other = await signer.sign(message).catch((e: unknown) => e);
    expect(other).toMatchObject({ field: 'KeyId' });
    // The error names the keys, never signature bytes.
    expect((other as Error).message).not.toContain(Buffer.from([1, 2, 3]).toString('base64'));
  });
});

describe('localCheckpointSigner', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-local-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a P-256 key file (mode 0600) when absent; key id and public key come from its SPKI; signatures verify', async () => {
    const file = join(dir, 'audit', 'checkpoint-key.pem');
    const signer = localCheckpointSigner(file);
    const keyId = await signer.keyId();

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pem = readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(keyId).toBe(`local:${createHash('sha256').update(spki).digest('hex').slice(0, 16)}`);
    expect(keyId).toMatch(/^local:[0-9a-f]{16}$/);
    expect(await signer.publicKey()).toBe(spki.toString('base64'));

    const checkpoint = body(keyId);
    const signature = await signer.sign(encodeCheckpoint(checkpoint));
    expect(verifyCheckpoint(checkpoint, signature, await signer.publicKey())).toEqual({ ok: true, body: checkpoint });
    // No temporary file is left beside the key.
    expect(readdirSync(join(dir, 'audit'))).toEqual(['checkpoint-key.pem']);
  });

  it('keeps an existing key: a second signer (a restart) has the same key id', async () => {
    const file = join(dir, 'checkpoint-key.pem');
    const first = await localCheckpointSigner(file).keyId();
    const before = readFileSync(file, 'utf8');
    expect(await localCheckpointSigner(file).keyId()).toBe(first);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('many signers starting at once agree on one key, and no temporary file is left', async () => {
    const file = join(dir, 'checkpoint-key.pem');
    const signers = Array.from({ length: 8 }, () => localCheckpointSigner(file));
    const ids = await Promise.all(signers.map((s) => s.keyId()));
    expect(new Set(ids).size).toBe(1);
    const checkpoint = body(ids[0] ?? '');
    // Each one signs with the key that is in the file.
    const publicKey = createPublicKey(readFileSync(file, 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
    for (const s of signers) expect(verifyCheckpoint(checkpoint, await s.sign(encodeCheckpoint(checkpoint)), publicKey).ok).toBe(true);
    expect(readdirSync(dir)).toEqual(['checkpoint-key.pem']);
  });

  it('signs encoded checkpoints only, exactly as encoded', async () => {
    const signer = localCheckpointSigner(join(dir, 'k.pem'));
    const text = (s: string) => new TextEncoder().encode(s);
    await expect(signer.sign(text('hello'))).rejects.toBeInstanceOf(ValidationError);
    await expect(signer.sign(text('{"logSize":1}'))).rejects.toThrow(/format: must be modelgate-checkpoint\/v1/);
    // The same checkpoint with another member order is not the encoding that is signed.
    const encoded = new TextDecoder().decode(encodeCheckpoint(body(await signer.keyId())));
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(encoded) as Record<string, unknown>).reverse()));
    await expect(signer.sign(text(reordered))).rejects.toThrow(/canonical encoding/);
    await expect(signer.sign(text(encoded.replace(ROOT, 'zz')))).rejects.toThrow(/rootHash/);
  });

  it('refuses a key file that is not a P-256 private key, naming the file and not its content', async () => {
    const file = join(dir, 'k.pem');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(file, rsa, { mode: 0o600 });
    const error = (await localCheckpointSigner(file)
      .keyId()
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(file);
    expect(error.message).not.toContain('PRIVATE KEY');
    expect(readFileSync(file, 'utf8')).toBe(rsa); // not replaced
  });
});

describe('s3CheckpointBucket', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const BUCKET = 'modelgate-dev-audit-123456789012';
  const bucket = s3CheckpointBucket(client, BUCKET);
  const signed: SignedCheckpoint = { checkpoint: body(KEY_ARN, 42), signature: 'MEUCIQDsig' };
  const stored = JSON.stringify({ checkpoint: signed.checkpoint, signature: signed.signature });

  beforeEach(() => s3.reset());
  afterAll(() => s3.restore());

  it('writes checkpoints/<16 digits>.json once (IfNoneMatch *), JSON, with a checksum and no Object Lock header', async () => {
    s3.on(PutObjectCommand).resolves({});
    await expect(bucket.put(signed)).resolves.toBe('checkpoints/0000000000000042.json');
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: BUCKET,
        Key: 'checkpoints/0000000000000042.json',
        Body: stored,
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
        IfNoneMatch: '*',
      },
    ]);
    expect(checkpointObjectKey(9_007_199_254_740_991)).toBe('checkpoints/9007199254740991.json');
  });

  it('stores only the checkpoint members, in one order, whatever the caller passed', async () => {
    s3.on(PutObjectCommand).resolves({});
    const { logSize, rootHash, time, keyId } = signed.checkpoint;
    await bucket.put({ checkpoint: { keyId, time, rootHash, logSize, extra: 'x' } as CheckpointBody, signature: signed.signature });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body).toBe(stored);
  });

  it('on 412 PreconditionFailed returns the key when the object is this very checkpoint', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand).resolves({ Body: objectBody(stored) });
    await expect(bucket.put(signed)).resolves.toBe('checkpoints/0000000000000042.json');
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: 'checkpoints/0000000000000042.json' }]);
  });

  it('on 412 with another checkpoint under the key throws CheckpointObjectTaken carrying it', async () => {
    const other = { checkpoint: { ...signed.checkpoint, time: '2026-11-27T10:00:00.000Z' }, signature: 'MEQCIDother' };
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(other)) });
    const error = await bucket.put(signed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointObjectTaken);
    expect(error).toMatchObject({ key: 'checkpoints/0000000000000042.json', existing: other });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('passes any other PutObject error on (a retry may succeed), reading nothing', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('ConditionalRequestConflict', 409));
    await expect(bucket.put(signed)).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('lists every page of checkpoints/ in key order', async () => {
    // The SDK's paginator reuses one input object across pages: each request is copied as sent.
    const sent: unknown[] = [];
    const pages = [
      { IsTruncated: true, NextContinuationToken: 'page-2', Contents: [{ Key: checkpointObjectKey(3) }, { Key: checkpointObjectKey(10) }] },
      { IsTruncated: false, Contents: [{ Key: checkpointObjectKey(12) }] },
    ];
    s3.on(ListObjectsV2Command).callsFake((input: Record<string, unknown>) => {
      sent.push(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
      return pages[sent.length - 1];
    });
    await expect(bucket.listKeys()).resolves.toEqual([checkpointObjectKey(3), checkpointObjectKey(10), checkpointObjectKey(12)]);
    expect(sent).toEqual([
      { Bucket: BUCKET, Prefix: 'checkpoints/' },
      { Bucket: BUCKET, Prefix: 'checkpoints/', ContinuationToken: 'page-2' },
    ]);
  });

  it('get parses the object, answers undefined for NoSuchKey, and names the key of an object that is not JSON', async () => {
    s3.on(GetObjectCommand, { Key: 'checkpoints/a.json' }).resolves({ Body: objectBody(stored) });
    s3.on(GetObjectCommand, { Key: 'checkpoints/missing.json' }).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    s3.on(GetObjectCommand, { Key: 'checkpoints/bad.json' }).resolves({ Body: objectBody('{"checkpoint": nope') });
    await expect(bucket.get('checkpoints/a.json')).resolves.toEqual(JSON.parse(stored));
    await expect(bucket.get('checkpoints/missing.json')).resolves.toBeUndefined();
    const error = (await bucket.get('checkpoints/bad.json').catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('checkpoint object checkpoints/bad.json is not JSON');
  });

  it('passes AccessDenied on (a missing s3:GetObject grant is not "absent")', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(bucket.get('checkpoints/a.json')).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('export sinks', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  beforeEach(() => s3.reset());
  afterAll(() => s3.restore());

  it('s3ExportSink: one PutObject per file under the prefix; location s3://bucket/prefix/', async () => {
    s3.on(PutObjectCommand).resolves({});
    const sink = s3ExportSink(client, 'modelgate-dev-exports', '/exports/2026-11-27T09:44:02.000Z/');
    expect(sink.location).toBe('s3://modelgate-dev-exports/exports/2026-11-27T09:44:02.000Z/');
    await sink.write('entries/000001.jsonl', '{"a":1}\n');
    await sink.write('manifest.json', '{}');
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'modelgate-dev-exports',
        Key: 'exports/2026-11-27T09:44:02.000Z/entries/000001.jsonl',
        Body: '{"a":1}\n',
        ContentType: 'application/x-ndjson',
        ChecksumAlgorithm: 'SHA256',
      },
      {
        Bucket: 'modelgate-dev-exports',
        Key: 'exports/2026-11-27T09:44:02.000Z/manifest.json',
        Body: '{}',
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
      },
    ]);
  });

  it.each(['../outside.json', '/abs.json', 'a//b.json', 'a/./b.json', 'a\\b.json', ''])('refuses the path %j and writes nothing', async (path) => {
    const sink = s3ExportSink(client, 'modelgate-dev-exports', 'exports/x');
    await expect(sink.write(path, '{}')).rejects.toBeInstanceOf(ValidationError);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-export-'));
    try {
      await expect(folderExportSink(join(dir, 'out')).write(path, '{}')).rejects.toBeInstanceOf(ValidationError);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a prefix that would leave the bucket prefix or the folder', () => {
    expect(() => s3ExportSink(client, 'b', 'exports/../x')).toThrow(ValidationError);
    expect(() => folderExportSink(tmpdir(), '../x')).toThrow(ValidationError);
  });

  it('folderExportSink: files under the folder (and its prefix), subfolders created; location is the absolute folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-export-'));
    try {
      const sink = folderExportSink(join(dir, 'exports'), 'run-1');
      expect(sink.location).toBe(join(dir, 'exports', 'run-1'));
      await sink.write('entries/group:fraud/000001.jsonl', '{"a":1}\n');
      await sink.write('manifest.json', '{}');
      expect(readFileSync(join(dir, 'exports', 'run-1', 'entries', 'group:fraud', '000001.jsonl'), 'utf8')).toBe('{"a":1}\n');
      expect(readFileSync(join(dir, 'exports', 'run-1', 'manifest.json'), 'utf8')).toBe('{}');
      expect(folderExportSink('relative-dir').location).toBe(join(process.cwd(), 'relative-dir'));
      expect(existsSync(join(process.cwd(), 'relative-dir'))).toBe(false); // nothing made before a write
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the audit settings', () => {
  const base = { TABLE_NAME: 't', REVIEWERS_TOPIC_ARN: 'r', GOVERNANCE_TOPIC_ARN: 'g', REVIEW_BASE_URL: 'https://x.example', STAGE: 'dev' };

  it('are optional for every function, and fail with the variable name where one is needed', () => {
    const cfg = config({ ...base, AUDIT_BUCKET: 'modelgate-dev-audit', CHECKPOINT_KEY_ID: '' });
    expect(requiredSetting('AUDIT_BUCKET', cfg)).toBe('modelgate-dev-audit');
    // '' is what serverless.yml writes for a stage that has none: absent.
    expect(() => requiredSetting('CHECKPOINT_KEY_ID', cfg)).toThrow(/CHECKPOINT_KEY_ID is required by this function \(stage dev\)/);
    expect(() => requiredSetting('AUDIT_EXPORT_DIR', cfg)).toThrow(/AUDIT_EXPORT_DIR/);
  });
});

describe('the organisation settings (issue 10)', () => {
  const base = { TABLE_NAME: 't', REVIEWERS_TOPIC_ARN: 'r', GOVERNANCE_TOPIC_ARN: 'g', REVIEW_BASE_URL: 'https://x.example', STAGE: 'dev' };

  it('a function that was not given them fails at its first page or message, naming the variable', () => {
    const cfg = config(base);
    expect(() => requiredSetting('ORGANISATION_NAME', cfg)).toThrow('modelgate configuration is invalid: ORGANISATION_NAME is required by this function (stage dev)');
    expect(() => requiredSetting('ORGANISATION_CONTACT', cfg)).toThrow('modelgate configuration is invalid: ORGANISATION_CONTACT is required by this function (stage dev)');
  });

  it('given but empty, or a contact that is neither an email address nor an http(s) URL, fails the cold start with its name', () => {
    expect(() => config({ ...base, ORGANISATION_NAME: '', ORGANISATION_CONTACT: 'model-risk@acme-bank.example' })).toThrow(
      'modelgate configuration is invalid: ORGANISATION_NAME: is empty: set the stage parameter organisationName',
    );
    expect(() => config({ ...base, ORGANISATION_NAME: 'Acme Bank model risk', ORGANISATION_CONTACT: 'javascript:alert(1)' })).toThrow(
      'modelgate configuration is invalid: ORGANISATION_CONTACT: must be an email address or an http(s) URL',
    );
  });

  it('accepts an email address or an https URL', () => {
    expect(requiredSetting('ORGANISATION_CONTACT', config({ ...base, ORGANISATION_NAME: 'Acme', ORGANISATION_CONTACT: 'model-risk@acme-bank.example' }))).toBe('model-risk@acme-bank.example');
    expect(requiredSetting('ORGANISATION_CONTACT', config({ ...base, ORGANISATION_NAME: 'Acme', ORGANISATION_CONTACT: 'https://intranet.acme-bank.example/mrm' }))).toBe('https://intranet.acme-bank.example/mrm');
  });
});
