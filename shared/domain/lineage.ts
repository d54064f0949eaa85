import type { TrainingJobDetail } from '../schemas/events.js';

/** A training job as modelgate records it: a lineage node with its inputs and output. */
export interface TrainingJob {
  name: string;
  arn: string;
  status: string;
  lastModified: number;
  createdAt?: number;
  endedAt?: number;
  image?: string;
  roleArn?: string;
  hyperparameters: Record<string, string>;
  datasets: DatasetInput[];
  /** The model artifact; only a Completed job has one. */
  artifactUri?: string;
  failureReason?: string;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** The Studio user who started the job (tag `sagemaker:user-profile-arn`), when SageMaker says. */
  trainedBy?: string;
}

export interface DatasetInput {
  channel: string;
  uri: string;
}

/** What the artifact node keeps of the job that produced it, so a version's gate reads one item. */
export interface ProducerSummary {
  name: string;
  arn: string;
  trainedBy?: string;
  image?: string;
  metrics: Record<string, number>;
  datasets: DatasetInput[];
}

/** The model artifact (`s3://…/model.tar.gz`): the join between a job and its versions. */
export interface ArtifactNode {
  uri: string;
  producer?: ProducerSummary;
  /** ARNs of versions registered before their job's event arrived. */
  waiting: string[];
  /** ARNs of versions linked to this artifact. */
  consumers: string[];
}

export function trainingJobFromDetail(d: TrainingJobDetail, metrics: Record<string, number>): TrainingJob {
  const completed = d.TrainingJobStatus === 'Completed';
  return {
    name: d.TrainingJobName,
    arn: d.TrainingJobArn,
    status: d.TrainingJobStatus,
    lastModified: d.LastModifiedTime,
    ...(d.CreationTime === undefined ? {} : { createdAt: d.CreationTime }),
    ...(d.TrainingEndTime === undefined ? {} : { endedAt: d.TrainingEndTime }),
    ...(d.AlgorithmSpecification?.TrainingImage ? { image: d.AlgorithmSpecification.TrainingImage } : {}),
    ...(d.RoleArn ? { roleArn: d.RoleArn } : {}),
    hyperparameters: d.HyperParameters ?? {},
    datasets: (d.InputDataConfig ?? []).flatMap((c) =>
      c.DataSource.S3DataSource ? [{ channel: c.ChannelName, uri: c.DataSource.S3DataSource.S3Uri }] : [],
    ),
    // A Failed or Stopped job is recorded with its reason and no artifact, even if a partial one exists.
    ...(completed && d.ModelArtifacts?.S3ModelArtifacts ? { artifactUri: d.ModelArtifacts.S3ModelArtifacts } : {}),
    ...(d.FailureReason ? { failureReason: d.FailureReason } : {}),
    metrics: completed ? metrics : {},
    tags: d.Tags ?? {},
    ...(d.Tags?.[TRAINED_BY_TAG] ? { trainedBy: d.Tags[TRAINED_BY_TAG] } : {}),
  };
}

/** The tag that names the Studio user who trained a job. */
export const TRAINED_BY_TAG = 'sagemaker:user-profile-arn';

/** What a later observation of a recorded job added to the record (see `enrichJob`). */
export interface JobEnrichment {
  job: TrainingJob;
  added: {
    tags: string[];
    hyperparameters: string[];
    datasets: DatasetInput[];
    /** Scalar facts the record lacked: trainedBy, image, roleArn, createdAt, endedAt, failureReason. */
    fields: string[];
  };
}

/**
 * The record with the facts it lacks and the observation has (the record keeps every fact it
 * holds: nothing recorded is overwritten), or undefined when the observation adds nothing. A job
 * recorded from DescribeTrainingJob before its event may lack what only the event carries (its
 * tags, and so `trainedBy`). Tags, hyperparameters, datasets, image and role describe the job
 * whatever its state; an end time and a failure reason only the state they were observed in.
 */
export function enrichJob(recorded: TrainingJob, observed: TrainingJob): JobEnrichment | undefined {
  const job: TrainingJob = {
    ...recorded,
    tags: { ...recorded.tags },
    hyperparameters: { ...recorded.hyperparameters },
    datasets: [...recorded.datasets],
  };
  const added: JobEnrichment['added'] = { tags: [], hyperparameters: [], datasets: [], fields: [] };
  for (const [k, v] of Object.entries(observed.tags)) {
    if (!Object.hasOwn(job.tags, k)) {
      defineOwn(job.tags, k, v);
      added.tags.push(k);
    }
  }
  for (const [k, v] of Object.entries(observed.hyperparameters)) {
    if (!Object.hasOwn(job.hyperparameters, k)) {
      defineOwn(job.hyperparameters, k, v);
      added.hyperparameters.push(k);
    }
  }
  for (const d of observed.datasets) {
    if (!job.datasets.some((r) => r.channel === d.channel)) {
      job.datasets.push(d);
      added.datasets.push(d);
    }
  }
  const trainedBy = observed.trainedBy ?? job.tags[TRAINED_BY_TAG];
  const fill = <K extends 'trainedBy' | 'image' | 'roleArn' | 'createdAt' | 'endedAt' | 'failureReason'>(k: K, v: TrainingJob[K] | undefined) => {
    if (job[k] === undefined && v !== undefined) {
      job[k] = v;
      added.fields.push(k);
    }
  };
  fill('trainedBy', trainedBy);
  fill('image', observed.image);
  fill('roleArn', observed.roleArn);
  fill('createdAt', observed.createdAt);
  if (observed.status === recorded.status) {
    fill('endedAt', observed.endedAt);
    fill('failureReason', observed.failureReason);
  }
  const changed = added.tags.length + added.hyperparameters.length + added.datasets.length + added.fields.length > 0;
  return changed ? { job, added } : undefined;
}

export function producerSummary(job: TrainingJob): ProducerSummary {
  return {
    name: job.name,
    arn: job.arn,
    ...(job.trainedBy ? { trainedBy: job.trainedBy } : {}),
    ...(job.image ? { image: job.image } : {}),
    metrics: job.metrics,
    datasets: job.datasets,
  };
}

/**
 * SageMaker writes a job's artifact to `<S3OutputPath>/<TrainingJobName>/output/model.tar.gz`, so
 * an artifact URI of that shape names the job that probably produced it (to be confirmed by
 * DescribeTrainingJob).
 */
export function jobNameFromArtifactUri(uri: string): string | undefined {
  const m = /^s3:\/\/[^/]+\/(?:.*\/)?([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})\/output\/model\.tar\.gz$/.exec(uri);
  return m?.[1];
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1], key: m[2] ?? '' };
}

/** Sets an own property whatever the key: `map[k] = v` with k = `__proto__` would set the prototype instead. */
function defineOwn(map: Record<string, string>, k: string, v: string): void {
  Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
}
