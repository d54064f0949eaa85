import type { DatasetInput, TrainingJob } from './lineage.js';
import type { ModelVersion } from './version.js';

/**
 * The version under review against the version in production (the group's newest Approved one):
 * what a risk officer asks first. Pure: both sides are read by the caller.
 */

/** What one version's evidence is made of, for comparison. */
export interface Evidence {
  version: number;
  arn: string;
  /** When its Approved decision was made, when modelgate recorded one. */
  approvedAt?: string;
  /** The training job's final metrics (FinalMetricDataList). */
  trainingMetrics: Record<string, number>;
  /** The gate's evaluated metrics, `<source>:<metric>`, in rule order; undefined when the gate found no value. */
  gateMetrics: Array<{ name: string; actual: number | undefined }>;
  datasets: DatasetInput[];
  hyperparameters: Record<string, string>;
  trainingImage?: string;
  image?: string;
  imageDigest?: string;
}

export function evidenceOf(version: ModelVersion, job: TrainingJob | undefined): Evidence {
  const approvedAt = version.decision?.outcome === 'Approved' ? version.decision.at : undefined;
  return {
    version: version.version,
    arn: version.arn,
    ...(approvedAt ? { approvedAt } : {}),
    trainingMetrics: job?.metrics ?? {},
    gateMetrics: (version.gate?.results ?? []).map((r) => ({ name: `${r.rule.source}:${r.rule.metric}`, actual: r.actual })),
    datasets: job?.datasets ?? [],
    hyperparameters: job?.hyperparameters ?? {},
    ...(job?.image ? { trainingImage: job.image } : {}),
    ...(version.image ? { image: version.image } : {}),
    ...(version.imageDigest ? { imageDigest: version.imageDigest } : {}),
  };
}

export interface MetricComparison {
  source: 'training job' | 'metric gate';
  name: string;
  /** The version under review; null when it has no value for this metric. */
  current: number | null;
  /** The version in production; null when it has no value for this metric. */
  production: number | null;
  /** current − production, rounded to 12 significant digits; null when either side is missing. */
  difference: number | null;
}

export interface HyperparameterChange {
  name: string;
  change: 'added' | 'removed' | 'changed';
  production?: string;
  current?: string;
}

export interface ImageChange {
  what: 'training image' | 'model image' | 'image digest';
  production?: string;
  current?: string;
}

export type ProductionComparison =
  | { kind: 'no-approved-version' }
  | {
      kind: 'compared';
      production: { version: number; arn: string; approvedAt?: string };
      metrics: MetricComparison[];
      datasets: { added: DatasetInput[]; removed: DatasetInput[] };
      hyperparameters: HyperparameterChange[];
      images: ImageChange[];
    };

/**
 * The difference as a reader expects it: 0.894 − 0.912 is −0.018, not −0.018000000000000016.
 * Twelve significant digits keep every digit a metric is reported with and drop the binary noise.
 */
export function metricDifference(current: number, production: number): number {
  const d = current - production;
  return d === 0 ? 0 : Number(d.toPrecision(12));
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

function metricRow(source: MetricComparison['source'], name: string, current: number | undefined, production: number | undefined): MetricComparison {
  return {
    source,
    name,
    current: current ?? null,
    production: production ?? null,
    difference: current === undefined || production === undefined ? null : metricDifference(current, production),
  };
}

/** Compares the version under review with the version in production (`undefined`: none yet). */
export function compareWithProduction(current: Evidence, production: Evidence | undefined): ProductionComparison {
  if (production === undefined) return { kind: 'no-approved-version' };

  const jobNames = [...new Set([...Object.keys(current.trainingMetrics), ...Object.keys(production.trainingMetrics)])].sort(byName);
  const jobMetrics = jobNames.map((n) => metricRow('training job', n, own(current.trainingMetrics, n), own(production.trainingMetrics, n)));
  // The gate's rules in the current version's order, then any that only production was gated on
  // (the policy changed between them).
  const gateOf = (e: Evidence) => new Map(e.gateMetrics.map((m) => [m.name, m.actual]));
  const currentGate = gateOf(current);
  const productionGate = gateOf(production);
  const gateNames = [...currentGate.keys(), ...[...productionGate.keys()].filter((n) => !currentGate.has(n))];
  const gateMetrics = gateNames.map((n) => metricRow('metric gate', n, currentGate.get(n), productionGate.get(n)));

  // Datasets by URI: a channel renamed over the same data is not a new dataset.
  const uris = (e: Evidence) => new Set(e.datasets.map((d) => d.uri));
  const currentUris = uris(current);
  const productionUris = uris(production);
  const byUri = (a: DatasetInput, b: DatasetInput) => byName(a.uri, b.uri);
  const added = current.datasets.filter((d) => !productionUris.has(d.uri)).sort(byUri);
  const removed = production.datasets.filter((d) => !currentUris.has(d.uri)).sort(byUri);

  const hpNames = [...new Set([...Object.keys(current.hyperparameters), ...Object.keys(production.hyperparameters)])].sort(byName);
  const hyperparameters = hpNames.flatMap((name): HyperparameterChange[] => {
    const now = own(current.hyperparameters, name);
    const before = own(production.hyperparameters, name);
    if (now === before) return [];
    if (before === undefined) return [{ name, change: 'added', current: now ?? '' }];
    if (now === undefined) return [{ name, change: 'removed', production: before }];
    return [{ name, change: 'changed', production: before, current: now }];
  });

  const images = (
    [
      ['training image', current.trainingImage, production.trainingImage],
      ['model image', current.image, production.image],
      ['image digest', current.imageDigest, production.imageDigest],
    ] as const
  ).flatMap(([what, now, before]): ImageChange[] =>
    now === before ? [] : [{ what, ...(before !== undefined ? { production: before } : {}), ...(now !== undefined ? { current: now } : {}) }],
  );

  return {
    kind: 'compared',
    production: { version: production.version, arn: production.arn, ...(production.approvedAt ? { approvedAt: production.approvedAt } : {}) },
    metrics: [...jobMetrics, ...gateMetrics],
    datasets: { added, removed },
    hyperparameters,
    images,
  };
}

/** The gate's verdict in plain words: "2 of 2 metric rules pass", "1 metric rule passes". */
export function gateVerdict(results: ReadonlyArray<{ passed: boolean }>): string {
  const total = results.length;
  const passing = results.filter((r) => r.passed).length;
  if (total === 0) return 'The policy has no metric rules';
  if (total === 1) return passing === 1 ? '1 metric rule passes' : 'The 1 metric rule fails';
  return `${passing} of ${total} metric rules pass`;
}
