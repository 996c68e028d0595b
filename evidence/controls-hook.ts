import type { DossierEvent } from './dossier-format';

/**
 * The dossier's controls section (issue 12, item 4) comes from
 * `evidence/controls.ts`, built separately: its `controlsFor(events)` maps
 * the dossier's events to the OWASP NHI, NIST CSF 2.0 and SP 800-207 controls
 * they evidence. Until that file is in the tree the section is null.
 * MERGE NOTE: once evidence/controls.ts lands, import it statically here.
 */
export type ControlsFor = (events: readonly DossierEvent[]) => unknown;

export async function loadControls(): Promise<ControlsFor | undefined> {
  const specifier = './controls.ts';
  try {
    const module = (await import(specifier)) as { controlsFor?: unknown };
    return typeof module.controlsFor === 'function' ? (module.controlsFor as ControlsFor) : undefined;
  } catch {
    return undefined;
  }
}
