import { s3Client } from '../aws/clients/s3.js';
import { s3Reports } from '../aws/s3.js';
import type { ReportReader } from '../ports.js';

let reports: ReportReader | undefined;

/** Evaluation reports in S3 (the gate reads a version's ModelMetrics reports). */
export const reportsPort = (): ReportReader => (reports ??= s3Reports(s3Client()));
