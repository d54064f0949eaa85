import type { Deps, ReportReader, Registry } from '../ports.js';

/**
 * The AWS reads of one invocation, each made once. A commit that conflicts re-reads the table and
 * plans again (retry.ts), but what SageMaker and S3 answered a few milliseconds earlier still
 * holds: DescribeModelPackage, DescribeTrainingJob, ListTags and the evaluation report are not
 * asked again. A failed call is not kept, so a retry asks again. Writes (UpdateModelPackage) and
 * listings pass through.
 */
export function withReadCache<D extends Pick<Deps, 'registry' | 'reports'>>(deps: D): D {
  const answers = new Map<string, Promise<unknown>>();
  const once =
    <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const key = `${name}\u0000${JSON.stringify(args)}`;
      const known = answers.get(key) as Promise<R> | undefined;
      if (known) return known;
      const answer = call(...args);
      answers.set(key, answer);
      answer.catch(() => answers.delete(key));
      return answer;
    };
  const r = deps.registry;
  const registry: Registry = {
    describeTrainingJob: once('DescribeTrainingJob', (name: string) => r.describeTrainingJob(name)),
    listTags: once('ListTags', (arn: string) => r.listTags(arn)),
    describeModelPackage: once('DescribeModelPackage', (arn: string) => r.describeModelPackage(arn)),
    describeModelPackageDetail: (arn) => r.describeModelPackageDetail(arn),
    // A confirmation of the registry's current status: asked fresh each time, like a listing.
    batchDescribeModelPackages: (arns) => r.batchDescribeModelPackages(arns),
    listModelPackages: (args) => r.listModelPackages(args),
    setApprovalStatus: (args) => r.setApprovalStatus(args),
    describeEndpoint: once('DescribeEndpoint', (name: string) => r.describeEndpoint(name)),
    listEndpoints: (args) => r.listEndpoints(args),
    setStageStatus: (args) => r.setStageStatus(args),
  };
  const reports: ReportReader = { read: once('GetObject', (uri: string) => deps.reports.read(uri)) };
  return { ...deps, registry, reports };
}
