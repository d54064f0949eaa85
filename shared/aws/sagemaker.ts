import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  UpdateModelPackageCommand,
  type SageMakerClient,
  type UserContext,
} from '@aws-sdk/client-sagemaker';
import type { Registry } from '../ports.js';
import { TrainingJobDetailSchema } from '../schemas/events.js';

/** SageMaker answers an unknown name with ValidationException "…not found" (some calls: ResourceNotFound). */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === 'ResourceNotFound' || (e.name === 'ValidationException' && /not (be )?found/i.test(e.message)));

export function sageMakerRegistry(client: SageMakerClient): Registry {
  return {
    async describeTrainingJob(name) {
      let out;
      try {
        out = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const metrics: Record<string, number> = {};
      for (const m of out.FinalMetricDataList ?? []) {
        if (m.MetricName !== undefined && m.Value !== undefined && Number.isFinite(m.Value)) metrics[m.MetricName] = m.Value;
      }
      // DescribeTrainingJob is the shape the event projects; parse it with the event's schema.
      const detail = TrainingJobDetailSchema.parse({
        ...out,
        CreationTime: out.CreationTime?.getTime(),
        TrainingEndTime: out.TrainingEndTime?.getTime(),
        LastModifiedTime: (out.LastModifiedTime ?? out.CreationTime)?.getTime(),
      });
      return { detail, metrics };
    },

    async describeModelPackage(arn) {
      const out = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      const createdBy = identity(out.CreatedBy);
      const lastModifiedBy = identity(out.LastModifiedBy);
      const status = out.ModelApprovalStatus;
      return {
        ...(createdBy ? { createdBy } : {}),
        ...(lastModifiedBy ? { lastModifiedBy } : {}),
        ...(status ? { status } : {}),
      };
    },

    async setApprovalStatus({ modelPackageArn, status, description, clientToken }) {
      try {
        await client.send(
          new UpdateModelPackageCommand({
            ModelPackageArn: modelPackageArn,
            ModelApprovalStatus: status,
            ApprovalDescription: description,
            ClientToken: clientToken,
          }),
        );
        return 'updated';
      } catch (e) {
        if (e instanceof Error && e.name === 'ValidationException' && !isNotFound(e)) return 'refused';
        throw e;
      }
    },
  };
}

/** The IAM identity when SageMaker gives one, else the Studio user profile. */
function identity(u: UserContext | undefined): string | undefined {
  return u?.IamIdentity?.Arn ?? u?.UserProfileName ?? u?.UserProfileArn;
}
