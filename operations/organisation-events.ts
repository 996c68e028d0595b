import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { organisationEventSignal, type OrganisationEvent } from '../workflows/messages';

/**
 * An organisation-level event (contract ended, legal entity struck off, the
 * organisation offboarded) ends every open admission of that organisation:
 * each application's lifecycle is signalled and offboards itself, and the
 * organisation's record is closed. Returns how many lifecycles were signalled.
 */
export async function cascadeOrganisationEvent(
  temporal: Client,
  registry: Registry,
  lei: string,
  event: OrganisationEvent,
): Promise<{ signalled: number }> {
  const organisation = await registry.organisation.findUnique({
    where: { lei },
    include: { applications: { where: { status: { in: ['PENDING', 'ADMITTED', 'SUSPENDED'] } }, select: { id: true, workflowId: true } } },
  });
  if (organisation === null) throw new OrganisationNotFound(lei);
  await registry.$transaction(async (tx) => {
    await tx.organisation.update({ where: { id: organisation.id }, data: { status: 'CLOSED' } });
    await appendAuditEvent(tx, {
      idempotencyKey: `organisation-event:${organisation.id}:${event.kind}`,
      type: `organisation.${event.kind}`,
      actor: event.by,
      organisationId: organisation.id,
      occurredAt: new Date(),
      data: { reason: event.reason, applications: organisation.applications.map((a) => a.id) },
    });
  });
  let signalled = 0;
  for (const application of organisation.applications) {
    try {
      await temporal.workflow.getHandle(application.workflowId).signal(organisationEventSignal, event);
      signalled += 1;
    } catch (error) {
      // A lifecycle that has just closed by itself needs nothing more.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return { signalled };
}

export class OrganisationNotFound extends Error {
  override name = 'OrganisationNotFound';
  constructor(lei: string) {
    super(`No organisation with LEI ${lei} is in the registry.`);
  }
}
