import type { z } from 'zod';
import type { repositorySecurityPolicyView } from '../../api/repositories/security-policy-service.js';
import { card, command, html, type SafeHtml } from '../layout.js';

type RepositorySecurityPolicy = z.input<typeof repositorySecurityPolicyView>;

/**
 * The security policy in effect on a repository, read-only: it is changed with the CLI or the API
 * (the command is shown), where inheritance from the project is spelled out.
 */
export function securityPolicyCard(policy: RepositorySecurityPolicy): SafeHtml {
  const { effective } = policy;
  const allowed = effective.allowedVulnerabilities.map(
    (entry) => html`<code>${entry.id}</code>${entry.expires ? ` until ${entry.expires.slice(0, 10)}` : ''}`,
  );
  const exempt = effective.exemptPrincipals.map((member) => html`<code>${member}</code>`);
  const list = (items: SafeHtml[]) =>
    items.length > 0 ? items.map((item, i) => html`${i > 0 ? ', ' : ''}${item}`) : 'None';
  return card(
    'Security policy',
    html`<dl class="facts">
<dt>Block pulls at severity</dt><dd>${effective.blockSeverity ?? 'None'}</dd>
<dt>Block unscanned images</dt><dd>${effective.blockUnscanned ? 'Yes' : 'No'}</dd>
<dt>Allowed vulnerabilities</dt><dd>${list(allowed)}</dd>
<dt>Exempt principals</dt><dd>${list(exempt)} (owners of the repository are always exempt)</dd>
</dl>
<p class="hint">What applies, with the project's settings folded in. Change it with the CLI:</p>
${command('policy-command', `mistrive repos update ${policy.project}/${policy.repository} --block-severity HIGH`, 'Command to change the policy')}`,
  );
}
