/**
 * Signed checkpoints (shared/domain/checkpoint.ts): the signed bytes, local signing in the format
 * KMS returns (DER ECDSA-Sig-Value over SHA-256, ECC_NIST_P256 / ECDSA_SHA_256), offline
 * verification with a DER SPKI (GetPublicKey's format) or PEM, and checkpoint order.
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  CHECKPOINT_FORMAT,
  checkpointOrder,
  checkpointProblems,
  encodeCheckpoint,
  signCheckpointLocally,
  verifyCheckpoint,
  type CheckpointBody,
} from '../../shared/domain/checkpoint.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { appendLeaves, consistencyProof, emptyEdge, emptyRoot, fromHex, leafHash, nodeMap, toHex, verifyConsistency } from '../../shared/domain/merkle.js';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pkcs8 = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }) as string;
const spkiB64 = (k: KeyObject): string => (k.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
const spkiPem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;

const KEY = p256();
const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const BODY: CheckpointBody = {
  logSize: 8,
  rootHash: '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', // RFC 6962 test vector, 8 leaves
  time: '2026-11-27T09:44:02.000Z',
  keyId: KEY_ID,
};

/**
 * Made once with a P-256 key whose private half was discarded: if the encoding of the signed
 * bytes ever changes, old checkpoints stop verifying, and this test says so.
 */
const FIXED = {
  publicKey:
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYMTBy7NWbq0b/7V5phOImFeBhcoK3p53NTrfdlhYKiwBPkNd4XEibdXps2qP0sEk+YfFh1D4/3TEL8ZTs0KHfQ==',
  signature: 'MEQCICmaUlPS38GvA1f6SP8zlnxaDMI2/GYX/JVy/0+WN91GAiA054lcFdkeQvIqA/UllhhrJMoP9X7Fv2aqyvoGBgE3GA==',
};

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');

describe('the signed bytes', () => {
  it('are the RFC 8785 canonical JSON of the body with the format member, keys sorted', () => {
    expect(new TextDecoder().decode(encodeCheckpoint(BODY))).toBe(
      `{"format":"${CHECKPOINT_FORMAT}","keyId":"${KEY_ID}","logSize":8,"rootHash":"${BODY.rootHash}","time":"2026-11-27T09:44:02.000Z"}`,
    );
    // Key order in the object does not matter.
    const shuffled = { time: BODY.time, keyId: BODY.keyId, rootHash: BODY.rootHash, logSize: BODY.logSize };
    expect(b64(encodeCheckpoint(shuffled))).toBe(b64(encodeCheckpoint(BODY)));
  });

  it('a signature made once with a fixed key still verifies (the encoding has not changed)', () => {
    expect(verifyCheckpoint(BODY, FIXED.signature, FIXED.publicKey)).toEqual({ ok: true, body: BODY });
  });
});

describe('signCheckpointLocally and verifyCheckpoint', () => {
  it('a generated P-256 key signs; the public key verifies as base64 DER SPKI and as PEM', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    expect(verifyCheckpoint(BODY, signature, spkiB64(KEY.publicKey))).toEqual({ ok: true, body: BODY });
    expect(verifyCheckpoint(BODY, signature, spkiPem(KEY.publicKey))).toEqual({ ok: true, body: BODY });
    // A SEC1 ("EC PRIVATE KEY") PEM signs too.
    const sec1 = KEY.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    expect(verifyCheckpoint(BODY, signCheckpointLocally(BODY, sec1), spkiB64(KEY.publicKey)).ok).toBe(true);
  });

  it('the signature is what KMS Sign returns for ECDSA_SHA_256: a DER ECDSA-Sig-Value over SHA-256 of the bytes', () => {
    const sig = unb64(signCheckpointLocally(BODY, pkcs8(KEY.privateKey)));
    expect(sig[0]).toBe(0x30);
    expect(sig[1]).toBe(sig.length - 2);
    expect(sig.length).toBeLessThanOrEqual(72);
    expect(verify('sha256', encodeCheckpoint(BODY), { key: KEY.publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
  });

  it('a changed field fails with bad-signature', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    const pub = spkiB64(KEY.publicKey);
    for (const changed of [
      { ...BODY, logSize: 9 },
      { ...BODY, rootHash: `${BODY.rootHash.slice(0, 63)}9` },
      { ...BODY, time: '2026-11-27T09:44:02.001Z' },
      { ...BODY, keyId: `${KEY_ID}x` },
    ]) {
      expect(verifyCheckpoint(changed, signature, pub)).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  it('another key fails with bad-signature', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    expect(verifyCheckpoint(BODY, signature, spkiB64(p256().publicKey))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('a truncated or padded signature is malformed-signature; any flipped bit fails', () => {
    const sig = unb64(signCheckpointLocally(BODY, pkcs8(KEY.privateKey)));
    const pub = spkiB64(KEY.publicKey);
    for (let len = 0; len < sig.length; len++) {
      expect(verifyCheckpoint(BODY, b64(sig.subarray(0, len)), pub)).toEqual({ ok: false, reason: 'malformed-signature' });
    }
    expect(verifyCheckpoint(BODY, b64(Buffer.concat([sig, Buffer.of(0)])), pub)).toEqual({ ok: false, reason: 'malformed-signature' });
    for (let bit = 0; bit < sig.length * 8; bit++) {
      const flipped = Buffer.from(sig);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const result = verifyCheckpoint(BODY, b64(flipped), pub);
      expect(result.ok).toBe(false);
      expect(['malformed-signature', 'bad-signature']).toContain((result as { reason: string }).reason);
    }
  });

  it('a signature that is not canonical base64, or not a P-256 DER signature, is malformed-signature', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    const pub = spkiB64(KEY.publicKey);
    const sig = unb64(signature);
    const raw = (): Buffer => {
      // The same (r, s) as 64 raw bytes (IEEE P1363), the other ECDSA encoding: KMS never returns it.
      const rLen = sig[3] as number;
      const r = sig.subarray(4, 4 + rLen);
      const s = sig.subarray(6 + rLen);
      const pad = (x: Buffer) => Buffer.concat([Buffer.alloc(32), x]).subarray(-32);
      return Buffer.concat([pad(r), pad(s)]);
    };
    for (const bad of [
      '',
      `${signature} `,
      `${signature.slice(0, 8)}\n${signature.slice(8)}`, // Buffer.from(…, 'base64') would skip the newline
      `${signature}=`,
      signature.slice(0, -1),
      `!${signature}`,
      b64(raw()),
      b64(Buffer.of(0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01)), // r = 0
      b64(Buffer.of(0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01)), // negative r
      b64(Buffer.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01)), // non-minimal r
      b64(Buffer.concat([Buffer.of(0x30, 0x26, 0x02, 0x21, 0x01), Buffer.alloc(32, 1), Buffer.of(0x02, 0x01, 0x01)])), // r over 256 bits
      42 as unknown as string,
    ]) {
      expect(verifyCheckpoint(BODY, bad, pub)).toEqual({ ok: false, reason: 'malformed-signature' });
    }
  });

  it('ECDSA signatures are not unique: (r, n - s) verifies too, so a signature is never an identifier', () => {
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const sig = unb64(signCheckpointLocally(BODY, pkcs8(KEY.privateKey)));
    const rLen = sig[3] as number;
    const r = sig.subarray(4, 4 + rLen);
    const s = BigInt(`0x${sig.subarray(6 + rLen).toString('hex')}`);
    const derInt = (x: bigint): Buffer => {
      let h = x.toString(16);
      if (h.length % 2) h = `0${h}`;
      const bytes = Buffer.from(h, 'hex');
      return (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
    };
    const s2 = derInt(n - s);
    const other = Buffer.concat([Buffer.of(0x30, 4 + r.length + s2.length, 0x02, r.length), r, Buffer.of(0x02, s2.length), s2]);
    expect(b64(other)).not.toBe(b64(sig));
    expect(verifyCheckpoint(BODY, b64(other), spkiB64(KEY.publicKey)).ok).toBe(true);
  });

  it('a malformed public key is malformed-key; a key of another type or curve is wrong-key-type', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    const der = unb64(spkiB64(KEY.publicKey));
    for (const bad of [
      '',
      'not a key',
      b64(der.subarray(0, der.length - 1)),
      b64(Buffer.concat([der, Buffer.of(0)])),
      `${spkiB64(KEY.publicKey)}!`,
      pkcs8(KEY.privateKey), // a private key is not a public key, even though Node could derive one
      spkiPem(KEY.publicKey).replace('PUBLIC KEY', 'CERTIFICATE'),
      b64(Buffer.from(KEY.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')),
      null as unknown as string,
    ]) {
      expect(verifyCheckpoint(BODY, signature, bad)).toEqual({ ok: false, reason: 'malformed-key' });
    }
    const others = [
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    ];
    for (const key of others) {
      expect(verifyCheckpoint(BODY, signature, spkiB64(key))).toEqual({ ok: false, reason: 'wrong-key-type' });
      expect(verifyCheckpoint(BODY, signature, spkiPem(key))).toEqual({ ok: false, reason: 'wrong-key-type' });
    }
  });

  it('signCheckpointLocally refuses a key that is not a P-256 private key, and a malformed body', () => {
    expect(() => signCheckpointLocally(BODY, 'not a key')).toThrow(ValidationError);
    expect(() => signCheckpointLocally(BODY, pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey))).toThrow(/P-256/);
    expect(() => signCheckpointLocally(BODY, pkcs8(generateKeyPairSync('ed25519').privateKey))).toThrow(ValidationError);
    expect(() => signCheckpointLocally({ ...BODY, logSize: -1 }, pkcs8(KEY.privateKey))).toThrow(ValidationError);
  });
});

describe('checkpoint bodies', () => {
  const malformed: Array<[string, unknown]> = [
    ['an extra member (it would look signed)', { ...BODY, note: 'hello' }],
    ['the format member (the encoder adds it)', { ...BODY, format: CHECKPOINT_FORMAT }],
    ['a negative size', { ...BODY, logSize: -1 }],
    ['a fractional size', { ...BODY, logSize: 1.5 }],
    ['a size beyond 2^53', { ...BODY, logSize: 2 ** 53 }],
    ['a size as a string', { ...BODY, logSize: '8' }],
    ['an uppercase root', { ...BODY, rootHash: BODY.rootHash.toUpperCase() }],
    ['a short root', { ...BODY, rootHash: BODY.rootHash.slice(2) }],
    ['a non-empty root for size 0', { ...BODY, logSize: 0 }],
    ['a time without milliseconds', { ...BODY, time: '2026-11-27T09:44:02Z' }],
    ['a time with an offset', { ...BODY, time: '2026-11-27T10:44:02.000+01:00' }],
    ['a date that does not exist', { ...BODY, time: '2026-02-30T09:44:02.000Z' }],
    ['a time that is not ISO', { ...BODY, time: 'yesterday' }],
    ['a time as a number', { ...BODY, time: 1_796_031_842_000 }],
    ['an empty key id', { ...BODY, keyId: '' }],
    ['a key id with a space', { ...BODY, keyId: 'my key' }],
    ['a key id over 256 characters', { ...BODY, keyId: 'k'.repeat(257) }],
    ['a missing member', { logSize: 8, rootHash: BODY.rootHash, time: BODY.time }],
    ['an array', [BODY]],
    ['null', null],
  ];

  it.each(malformed)('%s is malformed-body, and the encoder refuses it', (_, body) => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    expect(checkpointProblems(body).length).toBeGreaterThan(0);
    expect(verifyCheckpoint(body as CheckpointBody, signature, spkiB64(KEY.publicKey))).toEqual({ ok: false, reason: 'malformed-body' });
    expect(() => encodeCheckpoint(body as CheckpointBody)).toThrow(ValidationError);
  });

  it('the empty log: size 0 with root SHA-256("") signs and verifies', () => {
    const empty = { ...BODY, logSize: 0, rootHash: toHex(emptyRoot()) };
    expect(checkpointProblems(empty)).toEqual([]);
    expect(verifyCheckpoint(empty, signCheckpointLocally(empty, pkcs8(KEY.privateKey)), spkiB64(KEY.publicKey)).ok).toBe(true);
  });

  it('verifyCheckpoint never throws, whatever it is given', () => {
    const signature = signCheckpointLocally(BODY, pkcs8(KEY.privateKey));
    const pub = spkiB64(KEY.publicKey);
    fc.assert(
      fc.property(fc.anything(), fc.oneof(fc.anything(), fc.base64String(), fc.constant(signature)), fc.oneof(fc.anything(), fc.base64String(), fc.constant(pub)), (body, sig, key) => {
        const result = verifyCheckpoint(body as CheckpointBody, sig as string, key as string);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 500, seed: 8785 },
    );
  });
});

describe('checkpointOrder', () => {
  const at = (time: string, logSize: number, rootHash = BODY.rootHash): CheckpointBody => ({ ...BODY, time, logSize, rootHash });
  const OTHER_ROOT = 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7';
  const T = '2026-11-27T09:44:02.000Z';
  const LATER = '2026-11-27T09:45:02.000Z';
  const EARLIER = '2026-11-27T09:43:02.000Z';

  it.each<[string, CheckpointBody, CheckpointBody, string | true]>([
    ['the same checkpoint', at(T, 8), at(T, 8), true],
    ['larger and later', at(T, 8), at(LATER, 12, OTHER_ROOT), true],
    ['larger at the same time', at(T, 8), at(T, 12, OTHER_ROOT), true],
    ['the same size and root, re-signed later', at(T, 8), at(LATER, 8), true],
    ['another key id (a rotated key)', at(T, 8), { ...at(LATER, 9, OTHER_ROOT), keyId: 'alias/modelgate-checkpoints-2027' }, true],
    ['smaller', at(T, 8), at(LATER, 7, OTHER_ROOT), 'smaller'],
    ['smaller and older', at(T, 8), at(EARLIER, 7, OTHER_ROOT), 'smaller'],
    ['older', at(T, 8), at(EARLIER, 9, OTHER_ROOT), 'older'],
    ['older by a millisecond', at(T, 8), at('2026-11-27T09:44:01.999Z', 8), 'older'],
    ['the same size with another root (a fork)', at(T, 8), at(LATER, 8, OTHER_ROOT), 'fork'],
    ['a malformed previous', { ...at(T, 8), logSize: -1 }, at(T, 8), 'malformed-body'],
    ['a malformed next', at(T, 8), { ...at(T, 8), time: 'now' }, 'malformed-body'],
  ])('%s', (_, previous, next, want) => {
    expect(checkpointOrder(previous, next)).toEqual(want === true ? { ok: true } : { ok: false, reason: want });
  });
});

describe('checkpoints over the Merkle log', () => {
  it('two signed checkpoints of a growing tree verify, are in order, and are consistent', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => leafHash(new TextEncoder().encode(`audit entry ${i}`)));
    const first = appendLeaves(emptyEdge(), leaves.slice(0, 5));
    const second = appendLeaves(first.edge, leaves.slice(5));
    const c1: CheckpointBody = { logSize: first.size, rootHash: toHex(first.root), time: '2026-11-27T09:44:02.000Z', keyId: KEY_ID };
    const c2: CheckpointBody = { logSize: second.size, rootHash: toHex(second.root), time: '2026-11-27T09:49:02.000Z', keyId: KEY_ID };
    const pub = spkiB64(KEY.publicKey);
    expect(verifyCheckpoint(c1, signCheckpointLocally(c1, pkcs8(KEY.privateKey)), pub).ok).toBe(true);
    expect(verifyCheckpoint(c2, signCheckpointLocally(c2, pkcs8(KEY.privateKey)), pub).ok).toBe(true);
    expect(checkpointOrder(c1, c2)).toEqual({ ok: true });
    const proof = consistencyProof(c1.logSize, c2.logSize, nodeMap([...first.nodes, ...second.nodes]));
    expect(verifyConsistency(c1.logSize, c2.logSize, fromHex(c1.rootHash), fromHex(c2.rootHash), proof)).toEqual({ ok: true });
  });
});
