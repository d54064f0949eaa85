import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { ValidationError } from './errors.js';
import { emptyRoot, isHashHex, toHex } from './merkle.js';

/**
 * Signed checkpoints of the audit log's Merkle tree (./merkle.ts): "the log had `logSize`
 * entries with root `rootHash` at `time`", signed with ECDSA P-256 / SHA-256 by the key `keyId`.
 * In AWS the key is a KMS key (KeySpec ECC_NIST_P256, SigningAlgorithm ECDSA_SHA_256); on stage
 * `local`, `signCheckpointLocally` with a PEM private key. An auditor verifies offline with the
 * public key alone (`verifyCheckpoint`).
 *
 * The signed bytes (`encodeCheckpoint`) are the RFC 8785 canonical JSON (UTF-8) of
 *
 *   {"format":"modelgate-checkpoint/v1","keyId":…,"logSize":…,"rootHash":…,"time":…}
 *
 * Why canonical JSON and not a C2SP signed note (c2sp.org/tlog-checkpoint):
 * - the audit log already hashes RFC 8785 JSON (audit.ts, the same `canonicalize` package), so
 *   an auditor needs one encoding for all of modelgate; the body is all strings and one safe
 *   integer, for which every RFC 8785 implementation writes the same bytes;
 * - the checkpoint is stored and exported as this very JSON object, so there is no second text
 *   form to keep in step with it;
 * - a tlog-checkpoint has no time line (time belongs to witness cosignatures) and carries the
 *   root in base64, so ours would be a non-standard note anyway; interoperating with witnesses is
 *   not a goal, and if it becomes one the same P-256 key can sign a note too (signature type 0x02).
 * The constant `format` member separates these signatures from anything else the key might sign
 * and versions the encoding. Only the five members are accepted (an unsigned extra member would
 * look signed); `time` must be `Date#toISOString` output and `rootHash` lowercase hex, so each
 * checkpoint has exactly one encoding.
 *
 * Signatures are DER-encoded ECDSA-Sig-Value (RFC 3279 §2.2.3), base64: exactly what KMS Sign
 * returns for ECDSA_SHA_256 (Sign with Message = encodeCheckpoint(body) and MessageType RAW: KMS
 * hashes with SHA-256 itself; the encoding stays far below RAW's 4096-byte limit). Public keys are
 * DER SubjectPublicKeyInfo, base64 (what GetPublicKey returns), or the same in a PEM
 * "PUBLIC KEY" block. ECDSA signatures are not unique ((r, s) and (r, n - s) both verify): never
 * use the signature bytes as an identifier.
 *
 * Pure: node:crypto and canonicalize, no AWS SDK, no clock, no I/O. The verifiers never throw.
 */

export const CHECKPOINT_FORMAT = 'modelgate-checkpoint/v1';

export interface CheckpointBody {
  /** Number of leaves in the log. */
  logSize: number;
  /** MTH of the first `logSize` leaves, 64 lowercase hex characters. */
  rootHash: string;
  /** When the checkpoint was made, as `Date#toISOString` writes it (UTC, milliseconds). */
  time: string;
  /** The signing key: a KMS key ARN, or a local key's name. Visible ASCII, 1–256 characters. */
  keyId: string;
}

export type CheckpointRefusal =
  | 'malformed-body'
  | 'malformed-signature' // not canonical base64, or not a DER ECDSA-Sig-Value a P-256 key can make
  | 'malformed-key' // not a DER SPKI (base64 or PEM "PUBLIC KEY")
  | 'wrong-key-type' // a public key, but not EC on P-256
  | 'bad-signature';

export type CheckpointVerification = { ok: true; body: CheckpointBody } | { ok: false; reason: CheckpointRefusal };

export type OrderRefusal =
  | 'malformed-body'
  | 'smaller' // next.logSize < previous.logSize: the log shrank
  | 'older' // next.time < previous.time
  | 'fork'; // same size, another root: two different logs

export type CheckpointOrder = { ok: true } | { ok: false; reason: OrderRefusal };

const KEY_ID = /^[\x21-\x7e]{1,256}$/;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FIELDS = ['keyId', 'logSize', 'rootHash', 'time'];
const EMPTY_ROOT_HEX = toHex(emptyRoot());

/** What is wrong with a checkpoint body; empty when it is well formed. */
export function checkpointProblems(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['must be an object'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const extra = Object.keys(b).filter((k) => !FIELDS.includes(k));
  if (extra.length) problems.push(`unknown members: ${extra.slice(0, 5).join(', ')}`);
  if (typeof b.logSize !== 'number' || !Number.isSafeInteger(b.logSize) || b.logSize < 0) {
    problems.push('logSize: must be a safe integer ≥ 0');
  }
  if (!isHashHex(b.rootHash)) problems.push('rootHash: must be 64 lowercase hex characters');
  else if (b.logSize === 0 && b.rootHash !== EMPTY_ROOT_HEX) problems.push('rootHash: an empty log has root SHA-256("")');
  if (typeof b.time !== 'string' || !ISO_UTC_MS.test(b.time) || !isIsoInstant(b.time)) {
    problems.push('time: must be an ISO 8601 UTC instant as Date#toISOString writes it');
  }
  if (typeof b.keyId !== 'string' || !KEY_ID.test(b.keyId)) problems.push('keyId: must be 1-256 visible ASCII characters');
  return problems;
}

function isIsoInstant(time: string): boolean {
  const ms = Date.parse(time);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === time;
}

const isBody = (body: unknown): body is CheckpointBody => checkpointProblems(body).length === 0;

/** The exact bytes that are signed (see the module comment). A ValidationError for a malformed body. */
export function encodeCheckpoint(body: CheckpointBody): Uint8Array {
  const problems = checkpointProblems(body);
  if (problems.length) throw new ValidationError('checkpoint', problems);
  const text = canonicalize({
    format: CHECKPOINT_FORMAT,
    keyId: body.keyId,
    logSize: body.logSize,
    rootHash: body.rootHash,
    time: body.time,
  });
  if (text === undefined) throw new ValidationError('checkpoint', ['cannot be canonicalised']);
  return new TextEncoder().encode(text);
}

/** Canonical base64 only: Buffer.from(…, 'base64') alone skips any character it does not know. */
function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 16_384 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * A DER ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } with positive, minimally encoded
 * integers of at most 32 significant bytes (P-256), and nothing after it.
 */
function isP256DerSignature(sig: Buffer): boolean {
  if (sig.length < 8 || sig.length > 72 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return false;
  let offset = 2;
  for (let i = 0; i < 2; i++) {
    if (sig[offset] !== 0x02) return false;
    const len = sig[offset + 1] ?? 0;
    const int = sig.subarray(offset + 2, offset + 2 + len);
    if (len < 1 || len > 33 || int.length !== len) return false;
    const first = int[0] ?? 0;
    if (first >= 0x80) return false; // negative
    if (len > 1 && first === 0 && (int[1] ?? 0) < 0x80) return false; // a superfluous leading zero
    if (len === 33 && first !== 0) return false; // more than 256 bits
    if (int.every((x) => x === 0)) return false; // r and s are at least 1
    offset += 2 + len;
  }
  return offset === sig.length;
}

/** The length of the DER SEQUENCE at the start of `der` (header included), or -1. */
function derLength(der: Buffer): number {
  if (der[0] !== 0x30 || der.length < 2) return -1;
  const first = der[1] ?? 0;
  if (first < 0x80) return 2 + first;
  const octets = first - 0x80;
  if (octets < 1 || octets > 2 || der.length < 2 + octets) return -1;
  let len = 0;
  for (let i = 0; i < octets; i++) len = len * 256 + (der[2 + i] ?? 0);
  return 2 + octets + len;
}

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PUBLIC KEY-----\s*$/;

function parsePublicKey(key: unknown): { key: KeyObject } | { reason: 'malformed-key' | 'wrong-key-type' } {
  if (typeof key !== 'string') return { reason: 'malformed-key' };
  const trimmed = key.trim();
  const pem = PEM.exec(trimmed);
  const der = decodeBase64(pem ? (pem[1] ?? '').replace(/\s+/g, '') : trimmed);
  if (der === undefined) return { reason: 'malformed-key' };
  let object: KeyObject;
  try {
    // OpenSSL ignores bytes after the SPKI's SEQUENCE: here they make the key malformed.
    if (derLength(der) !== der.length) return { reason: 'malformed-key' };
    object = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return { reason: 'malformed-key' };
  }
  return isP256(object) ? { key: object } : { reason: 'wrong-key-type' };
}

const isP256 = (key: KeyObject): boolean =>
  key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/**
 * Verifies a checkpoint offline: `signatureDer` is the base64 of the DER signature (KMS Sign's
 * Signature), `publicKey` the base64 of the DER SPKI (KMS GetPublicKey's PublicKey) or a PEM
 * "PUBLIC KEY" block. Never throws.
 */
export function verifyCheckpoint(body: CheckpointBody, signatureDer: string, publicKey: string): CheckpointVerification {
  if (!isBody(body)) return { ok: false, reason: 'malformed-body' };
  const parsed = parsePublicKey(publicKey);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason };
  const signature = decodeBase64(signatureDer);
  if (signature === undefined || !isP256DerSignature(signature)) return { ok: false, reason: 'malformed-signature' };
  let valid = false;
  try {
    valid = verify('sha256', encodeCheckpoint(body), { key: parsed.key, dsaEncoding: 'der' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad-signature' };
  const { logSize, rootHash, time, keyId } = body;
  return { ok: true, body: { logSize, rootHash, time, keyId } };
}

/**
 * Signs a checkpoint with a PEM (PKCS#8 or SEC1) P-256 private key, the stand-in for KMS Sign on
 * stage `local`. Returns the base64 DER signature, the format KMS returns. Throws a
 * ValidationError for a malformed body or a key that is not a P-256 private key.
 */
export function signCheckpointLocally(body: CheckpointBody, privateKeyPem: string): string {
  const bytes = encodeCheckpoint(body);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    throw new ValidationError('checkpoint signing key', ['must be a PEM private key']);
  }
  if (!isP256(key)) throw new ValidationError('checkpoint signing key', ['must be an EC key on P-256']);
  return sign('sha256', bytes, { key, dsaEncoding: 'der' }).toString('base64');
}

/**
 * Whether `next` may follow `previous`: not smaller, not older, and at the same size the same
 * root. A larger checkpoint must still be shown consistent with the previous one
 * (merkle.ts `verifyConsistency`); ordering alone cannot tell. Never throws.
 */
export function checkpointOrder(previous: CheckpointBody, next: CheckpointBody): CheckpointOrder {
  if (!isBody(previous) || !isBody(next)) return { ok: false, reason: 'malformed-body' };
  if (next.logSize < previous.logSize) return { ok: false, reason: 'smaller' };
  if (Date.parse(next.time) < Date.parse(previous.time)) return { ok: false, reason: 'older' };
  if (next.logSize === previous.logSize && next.rootHash !== previous.rootHash) return { ok: false, reason: 'fork' };
  return { ok: true };
}
