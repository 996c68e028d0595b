import type { Registry } from '../registry/client';
import { maskEmail } from '../domain/email-domain';

/** Application ids as domain/identity.ts makes them; anything else is not looked up. */
export const APPLICATION_ID = /^app-[a-z0-9]{20}-[a-z0-9-]{2,80}-(sandbox|production)$/;

export { maskEmail };

export interface RegistryView {
  organisation: { id: string; legalName: string; lei: string; jurisdiction: string; primaryDomain: string; status: string };
  application: {
    name: string;
    environment: string;
    purpose: string;
    requestedScopes: string[];
    dataSensitivity: string;
    regulatedSector: boolean;
    strategic: boolean;
    expectedMonthlyCalls: number;
    contractEndDate: string;
    status: string;
    createdAt: string;
  };
  /** Contact details are personal data; views show only a masked address and whether they confirmed. */
  contacts: { role: string; name: string; email: string; confirmed: boolean }[];
}

export async function readRegistryRecord(registry: Registry, applicationId: string): Promise<RegistryView | null> {
  const record = await registry.application.findUnique({
    where: { id: applicationId },
    include: { organisation: true, contacts: { orderBy: { role: 'asc' } } },
  });
  if (record === null) return null;
  return {
    organisation: {
      id: record.organisation.id,
      legalName: record.organisation.legalName,
      lei: record.organisation.lei,
      jurisdiction: record.organisation.jurisdiction,
      primaryDomain: record.organisation.primaryDomain,
      status: record.organisation.status,
    },
    application: {
      name: record.name,
      environment: record.environment,
      purpose: record.purpose,
      requestedScopes: record.requestedScopes,
      dataSensitivity: record.dataSensitivity,
      regulatedSector: record.regulatedSector,
      strategic: record.strategic,
      expectedMonthlyCalls: record.expectedMonthlyCalls,
      contractEndDate: record.contractEndDate.toISOString().slice(0, 10),
      status: record.status,
      createdAt: record.createdAt.toISOString(),
    },
    contacts: record.contacts.map((c) => ({ role: c.role, name: c.name, email: maskEmail(c.email), confirmed: c.confirmedAt !== null })),
  };
}
