import type pg from 'pg';

/** The scratch table the bare activities write to, in the registry's database. */
export const BARE_TABLE = 'bench_bare_step';

export async function createBareTable(pool: pg.Pool): Promise<void> {
  await pool.query(
    `create table if not exists ${BARE_TABLE} (id bigserial primary key, workflow_id text not null, step int not null, type text not null, at timestamptz not null default now())`,
  );
  await pool.query(`create index if not exists ${BARE_TABLE}_workflow on ${BARE_TABLE} (workflow_id)`);
}

export interface BareActivities {
  /** One single-row INSERT: the whole of a bare activity. */
  insertStep(input: { workflowId: string; step: number; type: string }): Promise<void>;
}

export function bareActivities(pool: pg.Pool): BareActivities {
  return {
    async insertStep({ workflowId, step, type }) {
      await pool.query(`insert into ${BARE_TABLE} (workflow_id, step, type) values ($1, $2, $3)`, [workflowId, step, type]);
    },
  };
}
