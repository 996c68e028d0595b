import type { Prisma } from '../registry/client';
import type { Application } from '../generated/prisma/client';
import { ACTIVITY_FAILURES, permanentFailure } from './errors';

type Tx = Prisma.TransactionClient;

/**
 * Locks the application's row for the rest of the transaction and returns it.
 * Every activity that changes an application's grants, credentials or status
 * takes this lock first, so a retry that overlaps a slow first attempt waits
 * for it and then sees its committed result (and its audit event) instead of
 * writing a second grant.
 */
export async function lockApplication(tx: Tx, applicationId: string): Promise<Application> {
  await tx.$queryRaw`SELECT id FROM applications WHERE id = ${applicationId} FOR UPDATE`;
  const application = await tx.application.findUnique({ where: { id: applicationId } });
  if (application === null) {
    throw permanentFailure(
      ACTIVITY_FAILURES.APPLICATION_NOT_FOUND,
      `There is no application ${applicationId} in the registry; it must be registered first.`,
    );
  }
  return application;
}

export const CLOSED_STATUSES = ['OFFBOARDED', 'REJECTED', 'EXPIRED'] as const;

export function isClosed(application: Pick<Application, 'status'>): boolean {
  return (CLOSED_STATUSES as readonly string[]).includes(application.status);
}
