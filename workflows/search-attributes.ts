/**
 * Custom search attributes that let operators list pending work in Temporal
 * ("every application waiting for an approver"). The dev server registers
 * them at start; a production cluster registers them once (see README).
 */
export const SEARCH_ATTRIBUTES = {
  AdmitStage: 'Keyword',
  AdmitTier: 'Keyword',
  AdmitWaitingFor: 'Keyword',
} as const;
