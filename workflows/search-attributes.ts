import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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

export const STAGE_KEY = defineSearchAttributeKey('AdmitStage', SearchAttributeType.KEYWORD);
export const TIER_KEY = defineSearchAttributeKey('AdmitTier', SearchAttributeType.KEYWORD);
export const WAITING_FOR_KEY = defineSearchAttributeKey('AdmitWaitingFor', SearchAttributeType.KEYWORD);
