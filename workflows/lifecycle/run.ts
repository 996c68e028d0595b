import { workflowInfo } from '@temporalio/workflow';
import { awaitAnchor } from './anchor';
import { awaitAdmissionApproval } from './approval';
import { monitorOnce } from './admitted';
import { close } from './closing';
import { enterContacts, awaitContacts } from './contacts';
import type { Lifecycle } from './context';
import { awaitEntity, enterEntityVerification } from './entity';

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
        await monitorOnce(lc);
        if (workflowInfo().continueAsNewSuggested && !lc.isClosed) return 'continue-as-new';
        break;
      default:
        return 'closed';
    }
  }
}
