import { allHandlersFinished, patched, workflowInfo } from '@temporalio/workflow';
import { awaitAnchor } from './anchor';
import { awaitAdmissionApproval } from './approval';
import { monitorOnce } from './admitted';
import { close } from './closing';
import { enterContacts, awaitContacts } from './contacts';
import type { Lifecycle } from './context';
import { awaitEntity, enterEntityVerification } from './entity';
import { MONITORING_RUN_EVENTS, PATCHES } from './state';

/**
 * The main loop: the one place that moves a lifecycle between stages. Each
 * stage waits (outside the mutex) for its messages or timers, then acts
 * (inside it), so handlers only ever see the state between two steps.
 */
export async function run(lc: Lifecycle): Promise<'closed' | 'continue-as-new'> {
  if (lc.state.stage === 'REGISTERING') {
    // An organisation event that arrived while registering ends the lifecycle before anyone is mailed.
    if (!(lc.serialised && lc.internal.termination !== null)) {
      await lc.exclusive(() => (lc.verifiesEntity ? enterEntityVerification(lc, lc.firstEnrolment) : enterContacts(lc)));
    }
  }
  for (;;) {
    if (lc.isClosed) return 'closed';
    // Only the main loop closes, so nothing it is doing can race the revocation.
    const termination = lc.internal.termination;
    if (termination !== null) {
      await lc.exclusive(() => close(lc, termination));
      return 'closed';
    }
    switch (lc.state.stage) {
      case 'VERIFYING_ENTITY':
        await awaitEntity(lc);
        break;
      case 'AWAITING_CONTACTS':
        await awaitContacts(lc);
        break;
      case 'AWAITING_ANCHOR':
        await awaitAnchor(lc);
        break;
      case 'AWAITING_APPROVAL':
        await awaitAdmissionApproval(lc);
        break;
      case 'ADMITTED':
      case 'SUSPENDED':
        if (monitoringRunIsLong(lc)) return 'continue-as-new';
        await monitorOnce(lc);
        if (workflowInfo().continueAsNewSuggested && !lc.isClosed) return 'continue-as-new';
        break;
      default:
        return 'closed';
    }
  }
}

/**
 * A long run hands over only while no handler is running: one may be waiting
 * for this loop (a rotation that reinstates answers once the loop has
 * reinstated), so it gets its turn first. The patch is asked only once a run
 * is long, so a run that never gets there records no marker.
 */
function monitoringRunIsLong(lc: Lifecycle): boolean {
  return lc.serialised && workflowInfo().historyLength > MONITORING_RUN_EVENTS && allHandlersFinished() && patched(PATCHES.shortMonitoringRuns);
}
