import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker lifecycle chatter drowns test output; warnings and errors still show.
// One module, so that a test file importing several supports installs it once.
Runtime.install({ logger: new DefaultLogger('WARN') });
