import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The EventBridge rules of serverless.yml, read from the file itself so the local stack routes
 * events exactly as the deployed rules would. Supports the pattern features modelgate's rules use:
 * exact values in arrays, nested objects.
 */
export interface LocalRule {
  functionName: string;
  pattern: Record<string, unknown>;
}

export function rulesFromServerlessYml(repoRoot: string, stage: string): LocalRule[] {
  const doc = parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8'), { customTags: cfnTags }) as {
    functions: Record<string, { events?: Array<{ eventBridge?: { pattern?: Record<string, unknown> } }> }>;
  };
  return Object.entries(doc.functions).flatMap(([name, fn]) =>
    (fn.events ?? []).flatMap((e) => (e.eventBridge?.pattern ? [{ functionName: `modelgate-${stage}-${name}`, pattern: e.eventBridge.pattern }] : [])),
  );
}

/** EventBridge matching: every key of the pattern must match; an array lists the allowed values. */
export function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((p) => (Array.isArray(value) ? value.includes(p) : p === value));
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matches(p, (value as Record<string, unknown>)[k]));
  }
  return pattern === value;
}

// serverless.yml uses long-form intrinsics, but tolerate short tags if someone adds them.
const cfnTags = ['!Ref', '!GetAtt', '!Sub', '!Join', '!If', '!Equals', '!Select', '!Split'].map((tag) => ({
  tag,
  resolve: (v: unknown) => v,
}));
