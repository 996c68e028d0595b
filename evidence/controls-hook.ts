import { controlsFor } from './controls';
import type { DossierEvent } from './dossier-format';

/**
 * The dossier's controls section (issue 12, item 4): `controlsFor(events)`
 * (evidence/controls.ts) maps the dossier's events to the OWASP NHI, NIST CSF
 * 2.0 and SP 800-207 controls they evidence, and says "not evidenced" where
 * none do. The section is inside the signed document.
 */
export type ControlsFor = (events: readonly DossierEvent[]) => unknown;

export async function loadControls(): Promise<ControlsFor> {
  return controlsFor;
}
