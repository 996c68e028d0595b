import { DEVELOPMENT_APPROVERS } from '../../activities/approvers';

/**
 * The seeded approvers the development identity provider signs in: the same
 * list the development seed enrols in the approver directory, so whoever signs
 * in here is someone the workflow knows. Their subject is `${issuer} ${sub}`;
 * on `npm start` the issuer is `http://localhost:3000/dev-idp`, which is what
 * the seed records.
 */
export interface DevelopmentAccount {
  sub: string;
  name: string;
  email: string;
  roles: readonly string[];
}

export const DEVELOPMENT_ACCOUNTS: readonly DevelopmentAccount[] = DEVELOPMENT_APPROVERS;
