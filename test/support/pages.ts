/**
 * The review pages as the tests render them: every page names the same test organisation
 * (serverless.yml's stage local defaults), as every page of a deployed stage names its own.
 */
import * as pages from '../../shared/web/pages.js';
import type { Organisation } from '../../shared/domain/organisation.js';
import type { ConfirmationModel, RefusalModel, ReviewPageModel } from '../../shared/web/views.js';

export const TEST_ORGANISATION: Organisation = { name: 'Acme Bank model risk', contact: 'model-risk@acme-bank.example' };
/** The line that tops every page and ends every message for TEST_ORGANISATION. */
export const TRUST_LINE = 'Acme Bank model risk — questions about this message: model-risk@acme-bank.example';

export const renderReviewPage = (m: ReviewPageModel): string => pages.renderReviewPage(m, TEST_ORGANISATION);
export const renderConfirmation = (m: ConfirmationModel): string => pages.renderConfirmation(m, TEST_ORGANISATION);
export const renderRefusal = (m: RefusalModel): { status: number; body: string } => pages.renderRefusal(m, TEST_ORGANISATION);
export const renderNewLinkRequested = (): { status: number; body: string } => pages.renderNewLinkRequested(TEST_ORGANISATION);
