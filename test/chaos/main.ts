import { parseArgs } from 'node:util';
import { FAULTS, runChaos, type Fault } from './chaos';

/**
 * `npm run chaos`: 200 LOW admissions over HTTP while the worker is killed
 * three times, Temporal and PostgreSQL are killed and restarted, the SMTP
 * server is away for 30 s and the web is killed mid-request (docs/chaos.md).
 */
const { values } = parseArgs({
  options: {
    admissions: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    faults: { type: 'string', default: 'worker,temporal,worker,postgres,smtp,web,worker' },
    'smtp-outage': { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    temporal: { type: 'string', default: process.env.ADMIT_TEMPORAL ?? 'dev' },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive whole number, not ${JSON.stringify(text)}`);
  return value;
}

const faults = values.faults
  .split(',')
  .map((f) => f.trim())
  .filter((f) => f !== '');
for (const fault of faults) {
  if (!(FAULTS as readonly string[]).includes(fault)) throw new Error(`unknown fault ${JSON.stringify(fault)}; use some of ${FAULTS.join(', ')}`);
}

if (values.temporal !== 'dev' && values.temporal !== 'cluster')
  throw new Error(`--temporal takes dev or cluster, not ${JSON.stringify(values.temporal)}`);
// On the cluster, one node is also killed while admissions run, unless the faults are given.
const defaultFaults = values.temporal === 'cluster' && !process.argv.some((a) => a.startsWith('--faults'));
if (defaultFaults) faults.splice(2, 0, 'temporal-node');

const report = await runChaos({
  temporal: values.temporal,
  admissions: positive('admissions', values.admissions),
  concurrency: positive('concurrency', values.concurrency),
  faults: faults as Fault[],
  smtpOutageMs: positive('smtp-outage', values['smtp-outage']) * 1000,
  keep: values.keep,
  progress: (message) => console.error(`chaos: ${message}`),
  // Ctrl-C stops every process the run started, as npm start does.
  onStack: (stack) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`chaos: ${signal}, stopping the stack…`);
        void stack.close().finally(() => process.exit(130));
      });
    }
  },
});

console.log(`\n${report.admitted}/${report.admissions} admitted in ${report.seconds.toFixed(0)}s`);
console.log(`admission time: p50 ${report.admissionSeconds.p50.toFixed(1)}s, max ${report.admissionSeconds.max.toFixed(1)}s`);
console.log(`audit chain: ${report.auditEvents} events verified`);
console.log('\nfaults:');
for (const line of report.faults) console.log(`  ${line}`);
for (const failure of report.failures) console.log(`FAILED ${failure.applicationId}: ${failure.error}`);
for (const violation of report.violations) console.log(`VIOLATION ${violation}`);
const passed = report.admitted === report.admissions && report.violations.length === 0;
console.log(passed ? '\nchaos: passed' : '\nchaos: FAILED');
process.exit(passed ? 0 : 1);
