import { assertIsError } from '../domain/errors.js';
import type { EndpointRecord } from '../domain/deployment.js';
import type { Deps } from '../ports.js';
import { logger } from '../logger.js';
import { handleEndpointChange, type EndpointOutcome } from './deployments.js';
import { failuresOf, type RunFailure } from './runs.js';

/**
 * The endpoint half of reconciliation: what SageMaker says is in service against what the table
 * records, for endpoint events that were missed. An in-service endpoint with no record, or a
 * record older than SageMaker's LastModifiedTime (an update whose event was lost), and a recorded
 * serving endpoint that SageMaker no longer lists as in service (a deletion whose event was lost)
 * are each handed to the deployment recorder, the one path for an observed endpoint: it describes
 * the endpoint and records what it serves, with the notices a deployment gets.
 */
export interface EndpointsReport {
  /** Endpoints SageMaker lists as InService. */
  inService: number;
  /** Of those, the endpoints the table had recorded, up to date. */
  inStep: number;
  /** In service, never recorded. */
  missing: string[];
  /** In service, recorded before their last change (SageMaker's LastModifiedTime is later). */
  outdated: string[];
  /** Recorded as serving, no longer in service in SageMaker. */
  gone: string[];
  /** Empty in a dry run. */
  actions: Array<{ endpoint: string; outcome: EndpointOutcome }>;
}

/** The endpoints' report; what failed is added to `failures` (the run's list: reconcile.ts). */
export async function reconcileEndpoints(deps: Deps, dryRun: boolean, failures: RunFailure[]): Promise<EndpointsReport> {
  const report: EndpointsReport = { inService: 0, inStep: 0, missing: [], outdated: [], gone: [], actions: [] };
  const listed = new Set<string>();
  const act = async (name: string, arn: string, lastModified?: number) => {
    if (dryRun) return;
    try {
      const { outcome } = await handleEndpointChange(deps, {
        EndpointName: name,
        EndpointArn: arn,
        EndpointStatus: 'InService',
        ...(lastModified === undefined ? {} : { LastModifiedTime: lastModified }),
      });
      report.actions.push({ endpoint: name, outcome });
    } catch (e) {
      assertIsError(e);
      logger.error('reconciling an endpoint failed', { endpoint: name, error: e.name, errorMessage: e.message });
      failures.push(...failuresOf('endpoint', name, e));
    }
  };
  let nextToken: string | undefined;
  try {
    do {
      const page = await deps.registry.listEndpoints(nextToken ? { nextToken } : {});
      // One BatchGetItem per page of 100: the records of the listed endpoints.
      const recorded = new Map((await deps.store.getEndpoints(page.items.map((i) => i.name))).map((r) => [r.name.toLowerCase(), r] as const));
      for (const item of page.items) {
        report.inService++;
        listed.add(item.name.toLowerCase());
        const record = recorded.get(item.name.toLowerCase());
        if (!record) report.missing.push(item.name);
        else if (record.lastModified < item.lastModified || record.status !== 'InService') report.outdated.push(item.name);
        else {
          report.inStep++;
          continue;
        }
        await act(item.name, record?.arn ?? item.arn, item.lastModified);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (e) {
    assertIsError(e);
    logger.error('listing the endpoints failed', { error: e.name, errorMessage: e.message });
    failures.push(...failuresOf('endpoint-listing', 'endpoints', e));
    return report;
  }
  // The recorded serving endpoints (the sparse index), a page at a time.
  let cursor: string | undefined;
  do {
    const page = await deps.store.listServingEndpoints({ limit: 100, endpointsOnly: true, ...(cursor ? { cursor } : {}) });
    for (const e of page.endpoints.filter((r: EndpointRecord) => !listed.has(r.name.toLowerCase()))) {
      report.gone.push(e.name);
      await act(e.name, e.arn);
    }
    cursor = page.cursor;
  } while (cursor);
  return report;
}
