// The certification report as one self-contained HTML page: no script, no external style or font, so it opens from
// a mail attachment or a file share the same way, prints, and can be archived with the test. Every value is escaped.

import type { CertificationReport, MessageSummary, ProtocolResult, ScriptReport, Status } from './certify';
import type { AssertionResult, TestResult } from './testscript';
import type { StepTrace } from './run';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 76rem; padding: 0 1rem; color: #1d2430; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d5dbe3; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; } th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #e6e9ee; }
th { background: #f3f5f8; font-weight: 600; } code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre; margin: .3rem 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .7rem; font-size: 12px; font-weight: 600; }
.passed { background: #dcf5e3; color: #14642f; } .failed { background: #fde2e1; color: #a1201a; } .not-applicable { background: #eceff3; color: #4a5361; }
.verdict { font-size: 1.15rem; padding: .8rem 1rem; border-radius: .4rem; margin: 1rem 0; }
details { margin: .2rem 0 .8rem; } summary { cursor: pointer; color: #2458a6; }
.muted { color: #5d6673; } .ok { color: #14642f; } .bad { color: #a1201a; }
`;

export function renderReport(report: CertificationReport): string {
  const s = report.summary;
  const verdict = s.passed
    ? 'Every step the rules decide and all 44 TouchStone sender scripts passed.'
    : !report.touchstone
      ? "Not complete: MedCom's TouchStone sender scripts were not given (advis certify --touchstone DIR)."
      : 'Something failed: see the rows marked failed.';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>HospitalNotification sender test: certification report</title><style>${STYLE}</style></head><body>
<h1>HospitalNotification sender test</h1>
<p class="muted">MedCom's test protocol for the sending of a HospitalNotification (v3.0.5) and its TouchStone sender scripts, run by
${esc(report.engine.name)} ${esc(report.engine.version)} against this site's configuration on ${esc(report.generatedAt)}.</p>
<div class="verdict ${s.passed ? 'passed' : 'failed'}">${esc(verdict)}</div>
<table><tr><th>part</th><th>passed</th><th>failed</th><th>not applicable to this site</th></tr>
<tr><td>Test protocol steps the rules decide</td>${counts(s.protocol)}</tr>
<tr><td>TouchStone sender scripts (step 3.2.1)</td>${s.touchstone ? counts(s.touchstone) : '<td colspan="3">not run</td>'}</tr></table>

<h2>The site and the test</h2>
<table>${rows([
    ['hospitals', report.site.hospitals.join('<br>'), true],
    ['departments, municipalities', `${report.site.departments}, ${report.site.municipalities}`],
    ...Object.entries(report.cast).map(([k, v]): [string, string] => [k, v]),
    ['resends', `as ${report.resendAs === 'new-message' ? 'new messages (TouchStone PF-send-tec-03); set medcom out\u2019s "Resend as" the same for the test' : 'the same message'}`],
    ['MedCom profiles', report.profiles.join('<br>'), true],
  ])}</table>

<h2>Test protocol</h2>
<table><tr><th>step</th><th>what MedCom checks</th><th>expected</th><th>the engine gave</th><th>result</th></tr>
${report.protocol.map(protocolRow).join('\n')}
${report.elsewhere.map((e) => `<tr><td>${esc(e.step)}</td><td>${esc(e.what)}</td><td colspan="2" class="muted">${esc(e.elsewhere)}</td><td><span class="badge not-applicable">elsewhere</span></td></tr>`).join('\n')}
</table>
${report.protocol.filter((p) => p.steps.length).map((p) => detail(`${p.step} ${p.what}`, p.status, p.notes, p.steps, p.messages, [{ name: 'facts', assertions: p.assertions }])).join('\n')}

<h2>TouchStone sender scripts</h2>
${
    report.touchstone
      ? `<table><tr><th>script</th><th>title</th><th>messages</th><th>assertions</th><th>result</th></tr>
${report.touchstone.map(scriptRow).join('\n')}</table>
${report.touchstone.map((t) => detail(`${t.id.replace(/^hospitalnotification-/, '')} ${t.title}`, t.status, t.notes, t.steps, t.messages, t.tests)).join('\n')}`
      : `<p class="bad">Not run. Give MedCom's sender TestScripts with <code>--touchstone DIR</code> (the <code>TestScript-hospitalnotification-*send*.json</code> files of MedCom's repository dk-medcom-hospitalnotification-testscripts).</p>`
  }
</body></html>
`;
}

function counts(c: Record<Status, number>): string {
  return `<td>${c.passed}</td><td>${c.failed}</td><td>${c['not-applicable']}</td>`;
}

function badge(status: Status | string): string {
  return `<span class="badge ${esc(status)}">${esc(status)}</span>`;
}

function protocolRow(p: ProtocolResult): string {
  return `<tr id="step-${esc(p.step)}"><td>${esc(p.step)}</td><td>${esc(p.what)}</td><td>${esc(p.expectedOutcomes.join(', '))}</td><td>${
    p.status === 'not-applicable' ? `<span class="muted">${esc(p.notes.join('; '))}</span>` : esc(p.outcomes.join(', '))
  }</td><td>${badge(p.status)}</td></tr>`;
}

function scriptRow(t: ScriptReport): string {
  const all = t.tests.flatMap((x) => x.assertions);
  return `<tr><td><code>${esc(t.id.replace(/^hospitalnotification-/, ''))}</code></td><td>${esc(t.title)}</td><td>${esc(t.messages.map((m) => m.advis).join(', '))}</td><td>${all.filter((a) => a.passed).length} of ${all.length}</td><td>${badge(t.status)}</td></tr>`;
}

function detail(title: string, status: Status, notes: string[], steps: StepTrace[], messages: MessageSummary[], tests: Pick<TestResult, 'name' | 'assertions'>[]): string {
  return `<details><summary>${esc(title)} ${badge(status)}</summary>
${notes.length ? `<ul>${notes.map((n) => `<li class="${status === 'failed' ? 'bad' : 'muted'}">${esc(n)}</li>`).join('')}</ul>` : ''}
<h4>ADT fed</h4>
${steps.map((s) => (s.adt ? `<pre>${esc(s.adt)}</pre><p>→ ${esc(s.outcomes.join(', ') || 'nothing')}</p>` : `<p class="muted">time passes${s.outcomes.length ? ` → ${esc(s.outcomes.join(', '))}` : ''} (no acknowledgement, or a pre-registration falling due)</p>`)).join('\n')}
<h4>Messages that reached the receiver</h4>
<table><tr><th>advis</th><th>MessageHeader.id</th><th>sender → receiver</th><th>Encounter</th><th>episode</th><th>Provenance chain</th><th>validation</th></tr>
${messages.map(messageRow).join('\n')}</table>
${tests.map((t) => `<h4>${esc(t.name)}</h4>${assertionTable(t.assertions)}`).join('\n')}
</details>`;
}

function messageRow(m: MessageSummary): string {
  const e = m.encounter;
  const times = [e.start && `start ${e.start}`, e.end && `end ${e.end}`, e.leaveStart && `leave ${e.leaveStart}${e.leaveEnd ? ` – ${e.leaveEnd}` : ''}`].filter(Boolean).join('<br>');
  return `<tr><td><b>${esc(m.advis)}</b>${m.deceased !== undefined ? `<br><span class="muted">deceased ${m.deceased}</span>` : ''}</td><td><code>${esc(m.messageHeaderId)}</code></td><td>${esc(m.sender)} →<br>${esc(m.receiver)}</td><td>${esc(
    [e.class, e.status].filter(Boolean).join(', '),
  )}<br>${times}</td><td><code>${esc(m.episode ?? '')}</code></td><td>${m.provenance.map((p) => `${esc(p.activity ?? '')}${p.entity ? ` <span class="muted">(${esc(p.entity)})</span>` : ''}`).join('<br>')}</td><td>${
    m.valid ? `<span class="ok">valid</span>${m.warnings ? ` <span class="muted">(${m.warnings} warning${m.warnings > 1 ? 's' : ''})</span>` : ''}` : `<span class="bad">${m.errors.map(esc).join('<br>')}</span>`
  }</td></tr>`;
}

function assertionTable(assertions: AssertionResult[]): string {
  return `<table><tr><th>assertion</th><th>checked</th><th>gave</th><th>result</th></tr>${assertions
    .map((a) => `<tr><td>${esc(a.description)}</td><td><code>${esc(a.check)}</code></td><td><code>${esc(a.detail)}</code></td><td>${badge(a.passed ? 'passed' : a.warningOnly ? 'not-applicable' : 'failed')}</td></tr>`)
    .join('')}</table>`;
}

/** Rows of label and value; the value is escaped unless it is built here from escaped parts (`raw`). */
function rows(pairs: ([string, string] | [string, string, boolean])[]): string {
  return pairs.map(([k, v, raw]) => `<tr><th>${esc(k)}</th><td>${raw ? v.split('<br>').map(esc).join('<br>') : esc(v)}</td></tr>`).join('');
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
