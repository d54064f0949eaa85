import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One published message, as `messages()` returns it and as its outbox JSON file holds it. */
export interface OutboxMessage {
  /** Position in the outbox; continues across restarts when an outbox directory is used. */
  seq: number;
  /** The topic's name (the last part of its ARN). */
  topic: string;
  topicArn: string;
  subject?: string;
  /** The message body exactly as published (it holds the review link). */
  message: string;
  /** Message attributes by name: their StringValue (BinaryValue in base64). */
  attributes: Record<string, string>;
  /** The endpoints (email addresses) of the subscriptions whose filter policy matched. */
  recipients: string[];
  /** How many subscriptions the topic had when the message was published. */
  subscriptions: number;
  messageId: string;
  /** ISO 8601 time of the Publish. */
  at: string;
}

const SEQ_DIGITS = 6;
const pad = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

/** Recipients line: who got it, or why nobody did. */
export function recipientsLine(m: Pick<OutboxMessage, 'recipients' | 'subscriptions'>): string {
  if (m.recipients.length > 0) return m.recipients.join(', ');
  return m.subscriptions === 0 ? 'no subscribers' : `no subscriber matched (${m.subscriptions} subscription${m.subscriptions === 1 ? '' : 's'} on the topic)`;
}

/**
 * The readable form: a header with topic, recipients, subject and attributes, then the body
 * as is (not indented, so that a link in it can be copied whole), then a closing rule.
 */
export function formatMessage(m: OutboxMessage): string {
  const rule = '─'.repeat(72);
  const attributes = Object.entries(m.attributes);
  const head = `┌─ SNS #${pad(m.seq)} · ${m.topic} `;
  return [
    head + '─'.repeat(Math.max(4, 73 - head.length)),
    `│ to:         ${recipientsLine(m)}`,
    `│ subject:    ${m.subject ?? '(none)'}`,
    `│ attributes: ${attributes.length ? attributes.map(([k, v]) => `${k}=${v}`).join(', ') : '(none)'}`,
    `│ message id: ${m.messageId}   at ${m.at}`,
    `└${rule}`,
    m.message,
    `${rule}─ end of #${pad(m.seq)}`,
  ].join('\n');
}

/** The first recipient, else the `reviewer` attribute, else 'all', made safe for a file name. */
function addressee(m: OutboxMessage): string {
  const who = m.recipients[0] ?? m.attributes['reviewer'] ?? 'all';
  return who.replace(/[^A-Za-z0-9@._+-]/g, '_').slice(0, 100) || 'all';
}

/** The next sequence number after the highest `<digits>-…` file in the directory (1 for none). */
export async function nextSeq(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  let max = 0;
  for (const name of await readdir(dir)) {
    const m = /^(\d+)-/.exec(name);
    if (m?.[1]) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/**
 * Writes `<seq>-<topic>-<addressee>.json` and its `.txt` twin (the printed text), never over an
 * existing file. One stand-in per outbox directory: the numbers are handed out in memory after
 * one scan at start. Returns the JSON file's path.
 */
export async function writeOutbox(dir: string, m: OutboxMessage, text: string): Promise<string> {
  const base = join(dir, `${pad(m.seq)}-${m.topic}-${addressee(m)}`);
  await writeFile(`${base}.json`, JSON.stringify(m, null, 2) + '\n', { flag: 'wx' });
  await writeFile(`${base}.txt`, text + '\n', { flag: 'wx' });
  return `${base}.json`;
}
